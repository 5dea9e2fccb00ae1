package replication

import "fmt"

// Kind says what an entry means. Kinds are part of the signed encoding; the
// numbers never change. Unknown kinds are stored and forwarded (a newer
// version may write them) but ignored by views that do not understand them.
type Kind uint8

const (
	// KindGenesis is seq 1 of every origin: it carries the device's public
	// key and epoch, so the origin ID and every later signature can be
	// checked against it.
	KindGenesis Kind = 1
	// KindEnroll is a new enrollment capture.
	KindEnroll Kind = 2
	// KindAmend corrects an earlier entry, which it names.
	KindAmend Kind = 3
	// KindVoid withdraws an earlier capture, which it names.
	KindVoid Kind = 4
	// KindResolve is a hub officer's decision on a conflict or duplicate.
	KindResolve Kind = 5
	// KindRevoke withdraws a device key from a given seq on.
	KindRevoke Kind = 6
	// KindRoster is a signed roster of authorized devices (provincial hub).
	KindRoster Kind = 7
	// KindFork is a hub's notice, with evidence, that an origin forked.
	KindFork Kind = 8
	// KindReissue carries, under a new epoch, an entry of the writer's
	// previous origin that a peer may lack (package epoch).
	KindReissue Kind = 9
	// KindReceipt is the provincial hub's receipt for a laptop's complete
	// dossiers (record and every blob held there, verified): it flows
	// down, and the laptop may then drop those blobs (package dossier).
	KindReceipt Kind = 10
	// KindResidents is part of a commune's resident list from the
	// population register, published by a hub in the commune's downward
	// channel (package enrollment/residents).
	KindResidents Kind = 11
	// KindStatus is a commune officer's status of one resident (away,
	// deceased, enrolled, ...), written on a laptop; it goes up like a
	// capture.
	KindStatus Kind = 12
	// KindBundleKey publishes the writer's bundle public key: bundles for
	// it are sealed to that key (package bundle). Hubs write one.
	KindBundleKey Kind = 16
	// KindDedupModel is a hub's learnt duplicate model (package dedup),
	// which every hub's view uses when it outranks the others (Rule 10,
	// package hub's model.go).
	KindDedupModel Kind = 20
)

// DownwardKinds are the kinds a hub's downward channel (Genesis.Scope)
// carries to the field nodes of its unit, with their genesis; nothing else
// is written there.
var DownwardKinds = map[Kind]bool{
	KindResidents: true,
	KindReceipt:   true,
}

var kindNames = map[Kind]string{
	KindGenesis:    "genesis",
	KindEnroll:     "enroll",
	KindAmend:      "amend",
	KindVoid:       "void",
	KindResolve:    "resolve",
	KindRevoke:     "revoke",
	KindRoster:     "roster",
	KindFork:       "fork",
	KindReissue:    "reissue",
	KindReceipt:    "receipt",
	KindResidents:  "residents",
	KindStatus:     "status",
	KindBundleKey:  "bundle-key",
	KindDedupModel: "dedup-model",
}

// String returns the kind's lowercase name, or "kind(N)" if unknown.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Known reports whether this version of fieldsync understands k.
func (k Kind) Known() bool { _, ok := kindNames[k]; return ok }

// ParseKind parses a kind name.
func ParseKind(s string) (Kind, error) {
	for k, n := range kindNames {
		if n == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown kind %q", ErrMalformed, s)
}

// MarshalText encodes the kind by name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses a kind name.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}
