package replicator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"syscall"
	"time"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
	"fieldsync/replication/syncnet"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

// metaPeerPrefix keys persisted peer state in the log's metadata, so
// `fieldsync status` can show peers when the daemon is not running.
const metaPeerPrefix = "peer/"

// defaultBytesPerEntry estimates wire bytes per entry before a link has
// been measured (a zstd-compressed enrollment with its share of framing).
const defaultBytesPerEntry = 160

// PeerStatus is what this replica knows about one peer.
type PeerStatus struct {
	Name   string               `json:"name"`
	Origin replication.OriginID `json:"origin"` // the peer's own origin, from its hello
	Role   string               `json:"role"`
	Tier   string               `json:"tier,omitempty"`
	Unit   string               `json:"unit,omitempty"`
	Addr   string               `json:"addr,omitempty"` // where this replica dials it, if it does
	// Connected: a session with the peer runs and has heard from it
	// within the liveness timeout (syncnet.Options.LivenessTimeout).
	Connected bool `json:"connected"`
	// Unreachable: the last attempt to reach the peer failed, or its
	// session went silent; the next message from it clears it.
	Unreachable bool `json:"unreachable,omitempty"`
	// LastContact is the last time anything was received from the peer
	// (never stamped by this side's own sends: a cut link takes writes).
	LastContact time.Time `json:"last_contact"`
	// LastComplete is the end of the last session that exchanged everything.
	LastComplete time.Time `json:"last_complete"`
	LastError    string    `json:"last_error,omitempty"`
	Sessions     int       `json:"sessions"`
	// TheirHeads is what the peer holds, as of its last summary or ack.
	TheirHeads replication.Vector `json:"their_heads"`
	// OwnAcked is the highest entry of this replica's own origin the peer
	// was seen to hold with the hash held here.
	OwnAcked replication.Head `json:"own_acked"`
	BytesIn  int64            `json:"bytes_in"`
	BytesOut int64            `json:"bytes_out"`
	// EntriesOut counts the entries the peer acknowledged having written
	// (what reached it; a batch sent again after a cut counts once),
	// EntriesIn the entries written here from the peer.
	EntriesOut int `json:"entries_out"`
	EntriesIn  int `json:"entries_in"`
	// Delivery is, per origin, what this replica sent the peer and has
	// not yet seen it hold: Above is counted in EntriesOut, Last is the
	// highest sent. An entry counts once the peer says it holds it, in an
	// ack or in a later session's summary (the ack may be lost in a cut).
	Delivery map[replication.OriginID]syncproto.SentSpan `json:"delivery,omitempty"`
	// RateBytesPerSec is the transfer rate observed on this link while it
	// was busy (moving average over sessions).
	RateBytesPerSec float64 `json:"rate_bytes_per_sec"`
	// BytesPerEntry is the wire cost per entry observed on this link.
	BytesPerEntry float64 `json:"bytes_per_entry"`
	// The blob lane: blobs the peer completed with bytes sent from here,
	// and blobs completed here from the peer; chunk bytes each way, and
	// chunk bytes sent again (after a go-back).
	BlobsOut        int   `json:"blobs_out,omitempty"`
	BlobsIn         int   `json:"blobs_in,omitempty"`
	BlobBytesOut    int64 `json:"blob_bytes_out,omitempty"`
	BlobBytesIn     int64 `json:"blob_bytes_in,omitempty"`
	BlobBytesResent int64 `json:"blob_bytes_resent,omitempty"`

	// Computed when read: what this replica would still send the peer.
	BacklogEntries uint64  `json:"backlog_entries"`
	BacklogBytes   int64   `json:"backlog_bytes"`
	DrainSeconds   float64 `json:"drain_seconds"` // at the observed rate; 0 if unknown
}

// peerTable tracks peers by name.
type peerTable struct {
	byName map[string]*PeerStatus
}

func (t *peerTable) get(name string) *PeerStatus {
	p, ok := t.byName[name]
	if !ok {
		p = &PeerStatus{Name: name}
		t.byName[name] = p
	}
	return p
}

// loadPeers reads persisted peer states.
func loadPeers(l oplog.Log) (*peerTable, error) {
	t := &peerTable{byName: map[string]*PeerStatus{}}
	var decodeErr error
	err := l.ScanMeta(metaPeerPrefix, func(key string, v []byte) bool {
		var p PeerStatus
		if err := json.Unmarshal(v, &p); err != nil {
			decodeErr = errors.Join(decodeErr, err)
			return true
		}
		p.Connected = false
		t.byName[p.Name] = &p
		return true
	})
	if err != nil {
		return nil, err
	}
	return t, decodeErr
}

func savePeer(l oplog.Log, p *PeerStatus) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return l.PutMeta(oplog.KV{Key: metaPeerPrefix + p.Name, Value: b})
}

// A long session (two hubs keep theirs open for days) is folded into the
// link's rate a window at a time: a window closes after rateWindow, or at
// a pause of more than idleGap with nothing received (idle, not slow: on
// 2G a busy sender still hears an ack every few seconds).
const (
	rateWindow = 5 * time.Minute
	idleGap    = 30 * time.Second
)

// sessionTally is what one running session has already folded into its
// peer's totals: progress arrives as running sums, and the totals must
// move while the session runs, not only when it ends.
type sessionTally struct {
	in, out   int64
	entriesIn int
	blobs     syncproto.Stats // the blob counters as of the last fold
	// merged is, per origin, the highest seq of this session's sends
	// merged into the peer's Delivery.
	merged map[replication.OriginID]uint64
	// the rate window: its start and the bytes moved before it
	windowStart time.Time
	windowBytes int64
	lastRecv    time.Time // of the previous progress
	lastBytes   int64     // moved as of the previous progress
}

// observe folds a session's progress into the peer's state.
func (p *PeerStatus) observe(pr syncnet.Progress, tally *sessionTally, now time.Time) {
	if pr.Peer != nil {
		p.Role, p.Tier, p.Unit, p.Origin = pr.Peer.Role, pr.Peer.Tier, pr.Peer.Unit, pr.Peer.Origin
	}
	if pr.PeerHeads != nil {
		p.TheirHeads = pr.PeerHeads
	}
	if pr.LastRecv.After(p.LastContact) {
		p.LastContact, p.Unreachable = pr.LastRecv, false
	}
	p.fold(pr, tally)
	p.countDelivered(pr.Sent, tally)
	moved := pr.BytesIn + pr.BytesOut
	switch {
	case tally.windowStart.IsZero():
		tally.windowStart = pr.Started
	case pr.LastRecv.Sub(tally.lastRecv) > idleGap: // a pause ends the window before it
		p.sampleRate(tally.lastBytes-tally.windowBytes, tally.lastRecv.Sub(tally.windowStart))
		tally.windowStart, tally.windowBytes = pr.LastRecv, tally.lastBytes
	case pr.LastRecv.Sub(tally.windowStart) >= rateWindow:
		p.sampleRate(moved-tally.windowBytes, pr.LastRecv.Sub(tally.windowStart))
		tally.windowStart, tally.windowBytes = pr.LastRecv, moved
	}
	tally.lastRecv, tally.lastBytes = pr.LastRecv, moved
}

// fold adds what the session did since the last fold to the totals.
func (p *PeerStatus) fold(pr syncnet.Progress, tally *sessionTally) {
	p.BytesIn += pr.BytesIn - tally.in
	p.BytesOut += pr.BytesOut - tally.out
	p.EntriesIn += pr.Proto.EntriesApplied - tally.entriesIn
	tally.in, tally.out = pr.BytesIn, pr.BytesOut
	tally.entriesIn = pr.Proto.EntriesApplied
	b := &tally.blobs
	p.BlobsOut += pr.Proto.BlobsSent - b.BlobsSent
	p.BlobsIn += pr.Proto.BlobsReceived - b.BlobsReceived
	p.BlobBytesOut += pr.Proto.BlobBytesSent - b.BlobBytesSent
	p.BlobBytesIn += pr.Proto.BlobBytesWritten - b.BlobBytesWritten
	p.BlobBytesResent += pr.Proto.BlobBytesResent - b.BlobBytesResent
	*b = pr.Proto
}

// countDelivered merges what a session sent since the last call into
// Delivery, and counts in EntriesOut what the peer is now known to hold
// of it.
func (p *PeerStatus) countDelivered(sent map[replication.OriginID]syncproto.SentSpan, tally *sessionTally) {
	for o, sp := range sent {
		done := tally.merged[o]
		if sp.Last <= done {
			continue
		}
		if tally.merged == nil {
			tally.merged = map[replication.OriginID]uint64{}
		}
		tally.merged[o] = sp.Last
		if p.Delivery == nil {
			p.Delivery = map[replication.OriginID]syncproto.SentSpan{}
		}
		d, ok := p.Delivery[o]
		if !ok {
			// What the peer held before, or what an earlier part of this
			// session already counted, is not counted again.
			d.Above = max(sp.Above, done)
		}
		d.Last = max(d.Last, sp.Last)
		p.Delivery[o] = d
	}
	for o, d := range p.Delivery {
		if held := min(p.TheirHeads.Seq(o), d.Last); held > d.Above {
			p.EntriesOut += int(held - d.Above)
			d.Above = held
		}
		if d.Above >= d.Last {
			delete(p.Delivery, o)
		} else {
			p.Delivery[o] = d
		}
	}
}

// finish folds a finished session into the totals and link estimates.
func (p *PeerStatus) finish(res syncnet.Result, tally *sessionTally, err error) {
	p.Connected = false
	p.Sessions++
	p.fold(res.Progress, tally)
	p.countDelivered(res.Sent, tally)
	if err != nil {
		p.LastError = err.Error()
		p.Unreachable = p.Unreachable || linkFailure(err)
	} else {
		p.LastError = ""
	}
	if res.Complete {
		p.LastComplete = res.Ended
	}
	if res.Proto.EntriesSent > 0 {
		p.BytesPerEntry = ewma(p.BytesPerEntry, float64(res.BytesOut)/float64(res.Proto.EntriesSent))
	}
	// The rate while busy: bytes over the time until the last message,
	// not counting the idle wait before the session closed.
	start := tally.windowStart
	if start.IsZero() {
		start = res.Started
	}
	p.sampleRate(res.BytesIn+res.BytesOut-tally.windowBytes, res.LastRecv.Sub(start))
}

// sampleRate folds bytes moved over a busy span into the link's rate;
// spans too short or too light to say anything are ignored.
func (p *PeerStatus) sampleRate(moved int64, busy time.Duration) {
	if busy > 500*time.Millisecond && moved > 16<<10 {
		p.RateBytesPerSec = ewma(p.RateBytesPerSec, float64(moved)/busy.Seconds())
	}
}

func ewma(old, sample float64) float64 {
	if old == 0 {
		return sample
	}
	return 0.5*old + 0.5*sample
}

// linkFailure reports whether a session's error says the peer could not
// be heard (silent, reset, closed, timed out), rather than a refusal.
func linkFailure(err error) bool {
	var ne net.Error
	return errors.Is(err, syncnet.ErrPeerSilent) || errors.As(err, &ne) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

// withLiveness returns p as of now: a running session that has heard
// nothing for liveness is not connected (the link is down, the session
// will end soon), and the peer is unreachable.
func (p PeerStatus) withLiveness(now time.Time, liveness time.Duration) PeerStatus {
	if p.Connected && now.Sub(p.LastContact) >= liveness {
		p.Connected, p.Unreachable = false, true
		p.LastError = fmt.Sprintf("no word from the peer for %v", now.Sub(p.LastContact).Round(time.Second))
	}
	return p
}

// withBacklog returns a copy of p with the backlog computed against ours.
func (p PeerStatus) withBacklog(self replication.Role, ours replication.Vector, originOf func(replication.OriginID) syncproto.OfferOrigin) PeerStatus {
	p.TheirHeads = p.TheirHeads.Clone()
	p.BacklogEntries = backlog(self, replication.Role(p.Role), unitsOf(p.Unit), ours, p.TheirHeads, originOf)
	per := p.BytesPerEntry
	if per == 0 {
		per = defaultBytesPerEntry
	}
	p.BacklogBytes = int64(float64(p.BacklogEntries) * per)
	if p.RateBytesPerSec > 0 {
		p.DrainSeconds = float64(p.BacklogBytes) / p.RateBytesPerSec
	}
	return p
}

// backlog counts the entries this replica holds, would offer the peer, and
// the peer is not known to hold.
func backlog(self, peer replication.Role, peerUnits []string, ours, theirs replication.Vector, originOf func(replication.OriginID) syncproto.OfferOrigin) uint64 {
	if peer == "" {
		peer = replication.RoleHub // unknown yet: assume it takes everything
	}
	var n uint64
	for o, h := range ours {
		if h.Seq > theirs.Seq(o) && syncproto.Offers(self, peer, peerUnits, originOf(o)) {
			n += h.Seq - theirs.Seq(o)
		}
	}
	return n
}

// unitsOf is a peer's units as its Hello announced them (what the
// protocol offers by when the roster is not consulted: an estimate).
func unitsOf(unit string) []string {
	if unit == "" {
		return nil
	}
	return []string{unit}
}

// sortedPeers returns statuses sorted by name.
func sortedPeers(t *peerTable) []PeerStatus {
	out := make([]PeerStatus, 0, len(t.byName))
	for _, p := range t.byName {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// HubAck returns the highest seq of origin o that a hub peer is known to
// hold with the same hash as l, and the last contact with such a hub (zero
// if none): what of o surely reached a hub. A peer whose knowledge differs
// from l (another branch of a cloned log) does not count.
func HubAck(l oplog.Log, peers []PeerStatus, o replication.OriginID) (uint64, time.Time) {
	var best uint64
	var at time.Time
	for _, p := range peers {
		if p.Role != string(replication.RoleHub) {
			continue
		}
		for _, h := range []replication.Head{p.TheirHeads[o], p.OwnAcked} {
			if h.Seq <= best {
				continue
			}
			if e, err := l.Get(replication.EntryID{Origin: o, Seq: h.Seq}); err == nil && e.Hash() == h.Hash {
				best = h.Seq
				at = later(at, p.LastContact)
			}
		}
	}
	return best, at
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// NoteHeads merges what a peer is known to hold, learnt out of band (a
// hub's answer to a bundle, carried by hand), into its persisted state, as
// an ack in a session would: its heads only grow, and only where this
// replica holds the same entry. at is when the peer held them. Use it
// when no replicator runs; a running one has Replicator.NoteHeads.
func NoteHeads(l oplog.Log, peer wire.Hello, heads []replication.OriginHead, at time.Time) error {
	t, err := loadPeers(l)
	if err != nil {
		return err
	}
	p := t.get(peer.Node)
	p.noteHeads(l, peer, heads, at)
	return savePeer(l, p)
}

// NoteHeads is NoteHeads for a running replicator: its table and the
// persisted state move together.
func (r *Replicator) NoteHeads(peer wire.Hello, heads []replication.OriginHead, at time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.peers.get(peer.Node)
	p.noteHeads(r.cfg.Dir.Log, peer, heads, at)
	cp := *p
	return savePeer(r.cfg.Dir.Log, &cp)
}

func (p *PeerStatus) noteHeads(l oplog.Log, peer wire.Hello, heads []replication.OriginHead, at time.Time) {
	if p.Origin.IsZero() {
		p.Origin, p.Role, p.Tier, p.Unit = peer.Origin, peer.Role, peer.Tier, peer.Unit
	}
	if p.TheirHeads == nil {
		p.TheirHeads = replication.Vector{}
	}
	for _, h := range heads {
		if h.Seq <= p.TheirHeads[h.Origin].Seq {
			continue
		}
		if e, err := l.Get(replication.EntryID{Origin: h.Origin, Seq: h.Seq}); err == nil && e.Hash() == h.Hash {
			p.TheirHeads[h.Origin] = h.Head
		}
	}
	if at.After(p.LastContact) {
		p.LastContact = at
	}
}
