package hub

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"fieldsync/hub/reconcile"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
)

// watermarkInto returns a reader of the view's watermark rows (origin →
// seq applied through) that fills applied.
func watermarkInto(applied replication.Vector) func(key string, value []byte) {
	return func(key string, value []byte) {
		o, perr := replication.ParseOriginID(strings.TrimPrefix(key, watermarkPrefix))
		if seq, n := binary.Uvarint(value); perr == nil && n > 0 {
			applied[o] = replication.Head{Seq: seq}
		}
	}
}

// StoredSummary returns what a stopped hub's view shows — its counts and
// digest — for status. When the stored view is up to the log (its
// watermark is the log's vector) they are read as they are stored
// (reconcile.ReadSummary): nothing is loaded or applied, whatever the
// size of the view. Otherwise (the hub stopped before its view caught up,
// entries were imported while it was stopped, the view is damaged or
// missing) the view is opened and brought up to the log as the hub would
// (OpenStored), so status always shows the view of everything held.
func StoredSummary(d *datadir.Dir) (reconcile.Stats, string, error) {
	vs, digest, current, err := readStoredSummary(d)
	if err == nil && current {
		return vs, digest, nil
	}
	if err != nil && !errors.Is(err, reconcile.ErrTorn) && !errors.Is(err, reconcile.ErrDamaged) {
		return vs, digest, err
	}
	v, closeView, err := OpenStored(d)
	if err != nil {
		return vs, digest, err
	}
	defer closeView()
	vs, digest = v.Stats()
	return vs, digest, nil
}

// readStoredSummary reads the stored view's summary and says whether its
// watermark is the log's vector.
func readStoredSummary(d *datadir.Dir) (reconcile.Stats, string, bool, error) {
	store, err := d.OpenView()
	if err != nil {
		return reconcile.Stats{}, "", false, err
	}
	defer store.Close()
	applied := replication.Vector{}
	vs, digest, err := reconcile.ReadSummary(store, watermarkPrefix, watermarkInto(applied))
	if err != nil {
		return vs, digest, false, fmt.Errorf("hub: read the stored view: %w", err)
	}
	held, err := d.Log.Vector()
	if err != nil {
		return vs, digest, false, err
	}
	return vs, digest, sameSeqs(applied, held), nil
}

// sameSeqs reports whether a and b hold the same seq of every origin.
func sameSeqs(a, b replication.Vector) bool {
	return covers(a, b) && covers(b, a)
}
