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

// FireStaleWillTimer runs what the will timer of clientID's session that
// the last stop voided would run had it fired just before that stop (its
// callback queued, then run late).
func (s *Server) FireStaleWillTimer(clientID string) {
	s.mu.Lock()
	ss := s.sessions[clientID]
	s.mu.Unlock()
	ss.mu.Lock()
	gen := ss.willGen - 1
	ss.mu.Unlock()
	s.willTimerFired(ss, gen)
}
