package broker

// CertUsers returns the certificate usernames (conn.certUser) of the open
// network connections that have one, for tests of
// Listener.UseIdentityAsUsername until the CONNECT handling exposes it.
func (s *Server) CertUsers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for c := range s.conns {
		if c.certUser != "" {
			out = append(out, c.certUser)
		}
	}
	return out
}
