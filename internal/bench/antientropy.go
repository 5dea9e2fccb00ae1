package bench

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"fieldsync/internal/linkemu"
	"fieldsync/replication"
	"fieldsync/replication/oplog"
	"fieldsync/replication/oplog/oplogtest"
	"fieldsync/replication/syncnet"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
	"fieldsync/storage"
)

// AntiEntropyResult is the cost of one sync round between two replicas
// that already hold the same entries.
type AntiEntropyResult struct {
	Origins         int     `json:"origins"`
	EntriesPerOrig  int     `json:"entries_per_origin"`
	Entries         int     `json:"entries"`
	Rounds          int     `json:"rounds"`
	WireBytes       float64 `json:"wire_bytes_per_round"` // both directions, headers included
	CPUMillis       float64 `json:"cpu_ms_per_round"`     // both sides, user+system
	BytesPerOrigin  float64 `json:"wire_bytes_per_origin"`
	BuildSeconds    float64 `json:"build_seconds"`
	EntriesSentBack int     `json:"entries_sent"` // must be 0: nothing to exchange
}

// AntiEntropy builds two hub logs holding the same origins×perOrigin
// entries, then runs rounds sync sessions between them over loopback and
// measures the wire bytes and CPU per round. An in-sync pair exchanges
// hello and summary: the cost must follow the number of origins, not of
// entries.
func AntiEntropy(dir string, origins, perOrigin, rounds int) (AntiEntropyResult, error) {
	res := AntiEntropyResult{Origins: origins, EntriesPerOrig: perOrigin, Entries: origins * perOrigin, Rounds: rounds}
	start := time.Now()
	a, b, err := twinLogs(dir, origins, perOrigin)
	if err != nil {
		return res, err
	}
	defer a.Close()
	defer b.Close()
	res.BuildSeconds = time.Since(start).Seconds()
	link := linkemu.NewLink(linkemu.Perfect)
	cpu0 := cpuTime()
	for range rounds {
		sent, err := oneRound(a, b, link)
		if err != nil {
			return res, err
		}
		res.EntriesSentBack += sent
	}
	res.CPUMillis = (cpuTime() - cpu0).Seconds() * 1000 / float64(rounds)
	res.WireBytes = float64(link.Stats().WireBytes()) / float64(rounds)
	res.BytesPerOrigin = res.WireBytes / float64(origins)
	return res, nil
}

// twinLogs builds one hub log and copies its directory for the twin.
func twinLogs(dir string, origins, perOrigin int) (*storage.Log, *storage.Log, error) {
	pa, pb := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	a, err := storage.OpenLog(storage.Options{Dir: pa, Profile: storage.ProfileHub})
	if err != nil {
		return nil, nil, err
	}
	if err := fill(a, origins, perOrigin); err != nil {
		a.Close()
		return nil, nil, err
	}
	a.Close()
	if out, err := exec.Command("cp", "-r", pa, pb).CombinedOutput(); err != nil {
		return nil, nil, fmt.Errorf("bench: copy log: %v: %s", err, out)
	}
	if a, err = storage.OpenLog(storage.Options{Dir: pa, Profile: storage.ProfileHub}); err != nil {
		return nil, nil, err
	}
	b, err := storage.OpenLog(storage.Options{Dir: pb, Profile: storage.ProfileHub})
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, b, nil
}

// fill ingests origins chains of perOrigin entries each (small payloads,
// signatures at checkpoints and at the end, as replicas hold them).
func fill(l oplog.Log, origins, perOrigin int) error {
	for o := range origins {
		s := oplogtest.NewSigner(uint64(o + 1))
		chain := oplogtest.Chain(s, perOrigin-1, fmt.Sprint(o))
		for i := range chain[:len(chain)-1] {
			if chain[i].Seq%64 != 0 && chain[i].Seq != 1 {
				chain[i].Sig = nil
			}
		}
		for len(chain) > 0 {
			n := min(len(chain), oplog.MaxIngestEntries)
			if _, err := l.Ingest(chain[:n], nil); err != nil {
				return err
			}
			chain = chain[n:]
		}
	}
	return nil
}

// oneRound runs one session between a (dialing) and b; it returns the
// entries sent, which for twins must be none.
func oneRound(a, b oplog.Log, link *linkemu.Link) (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	codec, err := wire.NewStreamCodec(wire.DefaultLimits())
	if err != nil {
		return 0, err
	}
	opts := func(l oplog.Log, name string) syncnet.Options {
		return syncnet.Options{Proto: syncproto.DefaultConfig(wire.Hello{Role: string(replication.RoleHub), Tier: "district", Node: name}),
			Log: l, Codec: codec, IdleTimeout: 50 * time.Millisecond, TickEvery: 20 * time.Millisecond}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan syncnet.Result, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- syncnet.Result{}
			return
		}
		res, _ := syncnet.Run(ctx, conn, opts(b, "b"))
		done <- res
	}()
	conn, err := link.Dialer(&net.Dialer{})(ctx, "tcp", ln.Addr().String())
	if err != nil {
		return 0, err
	}
	ra, err := syncnet.Run(ctx, conn, opts(a, "a"))
	rb := <-done
	return ra.Proto.EntriesSent + rb.Proto.EntriesSent, err
}

// cpuTime is this process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
