package hub

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"fieldsync/dossier"
	"fieldsync/replication"
	"fieldsync/replication/oplog"
)

// DefaultReceiptEvery is how often a provincial hub looks for dossiers to
// receipt. Receipts flow down to every laptop (hub entries do), so they
// are batched: a laptop needs them for retention and its freeze rule,
// which count in days.
const DefaultReceiptEvery = 15 * time.Minute

// ReceiptTier is the tier whose hub signs receipts: the province, which
// holds the dossiers a card is printed from.
const ReceiptTier = "province"

// receiptMetaPrefix keys, per laptop origin, what its receipts have
// said: uvarint entries examined through, uvarint the watermark last
// receipted, uvarint n, then n uvarint deltas: the dossiers examined and
// still incomplete (receipted once they complete).
const receiptMetaPrefix = "receipts/state/"

// receiptState is what origin's receipts have said so far.
type receiptState struct {
	scanned, through uint64
	waiting          []uint64 // ascending
}

func (st *receiptState) encode() []byte {
	b := binary.AppendUvarint(binary.AppendUvarint(nil, st.scanned), st.through)
	b = binary.AppendUvarint(b, uint64(len(st.waiting)))
	prev := uint64(0)
	for _, s := range st.waiting {
		b = binary.AppendUvarint(b, s-prev)
		prev = s
	}
	return b
}

func decodeReceiptState(b []byte) (receiptState, error) {
	var st receiptState
	next := func() (uint64, error) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, fmt.Errorf("hub: receipt state is malformed")
		}
		b = b[n:]
		return v, nil
	}
	var err error
	if st.scanned, err = next(); err != nil {
		return st, err
	}
	if st.through, err = next(); err != nil {
		return st, err
	}
	n, err := next()
	if err != nil || n > uint64(len(b)) {
		return st, fmt.Errorf("hub: receipt state is malformed")
	}
	prev := uint64(0)
	for range n {
		d, err := next()
		if err != nil {
			return st, err
		}
		prev += d
		st.waiting = append(st.waiting, prev)
	}
	return st, nil
}

// receiptLoop issues receipts every ReceiptEvery until ctx ends.
func (d *Daemon) receiptLoop(ctx context.Context) {
	every := d.cfg.ReceiptEvery
	if every <= 0 {
		every = DefaultReceiptEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := d.IssueReceipts(); err != nil {
			d.Logger.Warn("could not issue receipts", "err", err)
		} else if n > 0 {
			d.Logger.Info("receipts issued", "entries", n)
			d.Rep.Wake()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// IssueReceipts writes, for each laptop origin with dossiers newly
// complete here, a receipt (or a few: at most dossier.MaxReceiptSeqs seqs
// each) in the hub's own log: the index's complete-through watermark (with
// its entry's hash), and the dossiers — entries that reference blobs —
// completed since the origin's last receipt, each named once. Receipts
// replicate down like any hub entry, so they stay small: a laptop unions
// them. It returns how many it wrote. Only a provincial hub with the blob
// lane issues receipts.
func (d *Daemon) IssueReceipts() (int, error) {
	ix := d.Rep.Needs()
	if ix == nil || d.cfg.Dir.Config.Tier != ReceiptTier {
		return 0, nil
	}
	vec, err := d.cfg.Dir.Log.Vector()
	if err != nil {
		return 0, err
	}
	written := 0
	for _, o := range vec.Origins() {
		g, ok := d.src.genesis(o)
		if !ok || g.Role != replication.RoleNode {
			continue
		}
		rs, st, err := d.receiptsFor(o)
		if err != nil {
			return written, err
		}
		var es []replication.Entry
		if len(rs) > 0 {
			drafts := make([]replication.Draft, len(rs))
			for i := range rs {
				p, err := rs[i].Encode()
				if err != nil {
					return written, err
				}
				drafts[i] = replication.Draft{Kind: replication.KindReceipt, Schema: dossier.ReceiptSchema, Payload: p}
			}
			if es, err = d.author.Write(drafts); err != nil {
				return written, fmt.Errorf("hub: write receipts: %w", err)
			}
			d.view.Wake() // the view applies every entry the log holds, its own too
		}
		if st != nil {
			if err := d.cfg.Dir.Log.PutMeta(oplog.KV{Key: receiptMetaPrefix + string(o[:]), Value: st.encode()}); err != nil {
				return written, err
			}
		}
		written += len(es)
	}
	return written, nil
}

// receiptsFor works out origin o's receipts: the dossiers complete here
// that its receipts have not named yet. It returns the new state to keep
// (nil when nothing moved).
func (d *Daemon) receiptsFor(o replication.OriginID) ([]dossier.Receipt, *receiptState, error) {
	ix := d.Rep.Needs()
	incomplete := map[uint64]bool{}
	known, err := ix.Missing(o, 1<<20, func(seq uint64) { incomplete[seq] = true })
	if err != nil {
		return nil, nil, err
	}
	ns, err := ix.Origins([]replication.OriginID{o})
	if err != nil {
		return nil, nil, err
	}
	var st receiptState
	if prev, err := d.cfg.Dir.Log.GetMeta(receiptMetaPrefix + string(o[:])); err == nil {
		if st, err = decodeReceiptState(prev); err != nil {
			return nil, nil, err
		}
	}
	through := ns[0].Through
	if known <= st.scanned && through <= st.through && len(st.waiting) == 0 {
		return nil, nil, nil
	}
	var newly, waiting []uint64
	for _, seq := range st.waiting {
		if incomplete[seq] {
			waiting = append(waiting, seq)
		} else {
			newly = append(newly, seq)
		}
	}
	if known > st.scanned {
		err := d.cfg.Dir.Log.Scan(o, st.scanned+1, func(e replication.Entry) bool {
			if e.Seq > known {
				return false
			}
			if refs, err := dossier.RefsOf(&e); err == nil && len(refs) > 0 {
				if incomplete[e.Seq] {
					waiting = append(waiting, e.Seq)
				} else {
					newly = append(newly, e.Seq)
				}
			}
			return true
		})
		if err != nil {
			return nil, nil, err
		}
	}
	next := &receiptState{scanned: max(known, st.scanned), through: max(through, st.through), waiting: waiting}
	var also []uint64
	for _, seq := range newly {
		if seq > through {
			also = append(also, seq)
		}
	}
	slices.Sort(also)
	if through <= st.through && len(also) == 0 {
		return nil, next, nil // the watermark did not move, and nothing above it completed
	}
	var hash replication.Hash
	if through > 0 {
		e, err := d.cfg.Dir.Log.Get(replication.EntryID{Origin: o, Seq: through})
		if err != nil {
			return nil, nil, err
		}
		hash = e.Hash()
	}
	var out []dossier.Receipt
	for first := true; first || len(also) > 0; first = false {
		n := min(len(also), dossier.MaxReceiptSeqs)
		out = append(out, dossier.Receipt{Origin: o, Through: through, ThroughHash: hash, Also: also[:n:n]})
		also = also[n:]
	}
	return out, next, nil
}
