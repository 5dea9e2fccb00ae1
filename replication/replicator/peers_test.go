package replicator

import (
	"testing"
	"time"

	"fieldsync/replication/syncnet"
	"fieldsync/replication/syncproto"
)

// TestPeerTotalsMoveDuringSession: a session's bytes and entries reach the
// peer's totals while it runs (hubs keep theirs open for days), each byte
// once, and a long busy session yields a rate before it ends.
func TestPeerTotalsMoveDuringSession(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	at := func(d time.Duration, in, out int64, applied, sent int) syncnet.Progress {
		return syncnet.Progress{Started: t0, LastRecv: t0.Add(d), BytesIn: in, BytesOut: out,
			Proto: syncproto.Stats{EntriesApplied: applied, EntriesSent: sent}}
	}
	p := &PeerStatus{Name: "hub-province", BytesIn: 1000, EntriesIn: 10} // from earlier sessions
	var tally sessionTally
	type step struct {
		pr               syncnet.Progress
		wantIn, wantOut  int64
		wantEntriesIn    int
		wantRatePositive bool
	}
	steps := []step{
		{at(time.Second, 500, 100, 3, 0), 1500, 100, 13, false},
		{at(2*time.Second, 900, 150, 5, 1), 1900, 150, 15, false},
	}
	// 6 minutes of steady traffic, a message every 10 s: a rate window
	// closes at 5 min.
	for s := 10 * time.Second; s <= 6*time.Minute; s += 10 * time.Second {
		f := float64(s) / float64(6*time.Minute)
		in, out, n := int64(f*3_000_000), int64(f*20_000), int(f*8995)
		steps = append(steps, step{at(s, 900+in, 150+out, 5+n, 1), 1900 + in, 150 + out, 15 + n, s >= rateWindow})
	}
	for i, st := range steps {
		p.observe(st.pr, &tally, st.pr.LastRecv)
		if p.BytesIn != st.wantIn || p.BytesOut != st.wantOut || p.EntriesIn != st.wantEntriesIn || (p.RateBytesPerSec > 0) != st.wantRatePositive {
			t.Fatalf("step %d: in %d out %d entries %d rate %.0f; want %d %d %d rate>0 %v", i, p.BytesIn, p.BytesOut, p.EntriesIn,
				p.RateBytesPerSec, st.wantIn, st.wantOut, st.wantEntriesIn, st.wantRatePositive)
		}
	}
	// The window from the start to 5 min moved ~3,020,000 x 5/6 bytes.
	if want := 3_020_000.0 * 5 / 6 / 300; p.RateBytesPerSec < want*0.99 || p.RateBytesPerSec > want*1.01 {
		t.Errorf("rate %.1f B/s, want ~%.1f", p.RateBytesPerSec, want)
	}
	// The end adds only what came after the last progress.
	end := at(6*time.Minute+time.Second, 3_001_000, 20_150, 9001, 1)
	p.finish(syncnet.Result{Progress: end, Ended: end.LastRecv, Complete: true}, &tally, nil)
	if p.BytesIn != 3_002_000 || p.EntriesIn != 9011 || p.Sessions != 1 || p.Connected {
		t.Errorf("after finish: in %d entries %d sessions %d connected %v", p.BytesIn, p.EntriesIn, p.Sessions, p.Connected)
	}
}

// TestRateIgnoresIdlePause: bytes before a long pause are rated over the
// time they took, not over the pause.
func TestRateIgnoresIdlePause(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	p := &PeerStatus{}
	var tally sessionTally
	for _, pr := range []syncnet.Progress{
		{Started: t0, LastRecv: t0.Add(time.Second), BytesIn: 10_000},
		{Started: t0, LastRecv: t0.Add(10 * time.Second), BytesIn: 100_000},
		{Started: t0, LastRecv: t0.Add(2 * time.Minute), BytesIn: 100_100}, // after 110 s idle
	} {
		p.observe(pr, &tally, pr.LastRecv)
	}
	if want := 100_000.0 / 10; p.RateBytesPerSec != want {
		t.Errorf("rate %.0f B/s, want %.0f (the pause excluded)", p.RateBytesPerSec, want)
	}
}

// TestBatchBytesFollowTheLink: batches shrink to about 2 s of the rate
// observed on a thin link, never below the protocol's floor, and stay at
// the configured bound on a fast or unknown link.
func TestBatchBytesFollowTheLink(t *testing.T) {
	r := &Replicator{peers: &peerTable{byName: map[string]*PeerStatus{}}}
	r.peers.get("thin").RateBytesPerSec = 16_000 // 128 kbit/s
	r.peers.get("edge").RateBytesPerSec = 4_000  // 32 kbit/s
	r.peers.get("lan").RateBytesPerSec = 10e6
	r.peers.get("new")
	for _, c := range []struct {
		peer string
		want int
	}{
		{"thin", 16_000 * batchSeconds * batchRatio},
		{"edge", minBatchBytes},
		{"lan", 0},
		{"new", 0},
		{"", 0},
		{"unknown", 0},
	} {
		if got := r.batchBytesFor(c.peer); got != c.want {
			t.Errorf("batchBytesFor(%q) = %d, want %d", c.peer, got, c.want)
		}
	}
}
