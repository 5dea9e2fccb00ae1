package reconcile

import (
	"encoding/binary"
	"errors"
	"fmt"

	"fieldsync/enrollment/residents"
	"fieldsync/replication"
	"fieldsync/replication/epoch"
	"fieldsync/storage/kv"
)

// The census (package enrollment/residents) is the view's part for "đủ":
// resident lists published by hubs in communes' downward channels, the
// statuses commune officers set, and which people on the lists the view
// holds a capture of. It is a Component (always there): it sees entries
// after Rules 0, 8 and 9, so what it counts is authorized like everything
// else — a list only from a hub's channel for the list's commune, inside
// the hub's scope; a status only from a device whose scope holds the
// status's commune (gate.go, from entryRec.Unit). A person counts as
// captured when the view has a citizen keyed by their ID number. Its state
// is a stored residents census under x/census/ (nothing on the heap); its
// lines are in the view's digest, and its own digest is CensusDigest.

// CensusName is the census component's name (its keys: x/census/).
const CensusName = "census"

type censusComponent struct{}

func (censusComponent) Name() string { return CensusName }

func (censusComponent) Admit(tx ComponentTx, e *Admitted)   { foldCensus(tx, e, false) }
func (censusComponent) Retract(tx ComponentTx, e *Admitted) { foldCensus(tx, e, true) }

func (censusComponent) CitizenChanged(tx ComponentTx, key string, before, after *CitizenSummary) {
	if (before == nil) == (after == nil) {
		return
	}
	c := storedCensus(tx)
	c.SetCaptured(key, after != nil)
	if err := c.Flush(); err != nil {
		tx.Fail(err)
	}
}

func storedCensus(tx ComponentTx) *residents.Census {
	return residents.NewStoredCensus(tx, func(pid, line string, sign int) { tx.DigestItem("census/"+pid, line, sign) })
}

// foldCensus applies (or retracts) a resident list or status. A status
// re-issued under a new epoch counts as its original (Rule 9): the census
// keys it by the original's entry, and a count per entry named keeps it
// while either is admitted.
func foldCensus(tx ComponentTx, a *Admitted, retract bool) {
	if a.Meaning != replication.KindResidents && a.Meaning != replication.KindStatus {
		return
	}
	e, err := tx.Entry(a.ID)
	if err != nil {
		tx.Fail(fmt.Errorf("reconcile: census: %w", err))
		return
	}
	at, payload := residents.Ref{Origin: a.ID.Origin.String(), Seq: a.ID.Seq}, e.Payload
	if e.Kind == replication.KindReissue {
		ri, err := epoch.DecodeReissue(e.Payload)
		if err != nil {
			return // decode refused it: it is not admitted
		}
		at, payload = residents.Ref{Origin: ri.Of.Origin.String(), Seq: ri.Of.Seq}, ri.Payload
	}
	// How many admitted entries name at: it counts from the first to the last.
	refKey := []byte("r/" + at.String())
	n := uint64(0)
	if v, err := tx.Get(refKey); err == nil {
		n, _ = binary.Uvarint(v)
	} else if !errors.Is(err, kv.ErrNotFound) {
		tx.Fail(err)
		return
	}
	switch {
	case !retract:
		n++
	case n > 0:
		n--
	default:
		return
	}
	if n == 0 {
		tx.Delete(refKey)
	} else {
		tx.Set(refKey, binary.AppendUvarint(nil, n))
	}
	if !retract && n > 1 || retract && n > 0 {
		return
	}
	c := storedCensus(tx)
	switch a.Meaning {
	case replication.KindResidents:
		l, err := residents.DecodeList(payload)
		if err != nil {
			return
		}
		if retract {
			c.RetractList(at, uint64(a.HLC), &l)
		} else {
			c.ApplyList(at, uint64(a.HLC), &l)
		}
	case replication.KindStatus:
		s, err := residents.DecodeStatus(payload)
		if err != nil {
			return
		}
		if retract {
			c.RetractStatus(at, &s)
		} else {
			c.ApplyStatus(at, &s)
		}
	}
	if err := c.Flush(); err != nil {
		tx.Fail(err)
	}
}

// decodeCensus notes the commune a census entry concerns (Rule 0 checks
// it), or marks it invalid.
func decodeCensus(rec *entryRec, payload []byte) {
	switch rec.MKind {
	case replication.KindResidents:
		l, err := residents.DecodeList(payload)
		rec.Bad, rec.Unit = err != nil, l.Commune
	case replication.KindStatus:
		s, err := residents.DecodeStatus(payload)
		rec.Bad, rec.Unit = err != nil, s.Commune
	}
	if rec.Bad {
		rec.Unit = ""
	}
}

// CensusCommunes returns every commune with someone on its list, sorted by
// code (from the last committed snapshot).
func (r *Reconciler) CensusCommunes() ([]residents.CommuneCounts, error) {
	var out []residents.CommuneCounts
	err := r.ReadComponent(CensusName, func(s kv.Reader) (err error) {
		out, err = residents.StoredCommunes(s)
		return err
	})
	return out, err
}

// CensusCommune returns one commune's counts.
func (r *Reconciler) CensusCommune(code string) (residents.Counts, error) {
	var out residents.Counts
	err := r.ReadComponent(CensusName, func(s kv.Reader) (err error) {
		out, err = residents.StoredCommune(s, code)
		return err
	})
	return out, err
}

// CensusPeople returns a commune's people in the given categories (all
// when none is given), by ID number, at most limit (0: all), and how many
// there are.
func (r *Reconciler) CensusPeople(commune string, limit int, cats ...residents.Category) ([]residents.Person, int, error) {
	var out []residents.Person
	var n int
	err := r.ReadComponent(CensusName, func(s kv.Reader) (err error) {
		out, n, err = residents.StoredPeople(s, commune, limit, cats...)
		return err
	})
	return out, n, err
}

// CensusDigest is the census's digest (residents.StoredDigest): equal on
// every hub holding the same entries.
func (r *Reconciler) CensusDigest() (string, error) {
	var out string
	err := r.ReadComponent(CensusName, func(s kv.Reader) (err error) {
		out, err = residents.StoredDigest(s)
		return err
	})
	return out, err
}
