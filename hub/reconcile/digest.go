package reconcile

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"strings"

	"fieldsync/replication"
	"fieldsync/storage/kv"
)

// The digest is a multiset hash of the view: every item the view shows —
// each citizen (key, current versions with their hashes, the version
// shown, region, the conflict and what settles it, links), each probable
// duplicate (keys, score to 1e-6, reasons, what settles it), each entry
// Rule 0 quarantines (with its reason), each forked origin and the seq
// Rule 8 sets it aside from, each decision held — is rendered as one
// canonical line, hashed (SHA-256), and added, as a 256-bit number, to
// the sum of its bucket; an item that changes is subtracted and added
// again. A sum does not depend on the order its items came in, so two hubs
// holding the same entries print the same digest, in any order of
// arrival, and a digest that differs names a real difference. An item's
// bucket is chosen by its subject (a citizen's key, a pair's ID, …); the
// digest is SHA-256 over the sum of every item (the buckets' total), and
// two hubs that differ can compare buckets to find which subjects do
// (DigestBuckets).
const numBuckets = 4096

type sum256 [4]uint64 // little-endian words

func (s *sum256) add(h [32]byte, sign int) {
	var x [4]uint64
	for i := range x {
		x[i] = binary.LittleEndian.Uint64(h[8*i:])
	}
	var c uint64
	if sign > 0 {
		for i := range s {
			s[i], c = bits.Add64(s[i], x[i], c)
		}
	} else {
		for i := range s {
			s[i], c = bits.Sub64(s[i], x[i], c)
		}
	}
}

func (s *sum256) bytes() []byte {
	b := make([]byte, 32)
	for i := range s {
		binary.LittleEndian.PutUint64(b[8*i:], s[i])
	}
	return b
}

type digest struct {
	buckets [numBuckets]sum256
	total   sum256 // every item: the sum of the buckets
	dirty   map[uint16]bool
	cached  string
}

func newDigest() *digest { return &digest{dirty: map[uint16]bool{}} }

func bucketOf(subject string) uint16 {
	h := sha256.Sum256([]byte(subject))
	return binary.BigEndian.Uint16(h[:]) % numBuckets
}

// item adds (sign 1) or removes (sign -1) the line of an item on subject.
func (d *digest) item(subject, line string, sign int) {
	d.addHash(subject, sha256.Sum256([]byte(line)), sign)
}

func (d *digest) addHash(subject string, h [32]byte, sign int) {
	b := bucketOf(subject)
	d.buckets[b].add(h, sign)
	d.total.add(h, sign)
	d.dirty[b], d.cached = true, ""
}

func (d *digest) hex() string {
	if d.cached == "" {
		h := sha256.New()
		h.Write([]byte("fieldsync view digest 2\n"))
		h.Write(d.total.bytes())
		d.cached = hex.EncodeToString(h.Sum(nil))
	}
	return d.cached
}

func bucketKey(b uint16) []byte { return binary.BigEndian.AppendUint16([]byte{tBucket, '/'}, b) }

func (d *digest) flush(r *Reconciler) {
	for b := range d.dirty {
		r.set(bucketKey(b), d.buckets[b].bytes())
	}
	clear(d.dirty)
}

func (d *digest) load(k, v []byte) error {
	if len(k) != 2 || len(v) != 32 {
		return fmt.Errorf("%w: digest bucket", ErrDamaged)
	}
	b := binary.BigEndian.Uint16(k) % numBuckets
	for i := range d.buckets[b] {
		d.buckets[b][i] = binary.LittleEndian.Uint64(v[8*i:])
	}
	var c uint64
	for i := range d.total {
		d.total[i], c = bits.Add64(d.total[i], d.buckets[b][i], c)
	}
	d.cached = ""
	return nil
}

func sha(line string) [32]byte { return sha256.Sum256([]byte(line)) }

// The lines, as the first digest rendered them.

func citizenLine(key string, c *citizenRow, vs []*entryRec, resolved *Decision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "citizen %s shown %s region %s\n", key, c.Shown, c.Region)
	for _, v := range vs {
		fmt.Fprintf(&b, " version %s %s\n", v.ID, v.Hash)
	}
	if c.Conflict != nil {
		fmt.Fprintf(&b, " conflict %s %s %s\n", strings.Join(c.Conflict.Fields, ","), c.Conflict.Level, decisionRef(resolved))
	}
	if len(c.Linked) > 0 {
		fmt.Fprintf(&b, " linked %s\n", strings.Join(c.Linked, ","))
	}
	return b.String()
}

func pairLine(id string, p *pairRow, resolved *Decision) string {
	if len(p.Extra) > 0 { // what the matcher keeps with it: the model that judged it, the weights
		return fmt.Sprintf("pair %s %.6f %s %x %s\n", id, p.Score, strings.Join(p.Reasons, ","), p.Extra, decisionRef(resolved))
	}
	return fmt.Sprintf("pair %s %.6f %s %s\n", id, p.Score, strings.Join(p.Reasons, ","), decisionRef(resolved))
}

func quarantineLine(id replication.EntryID, reason string) string {
	return fmt.Sprintf("quarantine %s %s\n", id, reason)
}

func forkedLine(o replication.OriginID, from uint64) string {
	return fmt.Sprintf("forked %s from %d\n", o, from)
}

func decisionLine(subject string, id replication.EntryID) string {
	return fmt.Sprintf("decision %s %s\n", subject, id)
}

func decisionRef(d *Decision) string {
	if d == nil {
		return "open"
	}
	return "settled-by " + d.Entry.String()
}

// Digest returns the view's digest (hex): equal on every hub holding the
// same entries, in any order of arrival.
func (r *Reconciler) Digest() string { return r.pub.Load().digest }

// DigestBuckets returns every bucket's sum (hex), in bucket order: two
// views with different digests differ in the buckets whose sums differ,
// and an item is in the bucket BucketOf(subject) names.
func (r *Reconciler) DigestBuckets() []string {
	out := make([]string, 0, numBuckets)
	err := r.db.View(func(s kv.Reader) error {
		for b := range uint16(numBuckets) {
			v, err := s.Get(bucketKey(b))
			if err != nil {
				v = make([]byte, 32)
			}
			out = append(out, hex.EncodeToString(v))
		}
		return nil
	})
	if err != nil {
		return nil
	}
	return out
}

// BucketOf returns the digest bucket of a subject: a citizen's key, a
// pair's ID, an entry ID (quarantine), an origin (fork), a decision's
// subject.
func BucketOf(subject string) int { return int(bucketOf(subject)) }
