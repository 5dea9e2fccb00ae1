package datadir

import (
	"encoding/json"
	"errors"
	"fmt"

	"fieldsync/replication"
	"fieldsync/replication/epoch"
	"fieldsync/replication/oplog"
)

// metaRollover is the log metadata key of a requested or running move to a
// new epoch.
const metaRollover = "epoch/rollover"

// rollover is what RequestRollover records. The new epoch is drawn and
// recorded before its genesis is written, so an open after a crash at any
// point finds the same epoch again and finishes it.
type rollover struct {
	From        replication.OriginID `json:"from"`         // the origin to leave
	ReissueFrom uint64               `json:"reissue_from"` // first seq of it to re-issue
	Epoch       uint64               `json:"epoch,omitempty"`
	Reason      string               `json:"reason"`
}

// RequestRollover records that this replica must leave its current origin —
// a peer showed it went on elsewhere (a restored or cloned log) — and
// re-issue its entries from seq reissueFrom on (2 after a rollback: all of
// them; a fork notice's seq after one). The next Open starts the new epoch
// before anything else is written; the caller restarts to get there.
func (d *Dir) RequestRollover(reissueFrom uint64, reason string) error {
	b, err := json.Marshal(rollover{From: d.Signer.Origin(), ReissueFrom: reissueFrom, Reason: reason})
	if err != nil {
		return err
	}
	return d.Log.PutMeta(oplog.KV{Key: metaRollover, Value: b})
}

// RolloverPending reports whether a rollover was requested and not done.
func (d *Dir) RolloverPending() (bool, error) {
	_, ok, err := d.pendingRollover()
	return ok, err
}

func (d *Dir) pendingRollover() (rollover, bool, error) {
	var r rollover
	b, err := d.Log.GetMeta(metaRollover)
	if errors.Is(err, oplog.ErrNotFound) {
		return r, false, nil
	}
	if err != nil {
		return r, false, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, false, fmt.Errorf("datadir: %s: %w", metaRollover, err)
	}
	return r, true, nil
}

// finishRollover moves to the new epoch if one was requested: draws and
// records the epoch, writes its genesis and re-issues (package epoch),
// switches config.json and the signer, then clears the request. Every step
// can be repeated after a crash.
func (d *Dir) finishRollover() error {
	r, ok, err := d.pendingRollover()
	if !ok || err != nil {
		return err
	}
	if r.Epoch == 0 {
		r.Epoch = randomEpoch()
		b, _ := json.Marshal(r)
		if err := d.Log.PutMeta(oplog.KV{Key: metaRollover, Value: b}); err != nil {
			return err
		}
	}
	next := d.Signer.WithEpoch(r.Epoch)
	clock, err := d.HLCState()
	if err != nil {
		return err
	}
	hlc := func() replication.HLC { return clock.Next(replication.RealClock{}.Now()) }
	if err := d.startOrResume(r, next, hlc); err != nil {
		return fmt.Errorf("datadir: new epoch for %s: %w", r.From.Short(), err)
	}
	if d.Config.Epoch != r.Epoch {
		cfg := d.Config
		cfg.Epoch = r.Epoch
		if err := WriteConfig(d.Path, cfg); err != nil {
			return err
		}
		d.Config = cfg
	}
	d.Signer = next
	return d.Log.PutMeta(oplog.KV{Key: metaRollover})
}

func (d *Dir) startOrResume(r rollover, next *replication.KeySigner, hlc func() replication.HLC) error {
	head, err := d.Log.Head(next.Origin())
	if err != nil {
		return err
	}
	if head.Seq > 0 { // the genesis is written: finish the re-issue
		_, err := epoch.Resume(d.Log, next, hlc)
		return err
	}
	if d.Signer.Origin() != r.From {
		return fmt.Errorf("config names origin %s, the request %s", d.Signer.Origin().Short(), r.From.Short())
	}
	tmpl := replication.Genesis{Role: d.Config.Role, Tier: d.Config.Tier, Unit: d.Config.Unit}
	_, err = epoch.Start(d.Log, d.Signer, tmpl, r.Epoch, r.ReissueFrom, hlc)
	return err
}
