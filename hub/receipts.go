package hub

import (
	"context"
	"encoding/binary"
	"fmt"
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

// receiptMetaPrefix keys what was last receipted per laptop origin:
// uvarint through, uvarint count of complete seqs above it.
const receiptMetaPrefix = "receipts/last/"

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

// IssueReceipts writes, for each laptop origin whose dossiers are more
// complete here than its last receipt says, a receipt (or a few: at most
// dossier.MaxReceiptSeqs seqs each) in the hub's own log: every entry up to
// the index's complete-through watermark, and the complete entries above
// it. Receipts replicate down like any hub entry. It returns how many it
// wrote. Only a provincial hub with the blob lane issues receipts.
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
		rs, through, complete, err := d.receiptsFor(o)
		if err != nil {
			return written, err
		}
		if len(rs) == 0 {
			continue
		}
		drafts := make([]replication.Draft, len(rs))
		for i := range rs {
			p, err := rs[i].Encode()
			if err != nil {
				return written, err
			}
			drafts[i] = replication.Draft{Kind: replication.KindReceipt, Schema: dossier.ReceiptSchema, Payload: p}
		}
		es, err := d.author.Write(drafts)
		if err != nil {
			return written, fmt.Errorf("hub: write receipts: %w", err)
		}
		d.view.Apply(es...) // the view sees every entry the log holds, its own too
		v := binary.AppendUvarint(binary.AppendUvarint(nil, through), uint64(complete))
		if err := d.cfg.Dir.Log.PutMeta(oplog.KV{Key: receiptMetaPrefix + string(o[:]), Value: v}); err != nil {
			return written, err
		}
		written += len(es)
	}
	return written, nil
}

// receiptsFor works out origin o's receipts, if what is complete here
// moved since the last ones.
func (d *Daemon) receiptsFor(o replication.OriginID) ([]dossier.Receipt, uint64, int, error) {
	ix := d.Rep.Needs()
	incomplete := map[uint64]bool{}
	known, err := ix.Missing(o, 1<<20, func(seq uint64) { incomplete[seq] = true })
	if err != nil {
		return nil, 0, 0, err
	}
	st, err := ix.Origins([]replication.OriginID{o})
	if err != nil {
		return nil, 0, 0, err
	}
	through := st[0].Through
	var above []uint64
	for seq := through + 1; seq <= known; seq++ {
		if !incomplete[seq] {
			above = append(above, seq)
		}
	}
	if prev, err := d.cfg.Dir.Log.GetMeta(receiptMetaPrefix + string(o[:])); err == nil {
		pt, n := binary.Uvarint(prev)
		pc, m := binary.Uvarint(prev[max(n, 0):])
		if n > 0 && m > 0 && pt == through && pc == uint64(len(above)) {
			return nil, 0, 0, nil // nothing new
		}
	}
	if through == 0 && len(above) == 0 {
		return nil, 0, 0, nil
	}
	var hash replication.Hash
	if through > 0 {
		e, err := d.cfg.Dir.Log.Get(replication.EntryID{Origin: o, Seq: through})
		if err != nil {
			return nil, 0, 0, err
		}
		hash = e.Hash()
	}
	complete := len(above)
	var out []dossier.Receipt
	for first := true; first || len(above) > 0; first = false {
		n := min(len(above), dossier.MaxReceiptSeqs)
		out = append(out, dossier.Receipt{Origin: o, Through: through, ThroughHash: hash, Also: above[:n:n]})
		above = above[n:]
	}
	return out, through, complete, nil
}
