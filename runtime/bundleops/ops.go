package bundleops

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"fieldsync/dossier"
	"fieldsync/replication"
	"fieldsync/replication/blob/needs"
	"fieldsync/replication/bundle"
	"fieldsync/replication/datadir"
	"fieldsync/replication/oplog"
	"fieldsync/replication/replicator"
	"fieldsync/replication/roster"
	"fieldsync/replication/roster/live"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

// Env is a replica's bundle operations.
type Env struct {
	Dir *datadir.Dir
	// Verifier admits entries (the live roster); nil in open mode.
	Verifier syncproto.Verifier
	// Authorize says whether a device may send this replica bundles (the
	// roster); nil in open mode.
	Authorize func(key ed25519.PublicKey) error
	// Rep is the running replicator, if any: heads learnt from an answer
	// go into its table, and its index of needs is used.
	Rep *replicator.Replicator
	// OnIngest sees batches written (a running daemon's view and alarms).
	OnIngest func(peer *wire.Hello, res oplog.IngestResult)
	Now      func() time.Time
	needs    *needs.Index
}

// Standalone returns the operations of a directory no daemon runs on:
// the roster loaded from its log.
func Standalone(d *datadir.Dir) (*Env, error) {
	e := &Env{Dir: d, Now: time.Now}
	if d.Config.ProvinceKey != "" {
		key, err := roster.ParseKey(d.Config.ProvinceKey)
		if err != nil {
			return nil, err
		}
		rb, err := live.Load(ed25519.PublicKey(key), d.Log)
		if err != nil {
			return nil, err
		}
		e.Verifier = rb
		e.Authorize = func(k ed25519.PublicKey) error { _, err := rb.AuthorizePeer(k); return err }
	} else if !d.Config.Open {
		return nil, fmt.Errorf("bundle: %s has no roster anchor (init --roster, or --open for a lab)", d.Path)
	}
	return e, nil
}

func (e *Env) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

func (e *Env) hello() wire.Hello {
	c := e.Dir.Config
	return wire.Hello{Version: syncproto.ProtocolVersion, Origin: e.Dir.Signer.Origin(), Role: string(c.Role), Tier: c.Tier, Unit: c.Unit, Node: c.Name}
}

func (e *Env) proto() syncproto.Config {
	return syncproto.Config{Self: e.hello(), Verifier: e.Verifier}
}

func (e *Env) index() (syncproto.BlobNeeds, func(ids ...replication.EntryID) error, error) {
	if e.Rep != nil {
		if ix := e.Rep.Needs(); ix != nil {
			return ix, ix.Recheck, nil
		}
	}
	if e.needs == nil {
		ix, err := needs.Open(e.Dir.Log, e.Dir.Blobs, dossier.RefsOf)
		if err != nil {
			return nil, nil, err
		}
		e.needs = ix
	}
	return e.needs, e.needs.Recheck, nil
}

// ExportRequest asks for a bundle for a hub.
type ExportRequest struct {
	// For names the hub: its name (as sync sessions knew it), or its
	// device key in hex (8 digits or more). Empty: the hub this laptop
	// syncs with (the hub peer it last heard from).
	For string `json:"for,omitempty"`
	// Out is the first part's path; further parts are OUT.2, OUT.3, ...
	Out string `json:"out"`
	// MaxSize bounds each part in bytes (0: one part, any size).
	MaxSize int64 `json:"max_size,omitempty"`
	// Parts bounds the parts written now (0: as many as needed).
	Parts int `json:"parts,omitempty"`
}

// ExportReport says what an export wrote.
type ExportReport struct {
	ID          string   `json:"id"`
	Hub         string   `json:"hub"`
	Recipients  []string `json:"recipients"`
	Files       []string `json:"files"`
	Bytes       int64    `json:"bytes"`
	Entries     int      `json:"entries"`
	Blobs       int      `json:"blobs"`
	BlobBytes   int64    `json:"blob_bytes"`
	Complete    bool     `json:"complete"`
	LeftEntries int      `json:"left_entries,omitempty"`
	LeftBlobs   int      `json:"left_blobs,omitempty"`
}

// target is the hub a bundle is for.
type target struct {
	name  string
	key   bundle.HubKey
	heads replication.Vector
}

// resolve finds the hub named (or the default) among the hubs whose
// bundle keys this replica holds.
func (e *Env) resolve(name string) (target, []bundle.HubKey, error) {
	keys, err := bundle.HubKeys(e.Dir.Log)
	if err != nil {
		return target{}, nil, err
	}
	if len(keys) == 0 {
		return target{}, nil, fmt.Errorf("%w: this replica holds no hub's bundle key yet; sync once with the hub (at the district office), then export", bundle.ErrNoKey)
	}
	var peers []replicator.PeerStatus
	if e.Rep != nil {
		peers, err = e.Rep.Peers()
	} else {
		peers, err = replicator.PeerStatuses(e.Dir.Log, e.Dir.Config.Role)
	}
	if err != nil {
		return target{}, nil, err
	}
	nameOf := map[replication.OriginID]replicator.PeerStatus{}
	for _, p := range peers {
		nameOf[p.Origin] = p
	}
	label := func(k bundle.HubKey) string {
		if p, ok := nameOf[k.Origin]; ok && p.Name != "" {
			return p.Name
		}
		return "hub-" + hex.EncodeToString(k.Device)[:8]
	}
	pick := func(k bundle.HubKey) target {
		t := target{name: label(k), key: k, heads: replication.Vector{}}
		if p, ok := nameOf[k.Origin]; ok {
			t.heads = p.TheirHeads.Clone()
		}
		return t
	}
	if name == "" {
		// The hub peer last heard from.
		var best *replicator.PeerStatus
		for i, p := range peers {
			if p.Role == string(replication.RoleHub) && (best == nil || p.LastContact.After(best.LastContact)) {
				for _, k := range keys {
					if k.Origin == p.Origin {
						best = &peers[i]
					}
				}
			}
		}
		if best != nil {
			for _, k := range keys {
				if k.Origin == best.Origin {
					return pick(k), keys, nil
				}
			}
		}
		if len(keys) == 1 {
			return pick(keys[0]), keys, nil
		}
		return target{}, nil, fmt.Errorf("bundle: %d hubs' keys are known (%s); name one with --for", len(keys), labels(keys, label))
	}
	lower := strings.ToLower(name)
	for _, k := range keys {
		if label(k) == name || (len(lower) >= 8 && strings.HasPrefix(hex.EncodeToString(k.Device), lower)) {
			return pick(k), keys, nil
		}
	}
	return target{}, nil, fmt.Errorf("%w: no hub %q among the hubs whose keys this replica holds (%s)", bundle.ErrNoKey, name, labels(keys, label))
}

func labels(keys []bundle.HubKey, label func(bundle.HubKey) string) string {
	var out []string
	for _, k := range keys {
		out = append(out, label(k)+" ("+k.Tier+")")
	}
	return strings.Join(out, ", ")
}

// PartPath is where part n of a bundle whose first part is out goes.
func PartPath(out string, n int) string {
	if n == 1 {
		return out
	}
	return fmt.Sprintf("%s.%d", out, n)
}

// Export writes a bundle for a hub.
func (e *Env) Export(req ExportRequest) (*ExportReport, error) {
	if req.Out == "" {
		return nil, errors.New("bundle: --out FILE is required")
	}
	if req.MaxSize < 0 || (req.MaxSize > 0 && req.MaxSize < 64<<10) {
		return nil, fmt.Errorf("bundle: --max-size %d: want 0 (no limit) or at least 64 KiB", req.MaxSize)
	}
	t, keys, err := e.resolve(req.For)
	if err != nil {
		return nil, err
	}
	to := []bundle.RecipientKey{{Device: t.key.Device, Key: t.key.Key}}
	rep := &ExportReport{Hub: t.name, Recipients: []string{t.name}}
	// Every other hub whose key is known may open it too: a replica on the
	// way up takes it and carries it on.
	for _, k := range keys {
		if len(to) < bundle.MaxRecipients && string(k.Device) != string(t.key.Device) {
			to = append(to, bundle.RecipientKey{Device: k.Device, Key: k.Key})
			rep.Recipients = append(rep.Recipients, "hub-"+hex.EncodeToString(k.Device)[:8])
		}
	}
	held, err := bundle.Held(e.Dir.Log, t.key.Device)
	if err != nil {
		return nil, err
	}
	myKey, err := bundle.KeyOf(e.Dir.Signer.PrivateKey())
	if err != nil {
		return nil, err
	}
	if dir := filepath.Dir(req.Out); dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("bundle: --out %s: its folder does not exist (is the stick mounted?)", req.Out)
		}
	}
	hub := wire.Hello{Version: syncproto.ProtocolVersion, Origin: t.key.Origin, Role: string(replication.RoleHub), Tier: t.key.Tier, Unit: t.key.Unit, Node: t.name}
	ex := &bundle.Exporter{Log: e.Dir.Log, Blobs: e.Dir.Blobs, Refs: dossier.RefsOf, Proto: e.proto(),
		Signer: e.Dir.Signer.PrivateKey(), ReplyKey: myKey.PublicKey().Bytes(),
		Hub: hub, HubHeads: t.heads, BlobsHeldThrough: held, To: to,
		PartBytes: req.MaxSize, MaxParts: req.Parts, Now: e.now(),
		Create: func(n int) (io.WriteCloser, error) {
			p := PartPath(req.Out, n)
			rep.Files = append(rep.Files, p)
			return os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		}}
	out, err := ex.Run()
	if err != nil {
		return nil, err
	}
	rep.ID, rep.Entries, rep.Blobs, rep.BlobBytes = out.ID.String(), out.Entries, out.Blobs, out.BlobBytes
	rep.Complete, rep.LeftEntries, rep.LeftBlobs = out.Complete, out.LeftEntries, out.LeftBlobs
	rec := bundle.Record{ID: out.ID, Direction: bundle.Up, Peer: t.name, State: bundle.StateExported,
		Entries: out.Entries, Blobs: out.Blobs, Created: e.now(), Updated: e.now(), MoreExpected: !out.Complete}
	for _, p := range out.Parts {
		rec.Parts = append(rec.Parts, uint32(p.N))
		rec.Bytes += p.Bytes
	}
	rep.Bytes = rec.Bytes
	return rep, bundle.SaveRecord(e.Dir.Log, rec)
}

// ImportRequest asks to take bundle parts.
type ImportRequest struct {
	Paths []string `json:"paths"`
	// Answer, at a hub, is where to write the answer to the bundle taken
	// (for its writer to take home).
	Answer string `json:"answer,omitempty"`
}

// PartReport is one part taken.
type PartReport struct {
	Path        string   `json:"path"`
	ID          string   `json:"id,omitempty"`
	Part        uint32   `json:"part,omitempty"`
	Direction   string   `json:"direction,omitempty"`
	From        string   `json:"from,omitempty"`
	Applied     int      `json:"entries_applied"`
	Duplicate   int      `json:"entries_held"`
	Refused     int      `json:"entries_refused"`
	Refusals    []string `json:"refusals,omitempty"`
	BlobsTaken  int      `json:"blobs_taken"`
	BlobsHeld   int      `json:"blobs_held"`
	BlobRefused int      `json:"blobs_refused"`
	BlobsCut    int      `json:"blobs_incomplete"`
	More        bool     `json:"more_parts_follow,omitempty"`
	// Problem is why the part stopped before its end, or was not taken
	// at all; what came before stands.
	Problem string `json:"problem,omitempty"`
	// Answers, for an answer taken: the bundle it acknowledges.
	Answers string `json:"answers,omitempty"`
}

// ImportReport says what an import took.
type ImportReport struct {
	Parts  []PartReport `json:"parts"`
	Answer *struct {
		File    string `json:"file"`
		ID      string `json:"id"`
		Bytes   int64  `json:"bytes"`
		Entries int    `json:"entries"`
	} `json:"answer,omitempty"`
}

// Problems counts the parts with a problem.
func (r *ImportReport) Problems() int {
	n := 0
	for _, p := range r.Parts {
		if p.Problem != "" {
			n++
		}
	}
	return n
}

// Import takes bundle parts (a laptop's at a hub, a hub's answer at a
// laptop) and, at a hub with req.Answer, writes the answer.
func (e *Env) Import(req ImportRequest) (*ImportReport, error) {
	ix, recheck, err := e.index()
	if err != nil {
		return nil, err
	}
	key, err := bundle.KeyOf(e.Dir.Signer.PrivateKey())
	if err != nil {
		return nil, err
	}
	im := &bundle.Importer{Log: e.Dir.Log, Blobs: e.Dir.Blobs, Refs: dossier.RefsOf, Needs: ix, Proto: e.proto(),
		Device: e.Dir.Signer.PublicKey(), Key: key, OnIngest: e.OnIngest,
		OnHeld: func(ids []replication.EntryID) { recheck(ids...) }}
	if e.Authorize != nil {
		im.Trusted = e.Authorize
	}
	rep := &ImportReport{}
	var ups []*bundle.Result
	for _, path := range req.Paths {
		pr := PartReport{Path: path}
		res, err := e.importFile(im, path)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) || errors.Is(err, bundle.ErrNotBundle) || errors.Is(err, bundle.ErrNotForUs) ||
				errors.Is(err, bundle.ErrBadSignature) || errors.Is(err, bundle.ErrTruncated) || errors.Is(err, replication.ErrMalformed) ||
				errors.Is(err, replication.ErrTooLarge) || strings.Contains(err.Error(), "signed by device") {
				pr.Problem = err.Error()
				rep.Parts = append(rep.Parts, pr)
				continue
			}
			return rep, err
		}
		fillReport(&pr, res)
		rep.Parts = append(rep.Parts, pr)
		if err := e.remember(res); err != nil {
			return rep, err
		}
		if res.Header.Direction == bundle.Up && res.Peer != nil {
			ups = append(ups, res)
		}
	}
	if req.Answer != "" {
		if err := e.answer(req.Answer, ups, rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func (e *Env) importFile(im *bundle.Importer, path string) (*bundle.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return im.ImportPart(f)
}

func fillReport(pr *PartReport, res *bundle.Result) {
	pr.ID, pr.Part, pr.Direction = res.Header.ID.String(), res.Header.Part, res.Header.Direction.String()
	pr.From = string(replication.DeviceIDOf(res.Header.Signer))
	if res.Peer != nil {
		pr.From = res.Peer.Node
	}
	pr.Applied, pr.Duplicate, pr.Refused = res.Applied, res.Duplicate, res.Refused
	for _, r := range res.Refusals {
		if len(pr.Refusals) < 10 {
			pr.Refusals = append(pr.Refusals, fmt.Sprintf("%s from seq %d: %s: %s", r.Origin.Short(), r.Seq, r.Reason, r.Detail))
		}
	}
	for _, st := range res.BlobRefusals {
		if len(pr.Refusals) < 20 {
			pr.Refusals = append(pr.Refusals, fmt.Sprintf("blob %s: %s: %s", st.Hash.Short(), st.Reason, st.Detail))
		}
	}
	pr.BlobsTaken, pr.BlobsHeld, pr.BlobRefused, pr.BlobsCut = res.BlobsTaken, res.BlobsHeld, res.BlobsRefused, res.BlobsIncomplete
	pr.More = res.More
	if res.Err != nil {
		pr.Problem = res.Err.Error() + "; what came before it is taken"
	}
	if res.Answers != nil {
		pr.Answers = res.Answers.Bundle.String()
	}
}

// remember records a part taken; an answer taken on a laptop advances
// what it believes the hub holds.
func (e *Env) remember(res *bundle.Result) error {
	now := e.now()
	peer := string(replication.DeviceIDOf(res.Header.Signer))
	if res.Peer != nil {
		peer = res.Peer.Node
	}
	rec, ok, err := bundle.LoadRecord(e.Dir.Log, res.Header.ID)
	if err != nil {
		return err
	}
	if !ok {
		rec = bundle.Record{ID: res.Header.ID, Direction: res.Header.Direction, Peer: peer, Created: time.Unix(res.Header.Created, 0).UTC()}
	}
	if rec.State == "" || rec.State == bundle.StateExported {
		rec.State = bundle.StateImported
	}
	if !containsPart(rec.Parts, res.Header.Part) {
		rec.Parts = append(rec.Parts, res.Header.Part)
		sort.Slice(rec.Parts, func(i, j int) bool { return rec.Parts[i] < rec.Parts[j] })
	}
	rec.Entries += res.Applied
	rec.Blobs += res.BlobsTaken
	rec.Incomplete = res.Err != nil || res.BlobsIncomplete > 0
	rec.MoreExpected = res.More
	rec.Note = ""
	if res.Err != nil {
		rec.Note = res.Err.Error()
	} else if res.Refused+res.BlobsRefused > 0 {
		rec.Note = fmt.Sprintf("%d entries and %d blobs refused", res.Refused, res.BlobsRefused)
	}
	rec.Updated = now
	if err := bundle.SaveRecord(e.Dir.Log, rec); err != nil {
		return err
	}
	if res.Header.Direction != bundle.Return || res.Answers == nil || res.Peer == nil {
		return nil
	}
	// An answer: the hub holds what its summary and its acknowledgement
	// say (the summary covers what it sent down too).
	heads := append(append([]replication.OriginHead(nil), res.PeerHeads...), res.HubHeads...)
	if e.Rep != nil {
		err = e.Rep.NoteHeads(*res.Peer, heads, now)
	} else {
		err = replicator.NoteHeads(e.Dir.Log, *res.Peer, heads, now)
	}
	if err != nil {
		return err
	}
	if err := bundle.NoteHeld(e.Dir.Log, res.Header.Signer, bundle.HeldThrough(res.HubStatus)); err != nil {
		return err
	}
	up, ok, err := bundle.LoadRecord(e.Dir.Log, res.Answers.Bundle)
	if err != nil || !ok {
		return err
	}
	up.State, up.Updated = bundle.StateAcknowledged, now
	ans := res.Header.ID
	up.Answer = &ans
	missing := 0
	for _, st := range res.HubBlobs {
		if st.State != wire.BlobHave {
			missing++
		}
	}
	up.Note = ""
	if missing > 0 {
		up.Note = fmt.Sprintf("%d blobs not taken at the hub (they go in the next bundle or session)", missing)
	}
	return bundle.SaveRecord(e.Dir.Log, up)
}

func containsPart(ps []uint32, p uint32) bool {
	for _, x := range ps {
		if x == p {
			return true
		}
	}
	return false
}

// answer writes the hub's answer to the up parts taken.
func (e *Env) answer(path string, ups []*bundle.Result, rep *ImportReport) error {
	if len(ups) == 0 {
		return fmt.Errorf("bundle: --answer: no laptop bundle part was taken, nothing to answer")
	}
	first := ups[0]
	var same []*bundle.Result
	for _, r := range ups {
		if r.Header.ID == first.Header.ID {
			same = append(same, r)
		}
	}
	ix, _, err := e.index()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("bundle: --answer: %w", err)
	}
	a := &bundle.Answerer{Log: e.Dir.Log, Blobs: e.Dir.Blobs, Refs: dossier.RefsOf, Needs: ix, Proto: e.proto(), Signer: e.Dir.Signer.PrivateKey(), Now: e.now()}
	out, err := a.Write(f, same, 0)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("bundle: write the answer: %w", err)
	}
	var size int64
	if fi, err := os.Stat(path); err == nil {
		size = fi.Size()
	}
	rep.Answer = &struct {
		File    string `json:"file"`
		ID      string `json:"id"`
		Bytes   int64  `json:"bytes"`
		Entries int    `json:"entries"`
	}{path, out.ID.String(), size, out.Entries}
	now := e.now()
	if up, ok, err := bundle.LoadRecord(e.Dir.Log, first.Header.ID); err == nil && ok {
		id := out.ID
		up.State, up.Answer, up.Updated = bundle.StateAnswered, &id, now
		if err := bundle.SaveRecord(e.Dir.Log, up); err != nil {
			return err
		}
	}
	return bundle.SaveRecord(e.Dir.Log, bundle.Record{ID: out.ID, Direction: bundle.Return, Peer: first.Peer.Node, State: bundle.StateExported,
		Entries: out.Entries, Bytes: size, Parts: []uint32{1}, Created: now, Updated: now})
}

// List returns the bundles this replica remembers, newest first.
func (e *Env) List() ([]bundle.Record, error) { return bundle.Records(e.Dir.Log) }
