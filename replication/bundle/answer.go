package bundle

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/oplog"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

// The answer (a return bundle): what a hub sends back to the laptop whose
// bundle it imported, sealed to the laptop's bundle key from that
// bundle's header and signed by the hub. Its first part holds, after the
// hub's Hello and Summary:
//
//   - an answer frame naming the bundle and parts it answers;
//   - an Ack with the hub's heads for the origins those parts carried
//     (and the session's refusals), and a BlobAck with where each blob
//     offered stands: what the laptop may now believe the hub holds;
//   - the BlobStatus a sync session would open with: per origin, which
//     held entries still lack blobs at the hub;
//
// then the batches of everything that flows down to that laptop (the
// protocol's offer policy: entries hubs wrote — roster, decisions,
// receipts, resident lists, reference data), cut by a sending session
// against the laptop's heads from its Summary.

// FrameAnswer names the bundle a return bundle answers (JSON).
const FrameAnswer byte = 2

// AnswerOf is the body of an answer frame.
type AnswerOf struct {
	Bundle ID       `json:"bundle"`
	Parts  []uint32 `json:"parts"`
}

// maxAnswerBody bounds an answer frame.
const maxAnswerBody = 64 << 10

// Answerer writes return bundles at a hub.
type Answerer struct {
	Log   oplog.Log
	Blobs blob.Store
	Refs  blob.RefsFunc
	Needs syncproto.BlobNeeds
	// Proto: the hub's Self and Verifier.
	Proto  syncproto.Config
	Signer ed25519.PrivateKey
	Now    time.Time
	Codec  *wire.Codec
}

// Write writes the answer to the parts of one bundle imported (results of
// ImportPart, all of one bundle and one writer) as one part to w.
func (a *Answerer) Write(w io.Writer, ups []*Result, limit int64) (*Export, error) {
	if len(ups) == 0 || ups[0].Peer == nil {
		return nil, fmt.Errorf("bundle: nothing to answer (no part imported with its hello)")
	}
	first := ups[0]
	replyKey, err := kem().NewPublicKey(first.Header.ReplyKey)
	if err != nil {
		return nil, fmt.Errorf("bundle: the bundle's reply key: %w", err)
	}
	ans := AnswerOf{Bundle: first.Header.ID}
	ack := &wire.Ack{}
	var states []wire.BlobState
	seen := map[replication.OriginID]bool{}
	seenBlob := map[blob.Hash]bool{}
	for _, r := range ups {
		if r.Header.ID != first.Header.ID || string(r.Header.Signer) != string(first.Header.Signer) {
			return nil, fmt.Errorf("bundle: the parts answered are of more than one bundle")
		}
		ans.Parts = append(ans.Parts, r.Header.Part)
		for _, h := range r.Heads {
			if !seen[h.Origin] {
				seen[h.Origin] = true
				ack.Heads = append(ack.Heads, h)
			}
		}
		ack.Refused = append(ack.Refused, r.Refusals...)
		for _, st := range r.BlobStates {
			if !seenBlob[st.Hash] {
				seenBlob[st.Hash] = true
				states = append(states, st)
			}
		}
	}
	// Heads as the hub holds them now (a later part may have moved them).
	v, err := a.Log.Vector()
	if err != nil {
		return nil, err
	}
	for i := range ack.Heads {
		ack.Heads[i].Head = v[ack.Heads[i].Origin]
	}
	sortHeads(ack.Heads)
	if len(ack.Refused) > wire.DefaultMaxRefusals {
		ack.Refused = ack.Refused[:wire.DefaultMaxRefusals]
	}
	status, err := a.blobStatus(first)
	if err != nil {
		return nil, err
	}
	ansBody, err := json.Marshal(ans)
	if err != nil {
		return nil, err
	}
	extra := []wire.Message{ack}
	for len(states) > 0 {
		n := min(len(states), wire.MaxBlobAcks)
		extra = append(extra, &wire.BlobAck{Blobs: states[:n:n]})
		states = states[n:]
	}
	if status != nil {
		extra = append(extra, status)
	}
	heads := replication.Vector{}
	for _, h := range first.PeerHeads {
		heads[h.Origin] = h.Head
	}
	hubKey, err := KeyOf(a.Signer)
	if err != nil {
		return nil, err
	}
	var out io.WriteCloser = nopCloser{w}
	ex := &Exporter{Log: a.Log, Proto: a.Proto, Signer: a.Signer, ReplyKey: hubKey.PublicKey().Bytes(),
		Hub: *first.Peer, HubHeads: heads, Direction: Return, PartBytes: limit, MaxParts: 1, Now: a.Now, Codec: a.Codec,
		To:     []RecipientKey{{Device: first.Header.Signer, Key: replyKey}},
		lead:   []leadFrame{{kind: FrameAnswer, body: ansBody}},
		extra:  extra,
		Create: func(int) (io.WriteCloser, error) { return out, nil }}
	return ex.run(true)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// blobStatus is what a sync session with the laptop would open with:
// which of its held entries still lack blobs here.
func (a *Answerer) blobStatus(up *Result) (*wire.BlobStatus, error) {
	if a.Blobs == nil || a.Needs == nil || up.Peer == nil {
		return nil, nil
	}
	cfg := a.Proto
	cfg.Blobs = &syncproto.BlobConfig{Store: a.Blobs, Refs: a.Refs, Needs: a.Needs}
	s, err := syncproto.NewSession(cfg, a.Log)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if err := s.Start(); err != nil {
		return nil, err
	}
	if err := s.Step(up.Peer); err != nil {
		return nil, err
	}
	if err := s.Step(&wire.Summary{Heads: up.PeerHeads}); err != nil {
		return nil, err
	}
	rd, err := s.Ready()
	if err != nil {
		return nil, err
	}
	for _, m := range rd.Messages {
		if st, ok := m.(*wire.BlobStatus); ok {
			return st, nil
		}
	}
	return nil, nil
}

func sortHeads(hs []replication.OriginHead) {
	for i := 1; i < len(hs); i++ {
		for j := i; j > 0 && string(hs[j].Origin[:]) < string(hs[j-1].Origin[:]); j-- {
			hs[j], hs[j-1] = hs[j-1], hs[j]
		}
	}
}

// HeldThrough reads a BlobStatus as, per origin, the seq through which the
// hub holds every blob (the blobs of entries at or below it need not be
// sent again).
func HeldThrough(st *wire.BlobStatus) map[replication.OriginID]uint64 {
	out := map[replication.OriginID]uint64{}
	if st == nil {
		return out
	}
	for _, n := range st.Origins {
		through := n.Through
		if len(n.Missing) > 0 {
			through = n.Missing[0] - 1
		}
		out[n.Origin] = through
	}
	return out
}
