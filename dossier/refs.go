package dossier

import (
	"encoding/json"
	"fmt"
	"sort"

	"fieldsync/enrollment"
	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/epoch"
)

var _ blob.RefsFunc = RefsOf

// RefsOf returns the blobs a capture entry references — an enroll, an
// amend (the corrected record's), or a re-issue of either — in transfer
// order: by slot rank (portrait, index fingers, the other fingers, irises
// and signature), then as listed in the record. Slots with an exception
// code hold no blob and are left out; a hash held twice (one image in two
// slots) is listed once, at its first place. Other kinds reference none.
//
// A payload that does not decode, or a reference that is not a valid
// blob ID (hash not 64 hex digits, size outside 1..blob.MaxSize), is an
// error: such an entry moves without blobs and its dossier stays
// incomplete. It reads only the biometrics of the payload.
func RefsOf(e *replication.Entry) ([]blob.Ref, error) {
	kind, payload := e.Kind, e.Payload
	if kind == replication.KindReissue {
		r, err := epoch.DecodeReissue(payload)
		if err != nil {
			return nil, err
		}
		kind, payload = r.Kind, r.Payload
	}
	var refs []enrollment.BlobRef
	switch kind {
	case replication.KindEnroll:
		var p struct {
			Biometrics []enrollment.BlobRef `json:"biometrics"`
		}
		if err := json.Unmarshal(payload, &p); err != nil {
			return nil, fmt.Errorf("%w: blob refs of %s: %w", replication.ErrMalformed, e.ID(), err)
		}
		refs = p.Biometrics
	case replication.KindAmend:
		var p struct {
			Record struct {
				Biometrics []enrollment.BlobRef `json:"biometrics"`
			} `json:"record"`
		}
		if err := json.Unmarshal(payload, &p); err != nil {
			return nil, fmt.Errorf("%w: blob refs of %s: %w", replication.ErrMalformed, e.ID(), err)
		}
		refs = p.Record.Biometrics
	default:
		return nil, nil
	}
	return convert(refs)
}

// convert turns a record's references into blob refs, ordered.
func convert(in []enrollment.BlobRef) ([]blob.Ref, error) {
	if len(in) > enrollment.MaxBiometrics {
		return nil, fmt.Errorf("%w: %d biometric references, limit %d", replication.ErrTooLarge, len(in), enrollment.MaxBiometrics)
	}
	out := make([]blob.Ref, 0, len(in))
	seen := make(map[blob.Hash]bool, len(in))
	for i, r := range in {
		if r.SHA256 == "" && r.Exception != "" {
			continue
		}
		ref, err := RefOf(r)
		if err != nil {
			return nil, fmt.Errorf("biometrics[%d] (%s): %w", i, r.Kind, err)
		}
		if seen[ref.Hash] {
			continue
		}
		seen[ref.Hash] = true
		out = append(out, ref)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Rank < out[j].Rank })
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// RefOf converts one record reference that names a blob.
func RefOf(r enrollment.BlobRef) (blob.Ref, error) {
	h, err := blob.ParseHash(r.SHA256)
	if err != nil {
		return blob.Ref{}, err
	}
	id := blob.ID{Hash: h, Size: r.Size}
	if err := id.Check(); err != nil {
		return blob.Ref{}, err
	}
	return blob.Ref{ID: id, Slot: r.Kind, Rank: enrollment.SlotRank(r.Kind)}, nil
}
