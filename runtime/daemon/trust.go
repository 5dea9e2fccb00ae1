package daemon

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/oplog"
	"fieldsync/replication/replicator"
	"fieldsync/replication/roster"
	"fieldsync/replication/roster/live"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/synctls"
	"fieldsync/runtime/localapi"
)

// ErrNoAnchor is returned by New for a data directory that has neither a
// trust anchor (the province's key) nor an explicit open mode.
var ErrNoAnchor = errors.New("daemon: the data directory has no trust anchor: give the province hub's key (fieldsync init --province-key, or fieldsync roster import of a roster exported by the province); open mode (no roster, unauthenticated sync) must be configured explicitly")

// Evidence limits: refused ranges are kept for the operator, bounded.
const (
	// EvidencePrefix is the metadata prefix of refused ranges kept.
	EvidencePrefix = "quarantine/refused/"
	// maxEvidence bounds the refused ranges kept (one per origin and
	// first seq; a retry of the same range updates its count).
	maxEvidence = 512
	// maxEvidenceEntries and maxEvidenceBytes bound what one keeps.
	maxEvidenceEntries = 16
	maxEvidenceBytes   = 256 << 10
)

// Evidence is a refused range as kept in the quarantine area.
type Evidence struct {
	Origin    replication.OriginID `json:"origin"`
	Seq       uint64               `json:"seq"`
	Peer      string               `json:"peer"`
	Reason    string               `json:"reason"`
	Detail    string               `json:"detail"`
	Count     int                  `json:"count"`
	FirstSeen time.Time            `json:"first_seen"`
	LastSeen  time.Time            `json:"last_seen"`
	// Entries are the first entries of the range, in their stored
	// encoding: the signed evidence.
	Entries [][]byte `json:"entries"`
}

// trust is a replica's roster, the authentication of its sync streams and
// what it refused.
type trust struct {
	book *live.Roster // nil when open
	// onImport, if set, is told of roster entries imported through the
	// API (the hub's view takes them too).
	onImport func([]replication.Entry)

	mu         sync.Mutex
	refused    map[string]int
	evidence   int // ranges kept
	duplicates int
}

// setupTrust wires the roster into the replicator's config: the live roster as
// the ingest Verifier, mutual TLS authorized by it, and the live roster kept
// current with every entry ingested.
func (b *Base) setupTrust(dir *datadir.Dir, rc *replicator.Config) error {
	b.trust.refused = map[string]int{}
	cfg := dir.Config
	switch {
	case cfg.ProvinceKey != "":
		key, err := roster.ParseKey(cfg.ProvinceKey)
		if err != nil {
			return err
		}
		rb, err := live.Load(ed25519.PublicKey(key), dir.Log)
		if err != nil {
			return err
		}
		auth, err := synctls.New(dir.Signer, func(k ed25519.PublicKey) (replication.Role, error) {
			role, err := rb.AuthorizePeer(k)
			if err != nil {
				b.countRefused("handshake", 1)
				b.Logger.Warn("refused a sync peer", "device", replication.DeviceIDOf(k), "err", err)
			}
			return role, err
		})
		if err != nil {
			return err
		}
		b.trust.book = rb
		rc.Verifier, rc.Auth = rb, auth
	case cfg.Open:
		b.Logger.Warn("OPEN MODE: no roster, sync streams unauthenticated; for tests and labs only", "dir", dir.Path)
	default:
		return fmt.Errorf("%w (%s)", ErrNoAnchor, dir.Path)
	}
	n := 0
	err := dir.Log.ScanMeta(EvidencePrefix, func(string, []byte) bool { n++; return true })
	b.trust.evidence = n
	return err
}

// OnRosterImport sets what else must see roster entries imported through
// the API (the hub's view).
func (b *Base) OnRosterImport(fn func([]replication.Entry)) { b.trust.onImport = fn }

// noteIngest counts what an ingest ignored as already held.
func (b *Base) noteIngest(res oplog.IngestResult) {
	if res.Duplicates > 0 {
		b.trust.mu.Lock()
		b.trust.duplicates += res.Duplicates
		b.trust.mu.Unlock()
	}
}

// Roster returns the replica's roster, or nil in open mode.
func (b *Base) Roster() *live.Roster { return b.trust.book }

// Observe tells the roster about entries written to the log other than by
// a sync session (the province's own roster entries).
func (b *Base) Observe(entries []replication.Entry) {
	if b.trust.book != nil {
		b.trust.book.Observe(entries)
	}
}

func (b *Base) countRefused(reason string, n int) {
	b.trust.mu.Lock()
	defer b.trust.mu.Unlock()
	b.trust.refused[reason] += n
}

// noteTrustEvent counts refusals and forks and keeps a refused range's
// evidence.
func (b *Base) noteTrustEvent(peer string, ev syncproto.Event) {
	switch ev.Kind {
	case syncproto.EventFork:
		b.countRefused("fork", 1)
	case syncproto.EventRefused:
		b.countRefused(ev.Reason.String(), max(1, len(ev.Refused)))
		if err := b.keepEvidence(peer, ev); err != nil {
			b.Logger.Warn("could not keep the evidence of a refused range", "origin", ev.Origin.Short(), "err", err)
		}
	}
}

// keepEvidence writes a refused range to the quarantine area (metadata of
// the log), bounded in count and size; a range refused again updates its
// count.
func (b *Base) keepEvidence(peer string, ev syncproto.Event) error {
	key := fmt.Sprintf("%s%s/%020d", EvidencePrefix, ev.Origin, ev.Seq)
	now := time.Now().UTC()
	var e Evidence
	raw, err := b.Dir.Log.GetMeta(key)
	switch {
	case err == nil:
		if err := json.Unmarshal(raw, &e); err != nil {
			return err
		}
	case errors.Is(err, oplog.ErrNotFound):
		b.trust.mu.Lock()
		full := b.trust.evidence >= maxEvidence
		if !full {
			b.trust.evidence++
		}
		b.trust.mu.Unlock()
		if full {
			return nil // counted, not kept
		}
		e = Evidence{Origin: ev.Origin, Seq: ev.Seq, FirstSeen: now}
		size := 0
		for i := 0; i < len(ev.Refused) && i < maxEvidenceEntries; i++ {
			enc, err := ev.Refused[i].MarshalBinary()
			if err != nil || size+len(enc) > maxEvidenceBytes {
				break
			}
			size += len(enc)
			e.Entries = append(e.Entries, enc)
		}
	default:
		return err
	}
	e.Peer, e.Reason, e.Detail, e.LastSeen = peer, ev.Reason.String(), ev.Detail, now
	e.Count++
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return b.Dir.Log.PutMeta(oplog.KV{Key: key, Value: v})
}

// Duplicates returns the entries received again and ignored since start.
func (b *Base) Duplicates() int {
	b.trust.mu.Lock()
	defer b.trust.mu.Unlock()
	return b.trust.duplicates
}

// TrustStatus returns the roster part of status and the refusal counts
// since the daemon started.
func (b *Base) TrustStatus() (localapi.Trust, map[string]int) {
	b.trust.mu.Lock()
	refused := make(map[string]int, len(b.trust.refused))
	for k, v := range b.trust.refused {
		refused[k] = v
	}
	t := localapi.Trust{Evidence: b.trust.evidence}
	b.trust.mu.Unlock()
	fillTrust(&t, b.trust.book)
	return t, refused
}

// OfflineTrust reads the roster part of status from a directory whose
// daemon is not running; refusal counts come from the evidence kept.
func OfflineTrust(d *datadir.Dir) (localapi.Trust, map[string]int, error) {
	var t localapi.Trust
	refused := map[string]int{}
	err := d.Log.ScanMeta(EvidencePrefix, func(_ string, v []byte) bool {
		var e Evidence
		if json.Unmarshal(v, &e) == nil {
			refused[e.Reason] += e.Count
		}
		t.Evidence++
		return true
	})
	if err != nil {
		return t, nil, err
	}
	if d.Config.ProvinceKey == "" {
		t.Open = d.Config.Open
		return t, refused, nil
	}
	key, err := roster.ParseKey(d.Config.ProvinceKey)
	if err != nil {
		return t, nil, err
	}
	rb, err := live.Load(ed25519.PublicKey(key), d.Log)
	if err != nil {
		return t, nil, err
	}
	fillTrust(&t, rb)
	return t, refused, nil
}

func fillTrust(t *localapi.Trust, rb *live.Roster) {
	if rb == nil {
		t.Open = true
		return
	}
	t.Anchor = replication.DeviceIDOf(rb.Anchor())
	for _, d := range rb.Devices() {
		t.Devices++
		if d.Revoked {
			t.Revoked++
		}
	}
}

// EvidenceKept lists the refused ranges in the quarantine area, sorted by
// origin and seq.
func EvidenceKept(l oplog.Log) ([]Evidence, error) {
	var out []Evidence
	err := l.ScanMeta(EvidencePrefix, func(_ string, v []byte) bool {
		var e Evidence
		if json.Unmarshal(v, &e) == nil {
			out = append(out, e)
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool {
		if c := strings.Compare(out[i].Origin.String(), out[j].Origin.String()); c != 0 {
			return c < 0
		}
		return out[i].Seq < out[j].Seq
	})
	return out, err
}

// RosterView is what GET /api/roster returns.
type RosterView struct {
	Open    bool            `json:"open,omitempty"`
	Anchor  roster.Key      `json:"anchor,omitempty"`
	Devices []roster.Device `json:"devices"`
}

// rosterRoutes serves the roster of every replica: GET /api/roster (the
// devices), GET /api/roster/export (the bundle to carry to a new laptop),
// POST /api/roster/import (a bundle carried from the province).
func (b *Base) rosterRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/roster", func(w http.ResponseWriter, r *http.Request) {
		v := RosterView{Open: b.trust.book == nil}
		if b.trust.book != nil {
			v.Anchor, v.Devices = roster.Key(b.trust.book.Anchor()), b.trust.book.Devices()
		}
		localapi.WriteJSON(w, http.StatusOK, v)
	})
	mux.HandleFunc("GET /api/roster/export", func(w http.ResponseWriter, r *http.Request) {
		if b.trust.book == nil {
			http.Error(w, "open mode: no roster", http.StatusNotFound)
			return
		}
		bundle, err := roster.Export(b.Dir.Log, b.trust.book.Anchor())
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		localapi.WriteJSON(w, http.StatusOK, map[string][]byte{"bundle": bundle})
	})
	mux.HandleFunc("POST /api/roster/import", func(w http.ResponseWriter, r *http.Request) {
		if b.trust.book == nil {
			http.Error(w, "open mode: no roster (init the directory with the province's key)", http.StatusConflict)
			return
		}
		if !localapi.RequireType(w, r, localapi.TypeBinary) {
			return
		}
		bundle, err := io.ReadAll(http.MaxBytesReader(w, r.Body, roster.MaxBundleBytes))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, res, err := live.Import(b.Dir.Log, bundle, b.trust.book.Anchor())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		b.Observe(res.Applied)
		if b.trust.onImport != nil {
			b.trust.onImport(res.Applied)
		}
		b.Rep.Wake()
		localapi.WriteJSON(w, http.StatusOK, map[string]int{"applied": len(res.Applied), "duplicates": res.Duplicates})
	})
}
