package syncproto

import (
	"bytes"
	"encoding/json"

	"fieldsync/replication"
	"fieldsync/replication/wire"
)

// rangeSigSlack is the bytes reserved per range for the signature of its
// last entry, which is decided only when the range is cut.
const rangeSigSlack = replication.SignatureSize + 1

// fillWindow builds batches until the window is full or nothing is left.
func (s *Session) fillWindow() error {
	if s.state != StateSyncing {
		return nil // what the peer holds is not known yet
	}
	for len(s.inflight) < s.cfg.Window {
		b, err := s.buildBatch()
		if err != nil || b == nil {
			return err
		}
		s.inflight = append(s.inflight, inflight{id: b.ID, entries: b.Entries()})
		s.stats.BatchesSent++
		s.stats.EntriesSent += b.Entries()
		s.outbox = append(s.outbox, b)
	}
	return nil
}

// buildBatch collects the entries above what the peer holds (and above what
// is already in flight), origin by origin in ascending order, within the
// batch limits. It returns nil when there is nothing to send.
func (s *Session) buildBatch() (*wire.Batch, error) {
	ours, err := s.src.Vector()
	if err != nil {
		return nil, err
	}
	id := s.nextBatchID + 1
	sizer := wire.NewBatchSizer(id)
	b := &wire.Batch{ID: id}
	for _, o := range ours.Origins() {
		if sizer.Entries() >= s.cfg.MaxBatchEntries || sizer.Size() >= s.cfg.MaxBatchBytes {
			break
		}
		from := s.sendFrom(o)
		if ours[o].Seq < from || !s.mayOffer(o, from) {
			continue
		}
		rg, err := s.collectRange(o, from, sizer)
		if err != nil {
			return nil, err
		}
		if rg == nil {
			continue
		}
		b.Ranges = append(b.Ranges, *rg)
		s.noteSent(o, rg.Entries[0].Seq, rg.Entries[len(rg.Entries)-1].Seq)
		s.cursor[o] = rg.Entries[len(rg.Entries)-1].Seq
		if s.cursor[o] >= s.forkThrough[o] {
			delete(s.forkThrough, o)
		}
	}
	if len(b.Ranges) == 0 {
		return nil, nil
	}
	s.nextBatchID = id
	return b, nil
}

// sendFrom is the first seq of origin o to send: above both what the peer
// holds and what is in flight, except when a fork resend asked to go lower.
func (s *Session) sendFrom(o replication.OriginID) uint64 {
	if s.forkThrough[o] > s.cursor[o] {
		return s.cursor[o] + 1
	}
	return max(s.cursor[o], s.peerHeads[o].Seq) + 1
}

// mayOffer applies the blocked set, the offer policy, and retirement: an
// origin this device wrote in an earlier epoch is not offered from seq
// from — it left it because the origin went on elsewhere, and its copy past
// that point would be a fork at the hubs (its captures travel as
// re-issues) — except to relay what it holds past where it left (see
// relaysRetired).
func (s *Session) mayOffer(o replication.OriginID, from uint64) bool {
	if _, ok := s.blocked[o]; ok {
		return false
	}
	g, err := s.originGenesis(o)
	if err != nil {
		return false
	}
	if o != s.cfg.Self.Origin && !s.cfg.Self.Origin.IsZero() && g.Scope == "" { // a channel is no retired origin
		if self, err := s.originGenesis(s.cfg.Self.Origin); err == nil && bytes.Equal(self.PublicKey, g.PublicKey) && !s.relaysRetired(o, self, from) {
			return false
		}
	}
	return offers(replication.Role(s.cfg.Self.Role), replication.Role(s.peer.Role), s.peerUnits(), g.offerOrigin())
}

// peerUnits are the units the peer serves: the roster's (Config.PeerUnits)
// or, without, its Hello's.
func (s *Session) peerUnits() []string {
	if s.cfg.PeerUnits != nil {
		return s.cfg.PeerUnits
	}
	if s.peer == nil || s.peer.Unit == "" {
		return nil
	}
	return []string{s.peer.Unit}
}

// relaysRetired reports whether entries from seq from of o, the origin
// this device left for its current one, may go to the peer. Past the head
// it left o at (its current genesis's PrevSeq) it wrote nothing of o: what
// it holds there came from a peer — a colleague's copy of the captures it
// made before a restore — and may be the only way they reach a hub (a
// laptop with no hub link of its own). They are relayed when the peer holds
// o at least up to that head with the hash held here, so they extend the
// branch the peer holds; this device's own copy up to the head never goes.
func (s *Session) relaysRetired(o replication.OriginID, self offerInfo, from uint64) bool {
	if self.PrevOrigin == nil || *self.PrevOrigin != o {
		return false
	}
	ph, ok := s.peerHeads[o]
	if !ok || ph.Seq < self.PrevSeq || from <= ph.Seq {
		return false
	}
	e, err := s.src.Get(replication.EntryID{Origin: o, Seq: ph.Seq})
	return err == nil && e.Hash() == ph.Hash
}

// originGenesis reads (and caches) what an origin's genesis declares.
// Only role, key and previous origin are used, unverified: they decide what
// to offer, never what to accept.
func (s *Session) originGenesis(o replication.OriginID) (offerInfo, error) {
	if info, ok := s.origins[o]; ok {
		g := info.genesis
		return offerInfo{Role: g.Role, PublicKey: g.PublicKey, PrevOrigin: g.PrevOrigin, PrevSeq: g.PrevSeq, Scope: g.Scope}, nil
	}
	if g, ok := s.roles[o]; ok {
		return g, nil
	}
	gen, err := s.src.Get(replication.EntryID{Origin: o, Seq: 1})
	if err != nil {
		return offerInfo{}, err
	}
	var g offerInfo
	if err := json.Unmarshal(gen.Payload, &g); err != nil {
		return offerInfo{}, err
	}
	s.roles[o] = g
	return g, nil
}

// offerInfo is what the offer policy reads of a genesis.
type offerInfo struct {
	Role       replication.Role      `json:"role"`
	PublicKey  []byte                `json:"public_key"`
	PrevOrigin *replication.OriginID `json:"prev_origin"`
	PrevSeq    uint64                `json:"prev_seq"`
	Scope      string                `json:"scope"`
}

func (g offerInfo) offerOrigin() OfferOrigin { return OfferOrigin{Role: g.Role, Scope: g.Scope} }

// collectRange reads entries of o from seq from while they fit, then cuts
// the range at the last entry whose signature this replica holds, because
// a range must end signed for the receiver to verify it. If no held
// signature falls inside the limits it reads on, up to the frame limit, to
// reach one (every holder has one at least every CheckpointEvery entries).
func (s *Session) collectRange(o replication.OriginID, from uint64, sizer *wire.BatchSizer) (*wire.Range, error) {
	var (
		es         []replication.Entry
		lastSigned = -1
		trial      = *sizer
		hardLimit  = s.cfg.hardBatchBytes()
	)
	err := s.src.Scan(o, from, func(e replication.Entry) bool {
		withinSoft := trial.Entries() < s.cfg.MaxBatchEntries && trial.SizeWith(s.thin(e, false))+rangeSigSlack <= s.cfg.MaxBatchBytes
		if !withinSoft && (lastSigned >= 0 || trial.SizeWith(s.thin(e, false))+rangeSigSlack > hardLimit) {
			return false
		}
		trial.Add(s.thin(e, false))
		es = append(es, e)
		if e.Sig != nil {
			lastSigned = len(es) - 1
		}
		return true
	})
	if err != nil || lastSigned < 0 {
		return nil, err
	}
	es = es[:lastSigned+1]
	for i := range es {
		es[i] = *s.thin(es[i], i == len(es)-1)
	}
	for i := range es {
		sizer.Add(&es[i])
	}
	return &wire.Range{Origin: o, Prev: es[0].Prev, Entries: es}, nil
}

// thin returns e with its signature kept only where the wire needs it: the
// genesis, every CheckpointEvery-th seq, and the last entry of a range. The
// hash chain lets that one signature cover the rest, which is what keeps
// the wire within a few percent of the compressed records.
func (s *Session) thin(e replication.Entry, last bool) *replication.Entry {
	if e.Sig == nil || last || e.Seq == 1 || e.Seq%s.cfg.CheckpointEvery == 0 {
		return &e
	}
	e.Sig = nil
	return &e
}
