//go:build !linux

package broker

import "errors"

// Without epoll no connection parks: each keeps its read goroutine.
type reactor struct{}

func newReactor(*Server) (*reactor, error) {
	return nil, errors.New("broker: no poller on this system")
}
func (r *reactor) start(*Server) bool { return false }
func (r *reactor) wakeAll()           {}
func (r *reactor) park(*conn) bool    { return false }
func (r *reactor) close()             {}
