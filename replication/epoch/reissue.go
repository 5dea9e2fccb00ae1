package epoch

import (
	"encoding/binary"
	"fmt"

	"fieldsync/replication"
)

// ReissueSchema is the schema version of a KindReissue payload.
const ReissueSchema = 1

// reissueVersion is the first byte of the payload encoding.
const reissueVersion = 1

// reissueHeader is the fixed part of the payload: version(1) origin(16)
// seq(8) hash(32) kind(1) schema(2).
const reissueHeader = 1 + replication.OriginIDSize + 8 + replication.HashSize + 1 + 2

// MaxReissuable is the largest payload an entry may have and still be
// re-issued: captures must stay under it (node checks) so that a restored
// laptop can always carry them into a new epoch.
const MaxReissuable = replication.MaxPayloadBytes - reissueHeader

// Reissue is an entry of the writer's previous origin carried under its new
// one: the original's identity, kind, schema and payload, unchanged. A hub
// treats it as the original when it does not hold the original (same seq
// and hash), and as nothing when it does, so a capture counts once either
// way.
type Reissue struct {
	Of      replication.EntryID
	Hash    replication.Hash
	Kind    replication.Kind
	Schema  uint16
	Payload []byte
}

// NewReissue wraps e.
func NewReissue(e *replication.Entry) Reissue {
	return Reissue{Of: e.ID(), Hash: e.Hash(), Kind: e.Kind, Schema: e.Schema, Payload: e.Payload}
}

// Encode returns the canonical payload of a KindReissue entry.
func (r *Reissue) Encode() ([]byte, error) {
	if err := r.check(len(r.Payload)); err != nil {
		return nil, err
	}
	b := make([]byte, 0, reissueHeader+len(r.Payload))
	b = append(b, reissueVersion)
	b = append(b, r.Of.Origin[:]...)
	b = binary.BigEndian.AppendUint64(b, r.Of.Seq)
	b = append(b, r.Hash[:]...)
	b = append(b, byte(r.Kind))
	b = binary.BigEndian.AppendUint16(b, r.Schema)
	return append(b, r.Payload...), nil
}

// DecodeReissue parses a KindReissue payload. The returned Payload is a
// fresh slice.
func DecodeReissue(b []byte) (Reissue, error) {
	var r Reissue
	if len(b) < reissueHeader {
		return r, fmt.Errorf("%w: reissue payload of %d bytes, header is %d", replication.ErrMalformed, len(b), reissueHeader)
	}
	if b[0] != reissueVersion {
		return r, fmt.Errorf("%w: reissue version %d, want %d", replication.ErrMalformed, b[0], reissueVersion)
	}
	p := b[1:]
	copy(r.Of.Origin[:], p)
	p = p[replication.OriginIDSize:]
	r.Of.Seq = binary.BigEndian.Uint64(p)
	p = p[8:]
	copy(r.Hash[:], p)
	p = p[replication.HashSize:]
	r.Kind = replication.Kind(p[0])
	r.Schema = binary.BigEndian.Uint16(p[1:])
	r.Payload = append([]byte(nil), p[3:]...)
	return r, r.check(len(r.Payload))
}

// check applies the rules both directions share.
func (r *Reissue) check(payloadLen int) error {
	switch {
	case r.Of.Origin.IsZero() || r.Of.Seq < 2:
		return fmt.Errorf("%w: reissue of %s: want an entry after a genesis", replication.ErrMalformed, r.Of)
	case r.Kind == replication.KindGenesis || r.Kind == replication.KindReissue:
		return fmt.Errorf("%w: reissue of a %s entry", replication.ErrMalformed, r.Kind)
	case payloadLen > MaxReissuable:
		return fmt.Errorf("%w: reissued payload of %d bytes, limit %d", replication.ErrTooLarge, payloadLen, MaxReissuable)
	}
	return nil
}
