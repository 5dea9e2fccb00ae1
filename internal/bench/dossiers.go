package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"fieldsync/dossier"
	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
	"fieldsync/internal/linkemu"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/datadir"
	"fieldsync/replication/replicator"
	"fieldsync/replication/syncnet"
	"fieldsync/replication/syncproto"
)

// DossierScenario is one run of `fieldsync bench dossiers`.
type DossierScenario struct {
	Name     string
	Loss     float64
	Schedule linkemu.Schedule
	// Lane: what moves. "records" moves the records alone (no blob lane),
	// "dossiers" the records and their blobs with fieldsync, "whole-file"
	// each dossier as one HTTP upload, retried whole after a failure (the
	// ODK Collect and MOSIP baseline).
	Lane string
	// Live, if set, enrolls a new dossier on the laptop every Live of
	// emulated time while the backlog drains, and measures how long its
	// record takes to reach the hub (records first).
	Live time.Duration
}

// Lanes of a dossier scenario.
const (
	LaneRecords   = "records"
	LaneDossiers  = "dossiers"
	LaneWholeFile = "whole-file"
)

// DossierScenarios are the runs of issue #10: the records alone; the
// dossiers at 0% loss (with live captures during the drain) and with 10 s
// cuts every 30 s; the whole-file baseline under both.
func DossierScenarios() []DossierScenario {
	cuts := linkemu.Periodic(20*time.Second, 10*time.Second)
	return []DossierScenario{
		{Name: "records alone", Lane: LaneRecords, Schedule: linkemu.AlwaysUp()},
		{Name: "dossiers 0% loss", Lane: LaneDossiers, Schedule: linkemu.AlwaysUp()},
		{Name: "dossiers 10 s cuts every 30 s", Lane: LaneDossiers, Schedule: cuts},
		{Name: "live captures during the drain", Lane: LaneDossiers, Schedule: linkemu.AlwaysUp(), Live: 2 * time.Minute},
		{Name: "whole-file 0% loss", Lane: LaneWholeFile, Schedule: linkemu.AlwaysUp()},
		{Name: "whole-file 10 s cuts every 30 s", Lane: LaneWholeFile, Schedule: cuts},
	}
}

// DossierConfig is what every scenario of one run shares.
type DossierConfig struct {
	Dossiers int           // a station-day: 300
	Rate     int64         // bits/s each way
	RTT      time.Duration // round trip
	// Speedup runs emulated time this many times faster than real time
	// (linkemu.TimeLapse); 1 is real time.
	Speedup float64
	Seed    uint64
	// ChunkBytes is the blob lane's chunk size (0: syncproto's default).
	ChunkBytes int
	// MaxEmulated stops a scenario that has not finished after this much
	// emulated time (the whole-file baseline under cuts may never finish).
	MaxEmulated time.Duration
	// LiveFor bounds the live-capture scenario: captures stop after it,
	// and the scenario ends when the last one's record arrived.
	LiveFor time.Duration
	// Netns runs over a real shaped link (two network namespaces, tc tbf
	// at Rate; Linux and root only) in real time instead of the emulator.
	Netns bool
	// DossierBytes, if set, scales every generated dossier's files to
	// about this many bytes in all (the comparison used 0.5 MB).
	DossierBytes int64
}

// DossierResult is one scenario's figures. Times are emulated seconds.
type DossierResult struct {
	Scenario  string `json:"scenario"`
	Dossiers  int    `json:"dossiers"`
	Blobs     int    `json:"blobs"`
	BlobBytes int64  `json:"blob_bytes"`
	// RecordZstd19 is the records as JSON lines through `zstd -19`.
	RecordZstd19 int64 `json:"records_zstd19_bytes"`
	// RecordsSeconds: until every record of the backlog is at the hub.
	RecordsSeconds float64 `json:"records_seconds"`
	// CompleteSeconds: until every dossier is complete at the hub (every
	// blob held, verified); UpSeconds the link-up time within it.
	CompleteSeconds float64 `json:"complete_seconds"`
	UpSeconds       float64 `json:"up_seconds"`
	// Complete counts the dossiers complete at the end (all of them unless
	// the scenario was stopped at MaxEmulated).
	Complete int  `json:"complete"`
	Stopped  bool `json:"stopped"`
	// BoundSeconds: (blob bytes + records' zstd -19 bytes) × 8 / rate:
	// what the link must carry at the least, while up.
	BoundSeconds  float64 `json:"bound_seconds"`
	TimeOverBound float64 `json:"up_time_over_bound"`
	WireUp        int64   `json:"wire_up"`
	WireDown      int64   `json:"wire_down"`
	Retransmits   int64   `json:"retransmitted_bytes"`
	Cuts          int64   `json:"cuts"`
	Sessions      int     `json:"sessions"`
	// WireOverPayload: up wire bytes / (blob bytes + zstd -19 records).
	WireOverPayload float64 `json:"wire_up_over_payload"`
	// SentAgain: blob (or, for the baseline, upload) bytes handed to the
	// link more than once, in all and per cut.
	SentAgain       int64   `json:"sent_again_bytes"`
	SentAgainPerCut float64 `json:"sent_again_per_cut"`
	// Live records: how many, and their latency from capture to the hub.
	LiveRecords  int     `json:"live_records"`
	LiveP50      float64 `json:"live_p50_seconds"`
	LiveMax      float64 `json:"live_max_seconds"`
	ChunkSeconds float64 `json:"chunk_seconds"` // one chunk's time on the link
}

// benchDossier is one generated dossier: its record and its files
// (synth's: DOMAIN.md §6.4 sizes, in real containers — JPEG, WSQ, JPEG
// 2000, PNG — around incompressible image data: a portrait of 0.05–0.5
// MB, ten rolled prints of 15–30 KB, three slaps of 60–200 KB, two irises
// of 20–40 KB, a signature of 8–40 KB).
type benchDossier struct {
	rec   enrollment.Enrollment
	files []enrollment.DossierFile
}

// makeDossiers generates n dossiers; with size > 0, each dossier's files
// are scaled to about size bytes in all.
func makeDossiers(n int, seed uint64, size int64) ([]benchDossier, error) {
	g, err := synth.New(synth.Config{Count: n, Seed: seed})
	if err != nil {
		return nil, err
	}
	var out []benchDossier
	for rec, ok := g.Next(); ok; rec, ok = g.Next() {
		if size > 0 {
			scaleDossier(&rec, size)
		}
		d := benchDossier{rec: rec.Enrollment, files: rec.Files()}
		d.rec.Biometrics = nil // computed from the files at capture
		out = append(out, d)
	}
	return out, nil
}

// scaleDossier scales a generated dossier's files to about size bytes.
func scaleDossier(rec *synth.Record, size int64) {
	var total int64
	for _, b := range rec.Blobs {
		total += int64(b.Size)
	}
	if total == 0 {
		return
	}
	for i := range rec.Blobs {
		// The signature scan stays as it is: its container's dimensions
		// follow its size, and a thin one is refused at capture.
		if rec.Blobs[i].Size > 0 && rec.Blobs[i].Slot != "signature" {
			rec.Blobs[i].Size = max(8192, int(int64(rec.Blobs[i].Size)*size/total))
		}
	}
}

func (d *benchDossier) bytes() int64 {
	var n int64
	for _, f := range d.files {
		n += int64(len(f.Data))
	}
	return n
}

// withRefs is the record with its references, as a capture computes them
// from the files.
func (d *benchDossier) withRefs() enrollment.Enrollment {
	rec := d.rec
	for _, f := range d.files {
		ref := enrollment.BlobRef{Kind: f.Slot, Exception: f.Exception}
		if f.Data != nil {
			id := blob.IDOf(f.Data)
			ref.SHA256, ref.Size = id.Hash.String(), id.Size
		}
		rec.Biometrics = append(rec.Biometrics, ref)
	}
	return rec
}

func (d *benchDossier) blobs() int {
	n := 0
	for _, f := range d.files {
		if f.Data != nil {
			n++
		}
	}
	return n
}

// Dossiers runs one scenario: a laptop holding cfg.Dossiers dossiers
// (records and blobs) syncs with a district hub over an emulated link,
// with the real sync runtime on real loopback sockets, the real sealed
// blob stores and Badger; or, for the whole-file lane, uploads them over
// HTTP through the same link.
func Dossiers(dir string, cfg DossierConfig, sc DossierScenario) (DossierResult, error) {
	res := DossierResult{Scenario: sc.Name, Dossiers: cfg.Dossiers}
	ds, err := makeDossiers(cfg.Dossiers, cfg.Seed, cfg.DossierBytes)
	if err != nil {
		return res, err
	}
	var jsonl bytes.Buffer
	for i := range ds {
		res.Blobs += ds[i].blobs()
		res.BlobBytes += ds[i].bytes()
		rec := ds[i].withRefs()
		if err := writeJSONLine(&jsonl, &rec); err != nil {
			return res, err
		}
	}
	if res.RecordZstd19, err = zstd19Size(jsonl.Bytes()); err != nil {
		return res, err
	}
	payload := res.BlobBytes + res.RecordZstd19
	if sc.Lane == LaneRecords {
		payload = res.RecordZstd19
	}
	res.BoundSeconds = float64(payload) * 8 / float64(cfg.Rate)
	// The link and its clock start once both ends are set up.
	newLink := func() (benchLink, error) {
		if cfg.Netns {
			return newNetnsLink(cfg, sc)
		}
		return newEmuLink(cfg, sc), nil
	}
	var (
		run  runStats
		link benchLink
	)
	if sc.Lane == LaneWholeFile {
		if link, err = newLink(); err == nil {
			run, err = wholeFile(ds, link, cfg)
		}
	} else {
		run, link, err = fieldsyncDossiers(dir, ds, newLink, cfg, sc)
	}
	if link != nil {
		defer link.Close()
	}
	if err != nil {
		return res, err
	}
	start := link.Start()
	res.RecordsSeconds = run.records.Sub(start).Seconds()
	res.CompleteSeconds = run.complete.Sub(start).Seconds()
	res.Complete, res.Stopped, res.Sessions = run.completeN, run.stopped, run.sessions
	res.UpSeconds = upTime(sc.Schedule, run.complete.Sub(start)).Seconds()
	if sc.Lane == LaneRecords {
		res.UpSeconds = upTime(sc.Schedule, run.records.Sub(start)).Seconds()
	}
	res.TimeOverBound = res.UpSeconds / res.BoundSeconds
	st := link.Stats()
	res.WireUp, res.WireDown = st.Up, st.Down
	res.Retransmits = st.Retransmits
	res.Cuts = st.Cuts
	res.WireOverPayload = float64(res.WireUp) / float64(payload)
	res.SentAgain = run.sentAgain
	if res.Cuts > 0 {
		res.SentAgainPerCut = float64(res.SentAgain) / float64(res.Cuts)
	}
	if len(run.live) > 0 {
		slices.Sort(run.live)
		res.LiveRecords = len(run.live)
		res.LiveP50 = run.live[len(run.live)/2].Seconds()
		res.LiveMax = run.live[len(run.live)-1].Seconds()
	}
	res.ChunkSeconds = float64(run.chunk) * 8 / float64(cfg.Rate)
	return res, nil
}

// runStats is what a lane's run reports.
type runStats struct {
	records, complete time.Time // emulated
	completeN         int
	stopped           bool
	sessions          int
	sentAgain         int64
	live              []time.Duration
	chunk             int
}

// upTime is the time a schedule keeps the link up within [0, d).
func upTime(s linkemu.Schedule, d time.Duration) time.Duration {
	var up time.Duration
	for t := time.Duration(0); t < d; {
		isUp, next := s.At(t)
		end := min(next, d)
		if isUp {
			up += end - t
		}
		t = end
	}
	return up
}

// fieldsyncDossiers runs the laptop and hub replicators over the link
// until the hub holds every record (and, for the dossier lane, every
// dossier complete).
func fieldsyncDossiers(dir string, ds []benchDossier, newLink func() (benchLink, error), cfg DossierConfig,
	sc DossierScenario) (run runStats, link benchLink, err error) {
	withBlobs := sc.Lane == LaneDossiers
	lap, nd, err := laptopWithDossiers(filepath.Join(dir, "laptop"), ds)
	if err != nil {
		return run, nil, err
	}
	defer lap.Close()
	hub, err := datadir.Init(filepath.Join(dir, "hub"), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleHub, Tier: "district", Unit: "445"}})
	if err != nil {
		return run, nil, err
	}
	defer hub.Close()
	if link, err = newLink(); err != nil {
		return run, nil, err
	}
	clock, start := link.Clock(), link.Start()
	ln, err := link.Listen()
	if err != nil {
		return run, link, err
	}
	sess := syncnet.Options{IdleTimeout: 5 * time.Second}
	var blobs *replicator.BlobConfig
	if withBlobs {
		blobs = &replicator.BlobConfig{Refs: dossier.RefsOf, ChunkBytes: cfg.ChunkBytes}
	}
	hubRep, err := replicator.New(replicator.Config{Dir: hub, Listener: ln, Session: sess, Clock: clock, Blobs: blobs})
	if err != nil {
		return run, link, err
	}
	lapRep, err := replicator.New(replicator.Config{Dir: lap, Static: []string{ln.Addr().String()}, Session: sess, Clock: clock, Blobs: blobs, Logger: benchLogger(),
		Dial: link.Dial})
	if err != nil {
		return run, link, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go hubRep.Run(ctx)
	go lapRep.Run(ctx)
	o := lap.Signer.Origin()
	want, err := lap.Log.Head(o)
	if err != nil {
		return run, link, err
	}
	lastTrace, lastUp := start, int64(0)
	var live liveCaptures
	if sc.Live > 0 {
		live.start(ctx, nd, lapRep, hub, o, clock, sc.Live, cfg.LiveFor, cfg.Seed)
	}
	for {
		if clock.Now().Sub(start) > cfg.MaxEmulated {
			run.stopped = true
			break
		}
		h, err := hub.Log.Head(o)
		if err != nil {
			return run, link, err
		}
		if run.records.IsZero() && h.Seq >= want.Seq {
			run.records = clock.Now()
			if !withBlobs {
				run.complete, run.completeN = run.records, len(ds)
				break
			}
		}
		if withBlobs && !run.records.IsZero() {
			done, err := dossiersComplete(hubRep, o, want.Seq)
			if err != nil {
				return run, link, err
			}
			if sc.Live > 0 && live.done() {
				run.complete = clock.Now()
				break
			}
			if sc.Live == 0 && done {
				run.complete, run.completeN = clock.Now(), len(ds)
				break
			}
		}
		if debugTrace && clock.Now().Sub(lastTrace) >= time.Second {
			st := link.Stats()
			fmt.Fprintf(os.Stderr, "t=%6.1f up=%9d (+%6d) down=%8d\n", clock.Now().Sub(start).Seconds(), st.Up, st.Up-lastUp, st.Down)
			lastTrace, lastUp = clock.Now(), st.Up
		}
		time.Sleep(2 * time.Millisecond)
	}
	if run.stopped {
		run.complete = clock.Now()
	}
	cancel()
	run.live = live.latencies()
	time.Sleep(100 * time.Millisecond) // the sessions end and fold their counters
	peers, _ := lapRep.Peers()
	var sent int64
	for _, p := range peers {
		run.sessions += p.Sessions
		sent += p.BlobBytesOut
		run.sentAgain += p.BlobBytesResent
	}
	run.sentAgain = max(run.sentAgain, sent-blobBytesOf(ds))
	run.chunk = chunkSize(cfg)
	return run, link, nil
}

// dossiersComplete reports whether the hub's index of needs has every
// entry of o up to seq complete.
func dossiersComplete(r *replicator.Replicator, o replication.OriginID, seq uint64) (bool, error) {
	st, err := r.Needs().Origins([]replication.OriginID{o})
	if err != nil {
		return false, err
	}
	return st[0].Incomplete == 0 && st[0].Through >= seq, nil
}

func blobBytesOf(ds []benchDossier) int64 {
	var n int64
	for i := range ds {
		n += ds[i].bytes()
	}
	return n
}

// laptopWithDossiers makes a laptop holding the dossiers, saved as a
// capture saves them: files checked, blobs sealed, then the records.
func laptopWithDossiers(path string, ds []benchDossier) (*datadir.Dir, *node.Node, error) {
	d, err := datadir.Init(path, datadir.InitOptions{Config: datadir.Config{Role: replication.RoleNode, Unit: "18586"}})
	if err != nil {
		return nil, nil, err
	}
	nd, err := node.New(d, node.Options{Freeze: node.NoFreeze}) // a station-day's backlog, not field capture
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	for i := 0; i < len(ds); i += node.MaxGroupRecords {
		group := make([]node.Dossier, 0, node.MaxGroupRecords)
		for _, x := range ds[i:min(len(ds), i+node.MaxGroupRecords)] {
			group = append(group, node.Dossier{Record: x.rec, Files: x.files})
		}
		results, err := nd.SaveDossiers(group)
		for _, r := range results {
			if err == nil && r.Err != nil {
				err = fmt.Errorf("bench: a generated dossier was refused: %w", r.Err)
			}
		}
		if err != nil {
			d.Close()
			return nil, nil, err
		}
	}
	return d, nd, nil
}

// chunkSize is the chunk the lane sends on this link: ChunkBytes, or half
// the window (a chunk plus the link's bandwidth-delay product) when that
// is smaller (syncproto's chunkSize).
func chunkSize(cfg DossierConfig) int {
	c := cfg.ChunkBytes
	if c == 0 {
		c = syncproto.DefaultBlobChunkBytes
	}
	pipe := int(float64(cfg.Rate) / 8 * cfg.RTT.Seconds())
	return min(c, (c+pipe)/2)
}

// liveCaptures enrolls a dossier every period while the backlog drains
// and times its record's arrival at the hub.
type liveCaptures struct {
	ch   chan time.Duration
	stop chan struct{}
	lats []time.Duration
	n    int
}

func (l *liveCaptures) start(ctx context.Context, nd *node.Node, rep *replicator.Replicator, hub *datadir.Dir, o replication.OriginID,
	clock replication.Clock, every, total time.Duration, seed uint64) {
	l.ch, l.stop = make(chan time.Duration, 1024), make(chan struct{})
	more, _ := makeDossiers(int(total/every)+1, seed+1, 0)
	l.n = len(more)
	go func() {
		for i := range more {
			t, stop := clock.NewTimer(every)
			select {
			case <-ctx.Done():
				stop()
				return
			case <-t:
			}
			rc, err := nd.SaveDossier(&node.Dossier{Record: more[i].rec, Files: more[i].files})
			if err != nil {
				l.ch <- -1
				continue
			}
			at := clock.Now()
			rep.Wake()
			for {
				if h, _ := hub.Log.Head(o); h.Seq >= rc.ID.Seq {
					l.ch <- clock.Now().Sub(at)
					break
				}
				if ctx.Err() != nil {
					return
				}
				time.Sleep(time.Millisecond)
			}
		}
	}()
}

func (l *liveCaptures) done() bool {
	for {
		select {
		case d := <-l.ch:
			l.lats = append(l.lats, d)
		default:
			return len(l.lats) >= l.n
		}
	}
}

func (l *liveCaptures) latencies() []time.Duration {
	l.done()
	return slices.DeleteFunc(l.lats, func(d time.Duration) bool { return d < 0 })
}

// writeJSONLine appends v as one line of JSON.
func writeJSONLine(b *bytes.Buffer, v any) error {
	p, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b.Write(p)
	b.WriteByte('\n')
	return nil
}

// benchLogger logs the laptop's sync runtime to stderr when
// FIELDSYNC_BENCH_LOG is set (diagnosing a run).
func benchLogger() *slog.Logger {
	if os.Getenv("FIELDSYNC_BENCH_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

var debugTrace = os.Getenv("FIELDSYNC_BENCH_TRACE") != ""

// DossierSummary derives the figures from the scenarios of one
// run, as far as they ran: (a) records with their dossiers against the
// records alone; (b) time against the bound, with and without cuts; (c)
// the wire bytes each cut cost beyond the same transfer without cuts, for
// fieldsync and for the whole-file baseline; (d) the baseline's time.
func DossierSummary(rs []DossierResult) []string {
	by := map[string]DossierResult{}
	for _, r := range rs {
		by[r.Scenario] = r
	}
	var out []string
	if a, ok := by["records alone"]; ok {
		if d, ok := by["dossiers 0% loss"]; ok && a.RecordsSeconds > 0 {
			out = append(out, fmt.Sprintf("(a) every record at the hub: %.1f s with the blobs behind, %.1f s alone: %.2fx", d.RecordsSeconds, a.RecordsSeconds, d.RecordsSeconds/a.RecordsSeconds))
		}
	}
	for _, name := range []string{"dossiers 0% loss", "dossiers 10 s cuts every 30 s", "whole-file 0% loss", "whole-file 10 s cuts every 30 s"} {
		if r, ok := by[name]; ok {
			done := "all complete"
			if r.Stopped {
				done = fmt.Sprintf("%d of %d complete when stopped", r.Complete, r.Dossiers)
			}
			out = append(out, fmt.Sprintf("(b/d) %s: %.0f s of link-up time for a bound of %.0f s: %.3fx (%s)", name, r.UpSeconds, r.BoundSeconds, r.TimeOverBound, done))
		}
	}
	for _, lane := range []string{"dossiers", "whole-file"} {
		clean, ok1 := by[lane+" 0% loss"]
		cut, ok2 := by[lane+" 10 s cuts every 30 s"]
		if ok1 && ok2 && cut.Cuts > 0 && !cut.Stopped {
			extra := float64(cut.WireUp-clean.WireUp) / float64(cut.Cuts)
			out = append(out, fmt.Sprintf("(c) %s: %.0f wire bytes up per cut beyond the same transfer without cuts (%d cuts)", lane, extra, cut.Cuts))
		}
	}
	return out
}
