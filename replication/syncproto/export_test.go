package syncproto

import "fmt"

// SetLossy makes a session take its peer's messages as a lossy transport
// delivers them (Config.Lossy), for a harness whose faults decide it
// after the session started.
func SetLossy(s *Session) { s.cfg.Lossy = true }

// BlobDebug renders the blob lane's state, for the harness to print when a
// pump does not settle.
func (s *Session) BlobDebug() string {
	b := &s.blobSend
	out := fmt.Sprintf("send status=%v queue=%d offer=%d waiting=%d pause=%d asked=%d inflight=%d; ", b.status, len(b.queue), len(b.offer), b.waiting, b.pause, b.asked, b.inflight())
	for _, q := range b.queue {
		out += fmt.Sprintf("[%s wanted=%v next=%d acked=%d] ", q.id, q.wanted, q.next, q.acked)
	}
	r := &s.blobRecv
	out += fmt.Sprintf("| recv accepted=%d pending=%d writing=%v answers=%d", len(r.accepted), len(r.pending), r.writing != nil, len(r.answers))
	for h, a := range r.accepted {
		out += fmt.Sprintf(" {%s next=%d}", h.Short(), a.next)
	}
	out += fmt.Sprintf(" idle=%v inflight=%d", s.Idle(), len(s.inflight))
	return out
}
