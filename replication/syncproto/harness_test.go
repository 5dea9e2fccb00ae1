package syncproto_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/blob/needs"
	"fieldsync/replication/oplog"
	"fieldsync/replication/oplog/oplogtest"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

var codec = func() *wire.Codec {
	c, err := wire.NewCodec(wire.DefaultLimits())
	if err != nil {
		panic(err)
	}
	return c
}()

// replica is a log with an identity.
type replica struct {
	name   string
	role   replication.Role
	log    *oplog.Mem
	signer *replication.KeySigner
	hlc    replication.HLCState
	events []syncproto.Event
	tier   string
	// The blob lane (blob_test.go), when blobs is set.
	blobs   *blob.Mem
	needs   *needs.Index
	writers map[*syncproto.Session]*syncproto.BlobWriters
	blobCfg func(*syncproto.BlobConfig)
}

func newReplica(name string, role replication.Role, seed uint64) *replica {
	r := &replica{name: name, role: role, log: oplog.NewMem(), signer: oplogtest.NewSigner(seed)}
	g := oplogtest.GenesisDraft(r.signer)
	g.Payload = []byte(fmt.Sprintf(`{"public_key":%q,"epoch":%d,"role":%q,"unit":"18586"}`, b64(r.signer.PublicKey()), r.signer.Epoch(), role))
	if _, err := r.log.Append(r.signer, []replication.Draft{g}); err != nil {
		panic(err)
	}
	return r
}

// capture appends n enrollment-like entries of about 600 bytes.
func (r *replica) capture(t *testing.T, n int) {
	t.Helper()
	for n > 0 {
		k := min(n, oplog.MaxAppendDrafts)
		ds := make([]replication.Draft, k)
		for i := range ds {
			ds[i] = replication.Draft{Kind: replication.KindEnroll, Schema: 1, HLC: r.hlc.Next(testTime), Payload: enrollPayload(r.name, i+n)}
		}
		if _, err := r.log.Append(r.signer, ds); err != nil {
			t.Fatal(err)
		}
		n -= k
	}
}

func (r *replica) session(t *testing.T) *syncproto.Session {
	t.Helper()
	cfg := syncproto.DefaultConfig(wire.Hello{Role: string(r.role), Node: r.name, Origin: r.signer.Origin(), Tier: r.tier})
	cfg.RetransmitTicks = 3
	if r.blobs != nil {
		cfg.Blobs = &syncproto.BlobConfig{Store: r.blobs, Refs: testRefs, Needs: r.needs}
		if r.blobCfg != nil {
			r.blobCfg(cfg.Blobs)
		}
	}
	s, err := syncproto.NewSession(cfg, r.log)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// faults apply to messages between two sessions.
type faults struct {
	rng     *rand.Rand
	drop    float64
	dup     float64
	reorder float64
	// cutAfterBytes breaks the link once this many frame bytes crossed it.
	cutAfterBytes int
	// mutate, if set, may replace a frame on the link (a tampering link).
	mutate func(m wire.Message, frame []byte) []byte
}

// wireStats counts what crossed the link.
type wireStats struct {
	frames, bytes int
	cut           bool
}

// pump runs two sessions against each other until both are idle (or the
// link is cut), passing every message through the real codec.
func pump(t *testing.T, a, b *replica, sa, sb *syncproto.Session, f *faults) wireStats {
	t.Helper()
	var st wireStats
	if f != nil && f.rng != nil { // the link may lose, duplicate, reorder
		syncproto.SetLossy(sa)
		syncproto.SetLossy(sb)
	}
	queues := [2][][]byte{}
	ends := [2]*syncproto.Session{sa, sb}
	reps := [2]*replica{a, b}
	for round := 0; round < 100000; round++ {
		moved := false
		for i := range 2 {
			rd, err := ends[i].Ready()
			if err != nil {
				t.Fatalf("%s ready: %v", reps[i].name, err)
			}
			reps[i].events = append(reps[i].events, rd.Events...)
			for _, m := range rd.Messages {
				frame, err := codec.AppendFrame(nil, m)
				if err != nil {
					t.Fatalf("%s encode %T: %v", reps[i].name, m, err)
				}
				st.frames++
				st.bytes += len(frame)
				if f != nil && f.cutAfterBytes > 0 && st.bytes > f.cutAfterBytes {
					st.cut = true
					return st
				}
				if f != nil && f.mutate != nil {
					frame = f.mutate(m, frame)
				}
				queues[1-i] = deliver(queues[1-i], frame, f)
				moved = true
			}
			if rd.Persist != nil {
				res, err := reps[i].log.Ingest(rd.Persist.Entries, nil)
				if err := ends[i].Persisted(res, err); err != nil {
					t.Fatalf("%s persisted: %v", reps[i].name, err)
				}
				moved = true
			}
			if reps[i].applyBlobs(t, ends[i], rd) {
				moved = true
			}
		}
		for i := range 2 {
			for len(queues[i]) > 0 {
				frame := queues[i][0]
				queues[i] = queues[i][1:]
				m, _, err := codec.DecodeFrame(frame)
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if err := ends[i].Step(m); err != nil {
					t.Fatalf("%s step: %v", reps[i].name, err)
				}
				moved = true
			}
		}
		if !moved {
			if sa.Idle() && sb.Idle() && (f == nil || f.drop == 0) {
				return st
			}
			sa.Tick()
			sb.Tick()
			if round > 99000 {
				t.Logf("%s: %s", a.name, sa.BlobDebug())
				t.Logf("%s: %s", b.name, sb.BlobDebug())
				t.Fatal("no convergence")
			}
			if f != nil && f.drop > 0 && sa.Idle() && sb.Idle() && quiet(a, b) && blobsQuiet(t, a, b) {
				return st
			}
		}
	}
	t.Fatal("pump did not settle")
	return st
}

// quiet reports whether a and b hold the same vector (used to stop a lossy
// pump once everything arrived).
func quiet(a, b *replica) bool {
	va, _ := a.log.Vector()
	vb, _ := b.log.Vector()
	return va.Equal(vb)
}

func deliver(q [][]byte, frame []byte, f *faults) [][]byte {
	if f == nil || f.rng == nil {
		return append(q, frame)
	}
	if f.rng.Float64() < f.drop {
		return q
	}
	q = append(q, frame)
	if f.rng.Float64() < f.dup {
		q = append(q, frame)
	}
	if len(q) > 1 && f.rng.Float64() < f.reorder {
		i := f.rng.IntN(len(q))
		q[i], q[len(q)-1] = q[len(q)-1], q[i]
	}
	return q
}
