package syncnet_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"fieldsync/internal/linkemu"
	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/blob/blobtest"
	"fieldsync/replication/blob/needs"
	"fieldsync/replication/syncnet"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

// blobReplica is a replica with a blob store and its index of needs.
type blobReplica struct {
	*replica
	blobs blob.Store
	needs *needs.Index
}

func newBlobReplica(t *testing.T, name string, role replication.Role, seed uint64) *blobReplica {
	t.Helper()
	return newBlobReplicaOn(t, name, role, seed, blob.NewMem())
}

func newBlobReplicaOn(t *testing.T, name string, role replication.Role, seed uint64, store blob.Store) *blobReplica {
	t.Helper()
	r := &blobReplica{replica: newReplica(t, name, role, seed, t.TempDir()), blobs: store}
	ix, err := needs.Open(r.log, r.blobs, refsOf)
	if err != nil {
		t.Fatal(err)
	}
	r.needs = ix
	r.optsHook = r.blobOpts
	return r
}

func (r *blobReplica) blobOpts(o *syncnet.Options) {
	o.Proto.Blobs = &syncproto.BlobConfig{Store: r.blobs, Refs: refsOf, Needs: r.needs}
	o.OnBlobsHeld = func(_ *wire.Hello, ids []replication.EntryID) { r.needs.Recheck(ids...) }
}

// refsOf reads the tests' dossier payloads: {"blobs":[{"sha256","size"}]}.
func refsOf(e *replication.Entry) ([]blob.Ref, error) {
	var d struct {
		Blobs []struct {
			Hash string `json:"sha256"`
			Size int64  `json:"size"`
		} `json:"blobs"`
	}
	if json.Unmarshal(e.Payload, &d) != nil {
		return nil, nil
	}
	var out []blob.Ref
	for i, b := range d.Blobs {
		h, err := blob.ParseHash(b.Hash)
		if err != nil {
			return nil, err
		}
		out = append(out, blob.Ref{ID: blob.ID{Hash: h, Size: b.Size}, Rank: uint8(min(i, 3))})
	}
	return out, nil
}

// captureDossiers appends n records, each referencing blobs of sizes.
func (r *blobReplica) captureDossiers(t *testing.T, n int, sizes ...int) []blob.ID {
	t.Helper()
	var ids []blob.ID
	var h replication.HLCState
	for i := range n {
		type ref struct {
			Hash string `json:"sha256"`
			Size int64  `json:"size"`
		}
		d := struct {
			Name  string `json:"name"`
			Blobs []ref  `json:"blobs"`
		}{Name: fmt.Sprintf("%s-%d", r.name, i)}
		for j, size := range sizes {
			id, err := blob.PutBytes(r.blobs, blobtest.Bytes(uint64(1000*i+j+1)<<8|uint64(len(r.name)), size))
			if err != nil {
				t.Fatal(err)
			}
			d.Blobs = append(d.Blobs, ref{id.Hash.String(), id.Size})
			ids = append(ids, id)
		}
		p, _ := json.Marshal(d)
		if _, err := r.log.Append(r.signer, []replication.Draft{{Kind: replication.KindEnroll, Schema: 1, HLC: h.Next(time.Unix(1.7e9, 0)), Payload: p}}); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func (r *blobReplica) mustHold(t *testing.T, ids []blob.ID) {
	t.Helper()
	for _, id := range ids {
		if err := blob.Check(r.blobs, id.Hash); err != nil {
			t.Fatalf("%s: blob %s: %v", r.name, id, err)
		}
	}
}

func (r *blobReplica) holds(ids []blob.ID) bool {
	hs := make([]blob.Hash, len(ids))
	for i, id := range ids {
		hs[i] = id.Hash
	}
	has, _ := r.blobs.Has(hs)
	for _, ok := range has {
		if !ok {
			return false
		}
	}
	return true
}

func sizeOf(ids []blob.ID) int64 {
	var n int64
	for _, id := range ids {
		n += id.Size
	}
	return n
}

// TestBlobsBypassTheStream: blobs reach the hub over real sockets, and
// the laptop's bytes on the connection are the blob bytes plus little
// (the image bytes travel raw, beside the zstd stream).
func TestBlobsBypassTheStream(t *testing.T) {
	l, h := newBlobReplica(t, "l1", replication.RoleNode, 1), newBlobReplica(t, "h1", replication.RoleHub, 2)
	ids := l.captureDossiers(t, 5, 200_000, 25_000, 25_000, 90_000)
	resL, resH, err := syncOver(t, l.replica, h.replica, linkemu.NewLink(linkemu.Perfect))
	if err != nil || !resL.Complete {
		t.Fatalf("laptop side: complete=%v err=%v", resL.Complete, err)
	}
	h.mustHold(t, ids)
	blobBytes := sizeOf(ids)
	over := float64(resL.BytesOut)/float64(blobBytes) - 1
	t.Logf("%d blob bytes; laptop wrote %d B (+%.2f%%), hub %d B; hub received %d blobs; laptop %+v", blobBytes, resL.BytesOut, 100*over, resH.BytesOut, resH.Proto.BlobsReceived, resL.Proto)
	if over > 0.01 || resH.Proto.BlobsReceived != len(ids) {
		t.Fatalf("laptop wrote %.2f%% over the blob bytes", 100*over)
	}
}

// TestBlobsResumeAcrossCuts: a link cut every second; each session resumes
// the blob in flight at its last durable chunk.
func TestBlobsResumeAcrossCuts(t *testing.T) {
	l, h := newBlobReplica(t, "l1", replication.RoleNode, 3), newBlobReplica(t, "h1", replication.RoleHub, 4)
	ids := l.captureDossiers(t, 3, 300_000, 60_000)
	p := linkemu.Bench128k
	p.RateBitsPerSec, p.RTT = 4_000_000, 20*time.Millisecond
	p.Schedule = linkemu.Periodic(400*time.Millisecond, 100*time.Millisecond)
	link := linkemu.NewLink(p)
	var sent int64
	sessions := 0
	for ; !h.holds(ids); sessions++ {
		if sessions > 200 {
			t.Fatal("the blobs did not arrive in 200 sessions")
		}
		if !link.Up() {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		res, _, _ := syncOver(t, l.replica, h.replica, link)
		sent += res.Proto.BlobBytesSent
	}
	h.mustHold(t, ids)
	cuts := link.Stats().ConnsBroken
	again := sent - sizeOf(ids)
	t.Logf("%d sessions, %d cuts: %d blob bytes sent for %d, %d again (%.0f per cut)", sessions, cuts, sent, sizeOf(ids), again, float64(again)/float64(max(cuts, 1)))
	if cuts == 0 {
		t.Fatal("the link was never cut")
	}
	if again > cuts*int64(syncproto.DefaultBlobChunkBytes+syncproto.DefaultBlobPipeBytes) {
		t.Fatalf("sent %d bytes again over %d cuts", again, cuts)
	}
}
