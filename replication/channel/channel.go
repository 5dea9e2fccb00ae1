package channel

import (
	"encoding/json"
	"fmt"
	"sync"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
)

// Appender is what Write appends to (oplog.Log).
type Appender interface {
	Append(s replication.Signer, drafts []replication.Draft) ([]replication.Entry, error)
	Head(o replication.OriginID) (replication.Head, error)
}

// writeMu serializes channel writes in a process: a channel's first write
// adds its genesis, which two concurrent writers must not both add.
var writeMu sync.Mutex

// Origin returns the channel origin of the hub whose device signer is
// given, for scope.
func Origin(device *replication.KeySigner, scope string) replication.OriginID {
	return device.Channel(scope).Origin()
}

// Write appends drafts to the channel for scope of the hub whose device
// signer is given (a hub of tier serving unit), starting the channel with
// its genesis if it is empty, and returns the entries written (the
// genesis first when it was added). Every draft must be of a kind in
// replication.DownwardKinds.
func Write(l Appender, device *replication.KeySigner, tier, unit, scope string, drafts ...replication.Draft) ([]replication.Entry, error) {
	if scope == "" {
		return nil, fmt.Errorf("%w: a channel needs a scope (the unit it is for)", replication.ErrMalformed)
	}
	for _, d := range drafts {
		if !replication.DownwardKinds[d.Kind] {
			return nil, fmt.Errorf("%w: %s entries do not go in a downward channel", replication.ErrMalformed, d.Kind)
		}
	}
	s := device.Channel(scope)
	g := replication.NewGenesis(s, replication.RoleHub, tier, unit)
	if err := checkGenesis(g); err != nil {
		return nil, err
	}
	writeMu.Lock()
	defer writeMu.Unlock()
	h, err := l.Head(s.Origin())
	if err != nil {
		return nil, err
	}
	if h.Seq == 0 {
		p, err := json.Marshal(g)
		if err != nil {
			return nil, err
		}
		hlc := replication.HLC(0)
		if len(drafts) > 0 {
			hlc = drafts[0].HLC
		}
		drafts = append([]replication.Draft{{Kind: replication.KindGenesis, Schema: replication.GenesisSchema, Payload: p, HLC: hlc}}, drafts...)
	}
	// In groups the log takes at once, each its own durable transaction.
	var out []replication.Entry
	for len(drafts) > 0 {
		n, size := 0, 0
		for n < len(drafts) && n < oplog.MaxAppendDrafts && (n == 0 || size+len(drafts[n].Payload) <= oplog.MaxAppendBytes) {
			size += len(drafts[n].Payload)
			n++
		}
		es, err := l.Append(s, drafts[:n])
		out = append(out, es...)
		if err != nil {
			return out, err
		}
		drafts = drafts[n:]
	}
	return out, nil
}

// checkGenesis runs the decoder's checks on a genesis about to be written,
// so that a bad scope is refused here rather than by every reader.
func checkGenesis(g replication.Genesis) error {
	p, err := json.Marshal(g)
	if err != nil {
		return err
	}
	_, err = replication.DecodeGenesis(p)
	return err
}
