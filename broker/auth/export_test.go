package auth

// SetCheap sets user's password with few iterations, to keep tests fast.
func (p *Passwords) SetCheap(user, password string) error {
	enc, err := hashIter(password, 100)
	if err != nil {
		return err
	}
	h, err := parseHash(enc)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.users[user], p.raw[user] = h, enc
	p.mu.Unlock()
	return nil
}
