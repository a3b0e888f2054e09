package auth

// SetCheap sets user's password with few iterations, to keep tests fast.
func (p *Passwords) SetCheap(user, password string) error {
	enc, err := hashIter(password, 100)
	if err != nil {
		return err
	}
	return p.setEncoded(user, enc)
}
