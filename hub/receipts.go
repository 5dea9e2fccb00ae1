package hub

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"fieldsync/dossier"
	"fieldsync/replication"
	"fieldsync/replication/oplog"
	"fieldsync/replication/roster"
)

// DefaultReceiptEvery is how often a provincial hub looks for dossiers to
// receipt. Receipts flow down to the laptops of the commune (its
// downward channel) over 2G links, so they are batched: a laptop needs
// them for retention and its freeze rule, which count in days.
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
// each) in the hub's downward channel for the laptop's commune
// (receiptScope): the index's complete-through watermark (with its
// entry's hash), and the dossiers — entries that reference blobs —
// completed since the origin's last receipt, each named once. A laptop
// gets the receipts of its commune's laptops only, and unions them. It
// returns how many it wrote. Only a provincial hub with the blob lane
// issues receipts.
func (d *Daemon) IssueReceipts() (int, error) {
	ix := d.Rep.Needs()
	if ix == nil || d.cfg.Dir.Config.Tier != ReceiptTier {
		return 0, nil
	}
	signer, ok := d.receiptSigner()
	if !ok {
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
		scope := d.receiptScope(g)
		if scope == "" && signer != d.cfg.Dir.Signer {
			continue // only a channel carries the anchor's receipts to a laptop
		}
		rs, st, err := d.receiptsFor(o)
		if err != nil {
			return written, err
		}
		if len(rs) > 0 {
			drafts := make([]replication.Draft, len(rs))
			for i := range rs {
				p, err := rs[i].Encode()
				if err != nil {
					return written, err
				}
				drafts[i] = replication.Draft{Kind: replication.KindReceipt, Schema: dossier.ReceiptSchema, Payload: p}
			}
			if scope != "" {
				_, err = d.author.WriteChannel(signer, scope, drafts, replication.OrReal(d.cfg.Replicator.Clock).Now())
			} else {
				_, err = d.author.Write(drafts)
			}
			if err != nil {
				return written, fmt.Errorf("hub: write receipts: %w", err)
			}
			d.view.Wake() // the view applies every entry the log holds, its own too
		}
		if st != nil {
			if err := d.cfg.Dir.Log.PutMeta(oplog.KV{Key: receiptMetaPrefix + string(o[:]), Value: st.encode()}); err != nil {
				return written, err
			}
		}
		written += len(rs)
	}
	return written, nil
}

// receiptSigner is the key receipts are signed with. With a roster, only
// the anchor's receipts count (at hubs, Rule 0; on laptops, the province
// key they trust): the roster key derived from this hub's device key, if
// this hub is the anchor (ok false otherwise: its receipts would count
// nowhere). In open mode, the device key (laptops take a hub of tier
// province).
func (d *Daemon) receiptSigner() (*replication.KeySigner, bool) {
	dev := d.cfg.Dir.Signer
	key := d.cfg.Dir.Config.ProvinceKey
	if key == "" {
		return dev, true
	}
	a := roster.SignerFor(dev)
	return a, hex.EncodeToString(a.PublicKey()) == key
}

// receiptScope is the downward channel a laptop's receipts go in, so that
// they reach that laptop's commune and no other laptop: its unit as its
// genesis says, when the roster (if any) still gives it that unit, else
// the first unit the roster gives it — a channel the laptop is offered.
// "" (a laptop naming no unit) puts them in the hub's own origin, which
// every laptop gets. Receipts are cumulative (a watermark), so a laptop
// moved to another commune is covered again by the next receipt.
func (d *Daemon) receiptScope(g replication.Genesis) string {
	if b := d.Roster(); b != nil {
		units := b.PeerUnits(g.PublicKey)
		if len(units) > 0 && !slices.Contains(units, g.Unit) && units[0] != "*" {
			return units[0]
		}
	}
	return g.Unit
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
