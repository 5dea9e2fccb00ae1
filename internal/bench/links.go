package bench

import (
	"context"
	"net"
	"time"

	"fieldsync/internal/linkemu"
	"fieldsync/replication"
)

// benchLink is the link a dossier scenario runs over: the userspace
// emulator in emulated time (emuLink), or a real shaped link between two
// network namespaces (netnsLink, Linux and root only).
type benchLink interface {
	// Clock is the time the runtime runs on; Start is when the link came
	// up (what every figure counts from).
	Clock() replication.Clock
	Start() time.Time
	// Listen opens the hub's side, Dial the laptop's.
	Listen() (net.Listener, error)
	Dial(ctx context.Context, addr string) (net.Conn, error)
	Stats() linkStats
	Close() error
}

// linkStats counts what crossed a link. Up is laptop to hub.
type linkStats struct {
	Up, Down    int64 // wire bytes, headers included
	Retransmits int64 // bytes sent again by TCP (emulator only)
	Payload     int64 // up payload bytes, retransmissions included (emulator only)
	Cuts        int64 // connections the link broke
}

// emuLink is the link emulator on a TimeLapse clock.
type emuLink struct {
	link  *linkemu.Link
	clock *linkemu.TimeLapse
	start time.Time
}

func newEmuLink(cfg DossierConfig, sc DossierScenario) *emuLink {
	clock := linkemu.NewTimeLapse(cfg.Speedup)
	p := linkemu.Bench128k
	p.RateBitsPerSec, p.RTT, p.Loss, p.Schedule = cfg.Rate, cfg.RTT, sc.Loss, sc.Schedule
	return &emuLink{link: linkemu.NewLink(p, linkemu.WithSeed(7), linkemu.WithClock(clock)), clock: clock, start: clock.Now()}
}

func (l *emuLink) Clock() replication.Clock      { return l.clock }
func (l *emuLink) Start() time.Time              { return l.start }
func (l *emuLink) Listen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
func (l *emuLink) Close() error                  { return nil }

func (l *emuLink) Dial(ctx context.Context, addr string) (net.Conn, error) {
	return l.link.Dialer(&net.Dialer{})(ctx, "tcp", addr)
}

func (l *emuLink) Stats() linkStats {
	st := l.link.Stats()
	return linkStats{Up: st.Up.WireBytes, Down: st.Down.WireBytes, Retransmits: st.Up.RetransmitBytes + st.Down.RetransmitBytes,
		Payload: st.Up.PayloadBytes + st.Up.RetransmitBytes, Cuts: st.ConnsBroken}
}
