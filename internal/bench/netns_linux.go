package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"fieldsync/internal/linkemu"
	"fieldsync/replication"
)

// netnsLink is a real shaped link: two network namespaces joined by a veth
// pair, each end shaped by `tc tbf` at the link rate (the kernel's token
// bucket: real TCP, real queues, real retransmissions; no added delay —
// tc netem is not available here). The laptop's side dials from the first
// namespace, the hub listens in the second; the rest of the benchmark
// runs in the host namespace (a socket stays in the namespace it was
// created in). A cut follows the scenario's schedule: while the link is
// down, nft rejects every TCP packet of both namespaces with a reset, so
// the connections in flight break and redials fail at once, as a 2G
// modem losing its data session does (and as the emulator models cuts).
type netnsLink struct {
	name       [2]string // namespaces: laptop side, hub side
	dev        [2]string
	addr       [2]string
	start      time.Time
	cuts       atomic.Int64
	stop       chan struct{}
	done       sync.WaitGroup
	downMu     sync.Mutex
	down       bool
	baseUp     int64
	baseDown   int64
	statsError error
}

// netnsAvailable says why the real-link scenarios cannot run here, or "".
func netnsAvailable() string {
	if os.Geteuid() != 0 {
		return "needs root (network namespaces, tc, nft)"
	}
	for _, tool := range []string{"ip", "tc", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Sprintf("needs %s (Debian: iproute2, nftables)", tool)
		}
	}
	return ""
}

// newNetnsLink builds the namespaces and the shaped veth pair.
func newNetnsLink(cfg DossierConfig, sc DossierScenario) (*netnsLink, error) {
	if why := netnsAvailable(); why != "" {
		return nil, fmt.Errorf("bench: the real link %s", why)
	}
	tag := fmt.Sprintf("%d", os.Getpid()%100000)
	l := &netnsLink{name: [2]string{"fsb-lap-" + tag, "fsb-hub-" + tag}, dev: [2]string{"fsbl" + tag, "fsbh" + tag},
		addr: [2]string{"10.88.0.1", "10.88.0.2"}, stop: make(chan struct{})}
	rate := fmt.Sprintf("%dbit", cfg.Rate)
	// A bucket of two full frames and a queue of about a second at the
	// rate: a modem's buffer, not a bufferbloat of minutes.
	queue := fmt.Sprintf("%dms", 1000)
	steps := [][]string{
		{"netns", "add", l.name[0]},
		{"netns", "add", l.name[1]},
		{"link", "add", l.dev[0], "netns", l.name[0], "type", "veth", "peer", "name", l.dev[1], "netns", l.name[1]},
		{"-n", l.name[0], "addr", "add", l.addr[0] + "/24", "dev", l.dev[0]},
		{"-n", l.name[1], "addr", "add", l.addr[1] + "/24", "dev", l.dev[1]},
		{"-n", l.name[0], "link", "set", l.dev[0], "up"},
		{"-n", l.name[1], "link", "set", l.dev[1], "up"},
		{"-n", l.name[0], "link", "set", "lo", "up"},
		{"-n", l.name[1], "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if err := run("ip", s...); err != nil {
			l.Close()
			return nil, err
		}
	}
	for i := range 2 {
		if err := run("ip", "netns", "exec", l.name[i], "tc", "qdisc", "add", "dev", l.dev[i], "root", "tbf", "rate", rate, "burst", "3028", "latency", queue); err != nil {
			l.Close()
			return nil, err
		}
	}
	up, down, err := l.counters()
	if err != nil {
		l.Close()
		return nil, err
	}
	l.baseUp, l.baseDown = up, down
	l.start = time.Now()
	if sc.Schedule != nil {
		l.done.Add(1)
		go l.follow(sc.Schedule)
	}
	return l, nil
}

func run(name string, args ...string) error {
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("bench: %s %v: %v: %s", name, args, err, out)
	}
	return nil
}

// follow cuts and heals the link on the schedule.
func (l *netnsLink) follow(s linkemu.Schedule) {
	defer l.done.Done()
	for {
		up, next := s.At(time.Since(l.start))
		l.setDown(!up)
		if next == linkemu.Forever {
			return
		}
		select {
		case <-l.stop:
			l.setDown(false)
			return
		case <-time.After(next - time.Since(l.start)):
		}
	}
}

// setDown rejects (or again passes) every TCP packet in both namespaces.
func (l *netnsLink) setDown(down bool) {
	l.downMu.Lock()
	defer l.downMu.Unlock()
	if down == l.down {
		return
	}
	l.down = down
	for _, ns := range l.name {
		if down {
			l.statsError = errors.Join(l.statsError, run("ip", "netns", "exec", ns, "nft", "add table inet fsbcut; add chain inet fsbcut in { type filter hook input priority 0; }; add rule inet fsbcut in tcp flags != rst reject with tcp reset"))
		} else {
			l.statsError = errors.Join(l.statsError, run("ip", "netns", "exec", ns, "nft", "delete table inet fsbcut"))
		}
	}
	if down {
		l.cuts.Add(1)
	}
}

// inNetns runs fn on a thread moved into namespace ns: sockets fn creates
// belong to it.
func inNetns(ns string, fn func() error) error {
	runtime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer self.Close()
	target, err := os.Open("/var/run/netns/" + ns)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("bench: setns %s: %w", ns, err)
	}
	ferr := fn()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("bench: setns back: %w", err) // the thread stays locked and dies with the goroutine
	}
	runtime.UnlockOSThread()
	return ferr
}

func (l *netnsLink) Clock() replication.Clock { return replication.RealClock{} }
func (l *netnsLink) Start() time.Time         { return l.start }

func (l *netnsLink) Listen() (ln net.Listener, err error) {
	err = inNetns(l.name[1], func() error {
		ln, err = net.Listen("tcp", l.addr[1]+":0")
		return err
	})
	return ln, err
}

func (l *netnsLink) Dial(ctx context.Context, addr string) (c net.Conn, err error) {
	err = inNetns(l.name[0], func() error {
		var d net.Dialer
		c, err = d.DialContext(ctx, "tcp", addr)
		return err
	})
	return c, err
}

// counters reads the laptop end's transmitted and received bytes
// (Ethernet frames: IP, TCP and 14 bytes of Ethernet header each).
func (l *netnsLink) counters() (int64, int64, error) {
	out, err := exec.Command("ip", "-n", l.name[0], "-s", "-j", "link", "show", "dev", l.dev[0]).Output()
	if err != nil {
		return 0, 0, fmt.Errorf("bench: link counters: %w", err)
	}
	var links []struct {
		Stats struct {
			RX struct {
				Bytes int64 `json:"bytes"`
			} `json:"rx"`
			TX struct {
				Bytes int64 `json:"bytes"`
			} `json:"tx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
		return 0, 0, fmt.Errorf("bench: link counters: %v", err)
	}
	return links[0].Stats.TX.Bytes, links[0].Stats.RX.Bytes, nil
}

func (l *netnsLink) Stats() linkStats {
	up, down, err := l.counters()
	if err != nil {
		return linkStats{}
	}
	return linkStats{Up: up - l.baseUp, Down: down - l.baseDown, Cuts: l.cuts.Load()}
}

// Close stops the schedule and removes the namespaces (and with them the
// veth pair, the qdiscs and the rules).
func (l *netnsLink) Close() error {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.done.Wait()
	var err error
	for _, ns := range l.name {
		if ns != "" {
			err = errors.Join(err, run("ip", "netns", "del", ns))
		}
	}
	return errors.Join(err, l.statsError)
}
