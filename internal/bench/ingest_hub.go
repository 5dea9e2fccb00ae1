package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"sync"
	"time"

	"fieldsync/enrollment"
	"fieldsync/hub"
	"fieldsync/hub/dashboard"
	"fieldsync/hub/reconcile"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/oplog"
	"fieldsync/replication/replicator"
	"fieldsync/replication/syncnet"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
	"fieldsync/runtime/localapi"
	"fieldsync/storage"
)

// HubFigures is the hub path, as a running hub does it: the batches of
// every laptop decoded and verified by its own session (Sessions of them
// at once), written with Log.Ingest (synced, group-committed) and
// acknowledged; the view following the log on its own goroutine.
type HubFigures struct {
	// AckedSeconds is when the last batch was acknowledged (on disk);
	// Seconds, when the view had applied everything too.
	AckedSeconds       float64 `json:"acked_seconds"`
	AckedEntriesPerSec float64 `json:"acked_entries_per_sec"`
	Seconds            float64 `json:"seconds"`
	EntriesPerSec      float64 `json:"entries_per_sec"`
	// Summed over the sessions: reading and decoding the batch frames,
	// Session.Step + Ready (chain, signatures, genesis), Log.Ingest.
	DecodeSeconds float64 `json:"decode_seconds"`
	VerifySeconds float64 `json:"verify_seconds"`
	IngestSeconds float64 `json:"ingest_seconds"`
	Sessions      int     `json:"sessions"`
	// IngestCalls were committed in IngestCommits groups (one sync each).
	IngestCalls   uint64 `json:"ingest_calls"`
	IngestCommits uint64 `json:"ingest_commits"`
	// ViewLagMax is the most entries the view was behind the log.
	ViewLagMax uint64 `json:"view_lag_max"`
	Applied    int    `json:"applied"`
	// ProbeEntries are the probe laptop's (its genesis and captures): in
	// the hub's log and view too.
	ProbeEntries int `json:"probe_entries"`
	PhaseMem
	// BaseHeapMB is the live heap of the hub with its stores open and
	// nothing in them; ViewHeapMB, once everything is in and applied
	// (the daemon running); HeapBytesPerCitizen is the difference per
	// citizen: what the hub keeps in memory per citizen it holds.
	BaseHeapMB          float64 `json:"base_heap_mb"`
	ViewHeapMB          float64 `json:"view_heap_mb"`
	HeapBytesPerCitizen float64 `json:"heap_bytes_per_citizen"`
	// Latency while the hub ingests at full speed: a laptop's session
	// (a batch of one capture sent, to its ack), the dashboard's snapshot
	// and /metrics, over HTTP, every ProbeEvery.
	Session   Percentiles `json:"session_latency"`
	Dashboard Percentiles `json:"dashboard_latency"`
	Metrics   Percentiles `json:"metrics_latency"`
	// Restart is the hub stopped and started again.
	Restart RestartFigures  `json:"restart"`
	View    reconcile.Stats `json:"view"`
	Digest  string          `json:"digest"`
}

// RestartFigures is a hub started again over what it holds: the time
// until it serves sync (a laptop's session exchanges summaries) and the
// dashboard (a snapshot answered), the entries its view had to apply
// (0: no replay), and whether it shows the digest it showed before.
type RestartFigures struct {
	Seconds     float64 `json:"seconds"`
	OpenSeconds float64 `json:"open_seconds"` // data directory and the view's store open, matcher loaded
	LagAtOpen   uint64  `json:"lag_at_open"`
	SameDigest  bool    `json:"same_digest"`
	PeakRSSMB   float64 `json:"peak_rss_mb"`
}

// Limits of the hub phase.
const (
	// benchSessions is how many sessions take the laptops' batches at
	// once (each owns a share of the origins, as a session owns its
	// laptop's); queued batches are bounded per session.
	benchSessions     = 8
	benchSessionQueue = 4
	// ProbeEvery is how often the latency probes run during ingest.
	ProbeEvery = 200 * time.Millisecond
	// maxProbes bounds the samples kept.
	maxProbes = 100_000
)

// hubRun is a hub as `fieldsync run` builds it — data directory with the
// hub profile, the daemon (view, API, dashboard, sync listener) running —
// and one receiving session per laptop fed from the spool.
type hubRun struct {
	path   string
	key    []byte
	dir    *datadir.Dir
	daemon *hub.Daemon
	info   localapi.Info
	sync   string // the sync listener's address
	stop   func()
	recv   map[replication.OriginID]*syncproto.Session
}

// startHub opens (init: first time) the hub's directory and runs its
// daemon until stop.
func startHub(path string, key []byte, init bool) (*hubRun, error) {
	h := &hubRun{path: path, key: key}
	var err error
	if init {
		// Open mode: no roster to consult (its Verifier is a lookup per range).
		cfg := datadir.Config{Role: replication.RoleHub, Tier: hubHello.Tier, Unit: hubHello.Unit, Name: hubHello.Node, Open: true}
		h.dir, err = datadir.Init(path, datadir.InitOptions{Config: cfg, Profile: storage.ProfileHub, EncryptionKey: key})
	} else {
		h.dir, err = datadir.Open(path, datadir.OpenOptions{Profile: storage.ProfileHub, EncryptionKey: key})
	}
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.dir.Close()
		return nil, err
	}
	h.sync = ln.Addr().String()
	ready := make(chan localapi.Info, 1)
	h.daemon, err = hub.NewDaemon(hub.DaemonConfig{Dir: h.dir, APIAddr: "127.0.0.1:0", Public: dashboard.Handler,
		Ready:      func(i localapi.Info) { ready <- i },
		Replicator: replicator.Config{Listener: ln, Session: syncnet.Options{IdleTimeout: time.Hour}}})
	if err != nil {
		ln.Close()
		h.dir.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.daemon.Run(ctx) }()
	h.stop = func() { cancel(); <-done; h.dir.Close() }
	select {
	case h.info = <-ready:
	case err := <-done:
		cancel()
		h.dir.Close()
		return nil, fmt.Errorf("bench: the hub stopped at start: %w", err)
	}
	return h, nil
}

// sessions opens a receiving session per laptop, as each laptop's
// Hello starts one.
func (h *hubRun) sessions(in *ingestInput) error {
	h.recv = map[replication.OriginID]*syncproto.Session{}
	self := hubHello
	self.Origin = h.dir.Signer.Origin()
	for o, hello := range in.hellos {
		s, err := syncproto.NewSession(syncproto.DefaultConfig(self), h.dir.Log)
		if err == nil {
			peer := *hello
			err = s.Step(&peer)
		}
		if err == nil {
			// A peer's Summary comes before its batches (an ordered
			// link). It says the laptop holds what the hub holds: the
			// session then has nothing of its own to build.
			var v replication.Vector
			if v, err = h.dir.Log.Vector(); err == nil {
				err = s.Step(&wire.Summary{Heads: v.Heads()})
			}
		}
		if err != nil {
			return err
		}
		h.recv[o] = s
	}
	return nil
}

// hubPhase runs every batch through a running hub and measures it, then
// stops the hub and starts it again.
func hubPhase(path string, in *ingestInput, cpuProfile string) (HubFigures, error) {
	f := HubFigures{Sessions: benchSessions}
	defer os.RemoveAll(path)
	h, err := startHub(path, in.key, true)
	if err != nil {
		return f, err
	}
	if err := h.sessions(in); err != nil {
		h.stop()
		return f, err
	}
	f.BaseHeapMB = liveHeapMB()
	if cpuProfile != "" {
		pf, err := os.Create(cpuProfile)
		if err != nil {
			h.stop()
			return f, err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			h.stop()
			return f, err
		}
		defer pprof.StopCPUProfile()
	}
	pr, err := newProber(h)
	if err != nil {
		h.stop()
		return f, err
	}
	f.PhaseMem, err = measured(func() error {
		pr.start()
		start := time.Now()
		err := h.run(in, &f, start)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 6*time.Hour)
			err = h.daemon.ViewCaughtUp(ctx)
			cancel()
		}
		f.Seconds = time.Since(start).Seconds()
		pr.stop()
		return err
	})
	f.Session, f.Dashboard, f.Metrics = percentiles(pr.session), percentiles(pr.dashboard), percentiles(pr.metrics)
	f.Dashboard.TimedOut, f.Metrics.TimedOut = pr.dashTimeouts, pr.metricsTimeouts
	f.ViewLagMax = pr.lagMax
	if err != nil {
		h.stop()
		return f, errors.Join(err, pr.err)
	}
	// The probe may have sent a capture after the view caught up: wait
	// for it too (untimed), so the digest is the whole log's, as the
	// restart will show it.
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	err = h.daemon.ViewCaughtUp(ctx)
	cancel()
	if err != nil {
		h.stop()
		return f, err
	}
	f.View, f.Digest = h.daemon.View().Stats()
	f.ProbeEntries = 1 + pr.sent
	applied := h.daemon.View().Applied()
	for o := range in.hellos { // the hub's own entries and the probe laptop's are in its view too
		f.Applied += int(applied.Seq(o))
	}
	f.EntriesPerSec = float64(in.entries) / f.Seconds
	f.AckedEntriesPerSec = float64(in.entries) / f.AckedSeconds
	if l, ok := h.dir.Log.(*storage.Log); ok {
		f.IngestCalls, f.IngestCommits = l.IngestGroups()
	}
	h.recv = nil // the sessions keep their last batches; the view is measured alone
	f.ViewHeapMB = liveHeapMB()
	f.HeapBytesPerCitizen = (f.ViewHeapMB - f.BaseHeapMB) * (1 << 20) / float64(max(1, f.View.Citizens))
	h.stop()
	if f.Applied != in.entries {
		return f, fmt.Errorf("bench: hub applied %d entries of %d", f.Applied, in.entries)
	}
	if pr.err != nil {
		return f, pr.err
	}
	f.Restart, err = restartHub(path, in.key, f.Digest)
	return f, err
}

// run feeds every batch to the session of its laptop: a reader decodes the
// frames, benchSessions workers verify, write and acknowledge, each owning
// the laptops whose origin falls to it (so each origin's batches stay in
// order), and do what a session's OnIngest does (Daemon.Ingested).
func (h *hubRun) run(in *ingestInput, f *HubFigures, start time.Time) error {
	fr, err := openFrames(in.dir)
	if err != nil {
		return err
	}
	defer fr.close()
	type timing struct{ verify, ingest time.Duration }
	queues := make([]chan *wire.Batch, benchSessions)
	times := make([]timing, benchSessions)
	errs := make([]error, benchSessions)
	var wg sync.WaitGroup
	for w := range queues {
		queues[w] = make(chan *wire.Batch, benchSessionQueue)
		wg.Go(func() {
			for b := range queues[w] {
				if errs[w] != nil {
					continue
				}
				t0 := time.Now()
				s := h.recv[b.Ranges[0].Origin]
				p, err := receive(s, b)
				if err != nil {
					errs[w] = err
					continue
				}
				t1 := time.Now()
				res, err := h.dir.Log.Ingest(p.Entries, nil)
				if err := s.Persisted(res, err); err != nil {
					errs[w] = err
					continue
				}
				if err == nil {
					h.daemon.Ingested(res) // the session's OnIngest: the view and the dossier counts follow on their own goroutines
				}
				times[w].verify += t1.Sub(t0)
				times[w].ingest += time.Since(t1)
			}
		})
	}
	var decode time.Duration
	var rerr error
	for {
		t0 := time.Now()
		b, err := fr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			rerr = err
			break
		}
		decode += time.Since(t0)
		queues[sessionOf(b.Ranges[0].Origin)] <- b
	}
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	f.AckedSeconds = time.Since(start).Seconds()
	f.DecodeSeconds = decode.Seconds()
	for _, t := range times {
		f.VerifySeconds += t.verify.Seconds()
		f.IngestSeconds += t.ingest.Seconds()
	}
	return errors.Join(rerr, errors.Join(errs...))
}

func sessionOf(o replication.OriginID) int {
	return int(o[0]^o[1]) % benchSessions
}

// receive hands a batch to its session and returns what the session wants
// written: the batch's ranges once their chain and signatures verified.
func receive(s *syncproto.Session, b *wire.Batch) (*syncproto.Persist, error) {
	if s == nil {
		return nil, errors.New("bench: batch from an origin with no session")
	}
	if err := s.Step(b); err != nil {
		return nil, err
	}
	rd, err := s.Ready()
	if err != nil {
		return nil, err
	}
	if rd.Persist == nil {
		return nil, fmt.Errorf("bench: batch %d not admitted: %v", b.ID, rd.Events)
	}
	return rd.Persist, nil
}

// restartHub stops nothing (the hub is stopped) and starts it again,
// timing how long until it serves sync and the dashboard.
func restartHub(path string, key []byte, digest string) (RestartFigures, error) {
	var rf RestartFigures
	resetPeakRSS()
	start := time.Now()
	h, err := startHub(path, key, false)
	if err != nil {
		return rf, err
	}
	defer h.stop()
	rf.OpenSeconds = time.Since(start).Seconds()
	_, dg := h.daemon.View().Stats()
	rf.SameDigest = dg == digest
	rf.LagAtOpen, _ = h.daemon.View().Lag()
	pr, err := newProber(h)
	if err != nil {
		return rf, err
	}
	defer pr.close()
	if _, err := pr.snapshot(); err != nil {
		return rf, err
	}
	if err := pr.sessionRound(); err != nil {
		return rf, err
	}
	rf.Seconds = time.Since(start).Seconds()
	rf.PeakRSSMB = peakRSSMB()
	return rf, nil
}

// prober measures a running hub from outside, as a laptop and an operator
// see it.
type prober struct {
	h      *hubRun
	client *http.Client
	lap    *probeLaptop

	stopc chan struct{}
	done  chan struct{}

	mu                            sync.Mutex
	session, dashboard, metrics   []time.Duration
	dashTimeouts, metricsTimeouts int // requests that hit the client's bound (their samples are the bound)
	lagMax                        uint64
	sent                          int
	err                           error
}

func newProber(h *hubRun) (*prober, error) {
	lap, err := newProbeLaptop(h.sync)
	if err != nil {
		return nil, err
	}
	return &prober{h: h, client: &http.Client{Timeout: time.Minute}, lap: lap}, nil
}

func (p *prober) start() {
	p.stopc, p.done = make(chan struct{}), make(chan struct{})
	go p.loop()
}

func (p *prober) stop() {
	close(p.stopc)
	<-p.done
	p.close()
}

func (p *prober) close() { p.lap.close() }

func (p *prober) loop() {
	defer close(p.done)
	t := time.NewTicker(ProbeEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stopc:
			return
		case <-t.C:
		}
		if err := p.probe(); err != nil {
			p.mu.Lock()
			p.err = errors.Join(p.err, err)
			p.mu.Unlock()
			return
		}
	}
}

func (p *prober) probe() error {
	d, err := p.snapshot()
	if timedOut(err) { // a figure, not a failure: counted at the client's bound
		err = nil
		p.mu.Lock()
		p.dashTimeouts++
		p.mu.Unlock()
	}
	if err != nil {
		return err
	}
	m, err := p.get("/metrics", false)
	if timedOut(err) {
		err = nil
		p.mu.Lock()
		p.metricsTimeouts++
		p.mu.Unlock()
	}
	if err != nil {
		return err
	}
	s, err := p.lap.capture()
	if err != nil {
		return err
	}
	lag, _ := p.h.daemon.View().Lag()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent++
	p.lagMax = max(p.lagMax, lag)
	if len(p.session) < maxProbes {
		p.session, p.dashboard, p.metrics = append(p.session, s), append(p.dashboard, d), append(p.metrics, m)
	}
	return nil
}

// snapshot asks the dashboard for what its overview shows.
func (p *prober) snapshot() (time.Duration, error) { return p.get("/dash/snapshot", true) }

func (p *prober) get(path string, auth bool) (time.Duration, error) {
	req, err := http.NewRequest("GET", "http://"+p.h.info.Addr+path, nil)
	if err != nil {
		return 0, err
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+p.h.info.Token)
	}
	start := time.Now()
	resp, err := p.client.Do(req)
	if err != nil {
		return time.Since(start), err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("bench: GET %s: %s", path, resp.Status)
	}
	return took, err
}

// sessionRound waits until the probe laptop's session exchanged
// summaries with the hub (it serves sync).
func (p *prober) sessionRound() error {
	_, err := p.lap.capture()
	return err
}

// probeLaptop is a laptop in session with the hub over loopback TCP:
// it captures one record at a time and times each until acknowledged.
type probeLaptop struct {
	log    *oplog.Mem
	signer *replication.KeySigner
	hlc    replication.HLCState
	wake   chan struct{}
	acked  chan replication.Head
	cancel func()
	done   chan error
	n      int
}

func newProbeLaptop(addr string) (*probeLaptop, error) {
	signer, err := replication.GenerateKeySigner(nil, 1)
	if err != nil {
		return nil, err
	}
	l := &probeLaptop{log: oplog.NewMem(), signer: signer, wake: make(chan struct{}, 1), acked: make(chan replication.Head, 64), done: make(chan error, 1)}
	g := replication.NewGenesis(signer, replication.RoleNode, "", "18586")
	payload, _ := json.Marshal(g)
	if _, err := l.log.Append(signer, []replication.Draft{{Kind: replication.KindGenesis, Schema: replication.GenesisSchema, Payload: payload,
		HLC: l.hlc.Next(time.Now())}}); err != nil {
		return nil, err
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	hello := wire.Hello{Version: syncproto.ProtocolVersion, Origin: signer.Origin(), Role: string(replication.RoleNode), Unit: "18586", Node: "probe-laptop"}
	codec, err := wire.NewStreamCodec(wire.DefaultLimits())
	if err != nil {
		conn.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	own := signer.Origin()
	opts := syncnet.Options{Proto: syncproto.DefaultConfig(hello), Log: l.log, Codec: codec, Wake: l.wake, IdleTimeout: time.Hour,
		TickEvery: time.Second,
		OnProgress: func(pr syncnet.Progress) {
			if h, ok := pr.PeerHeads[own]; ok {
				select {
				case l.acked <- h:
				default:
				}
			}
		}}
	go func() {
		_, err := syncnet.Run(ctx, conn, opts)
		l.done <- err
	}()
	return l, nil
}

// capture appends one enrollment and returns how long until the hub
// acknowledged it (the session's ack carries the hub's head of this
// laptop's origin).
func (l *probeLaptop) capture() (time.Duration, error) {
	l.n++
	rec := probeRecord(l.n)
	payload, err := json.Marshal(rec)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	es, err := l.log.Append(l.signer, []replication.Draft{{Kind: replication.KindEnroll, Schema: enrollment.SchemaVersion, Payload: payload, HLC: l.hlc.Next(start)}})
	if err != nil {
		return 0, err
	}
	select {
	case l.wake <- struct{}{}:
	default:
	}
	deadline := time.After(5 * time.Minute)
	for {
		select {
		case h := <-l.acked:
			if h.Seq >= es[0].Seq {
				return time.Since(start), nil
			}
		case err := <-l.done:
			return 0, fmt.Errorf("bench: the probe laptop's session ended: %v", err)
		case <-deadline:
			return 0, errors.New("bench: the probe laptop's capture was not acknowledged in 5 minutes")
		}
	}
}

func (l *probeLaptop) close() {
	l.cancel()
	select {
	case <-l.done:
	case <-time.After(10 * time.Second):
	}
}

// probeRecord is a valid enrollment, one per probe.
func probeRecord(i int) enrollment.Enrollment {
	return enrollment.Enrollment{PersonalID: fmt.Sprintf("042199%06d", i%1_000_000), FullName: "Phạm Thị Thu",
		DateOfBirth: enrollment.Date{Year: 1990, Month: 5, Day: 17}, Sex: enrollment.Female, EthnicityCode: "01", Religion: "Không",
		Nationality:        []string{"Việt Nam"},
		BirthRegistration:  enrollment.Place{UnitCode: "42", CodeList: enrollment.CodeList2023, Text: "Tỉnh Hà Tĩnh"},
		Hometown:           enrollment.Place{UnitCode: "18586", CodeList: enrollment.CodeList2023, Text: "Xã Thạch Kênh"},
		PermanentResidence: enrollment.Place{UnitCode: "18586", CodeList: enrollment.CodeList2023, Text: "Xã Thạch Kênh"},
		Capture: enrollment.Capture{CommuneCode: "18586", CodeList: enrollment.CodeList2023, Officer: "CA-probe", Device: "probe",
			CapturedAt: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC), RequestType: "cấp mới"}}
}

// timedOut reports a request that hit the prober's client bound.
func timedOut(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
