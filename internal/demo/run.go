package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"fieldsync/hub"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/roster"
	"fieldsync/runtime/daemon"
	"fieldsync/runtime/localapi"
)

// capture plays the campaign: each laptop captures its records at their
// campaign times, compressed into CaptureFor of real time, and wakes its
// sync after each group. Progress is printed meanwhile.
func (w *world) capture() {
	span := w.data.end.Sub(w.data.start)
	scale := max(1, float64(span)/float64(w.cfg.CaptureFor))
	fmt.Fprintf(w.cfg.Out, "campaign of %s played in %s (x%.0f); links: mountain 2G with outages, lowland EDGE, towns 3G\n",
		span.Round(time.Hour), w.cfg.CaptureFor, scale)
	begin := time.Now()
	var wg sync.WaitGroup
	for _, l := range w.laptops {
		wg.Add(1)
		go func() { defer wg.Done(); w.captureLaptop(l, begin, scale) }()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(w.cfg.ProgressEvery)
	defer tick.Stop()
	for {
		select {
		case <-done:
			w.progress(begin)
			return
		case <-w.ctx.Done():
			<-done
			return
		case <-tick.C:
			w.progress(begin)
		}
	}
}

// captureLaptop replays one laptop's steps on its real node.
func (w *world) captureLaptop(l *laptopRun, begin time.Time, scale float64) {
	ids := map[int]replication.EntryID{}
	steps := l.plan.steps
	for i := 0; i < len(steps); {
		due := begin.Add(time.Duration(float64(steps[i].at.Sub(w.data.start)) / scale))
		if !sleepUntil(w, due) {
			return
		}
		j := i
		for j < len(steps) && j-i < node.MaxGroupRecords && !begin.Add(time.Duration(float64(steps[j].at.Sub(w.data.start))/scale)).After(time.Now()) {
			j++
		}
		w.captureGroup(l, steps[i:j], ids)
		l.d.Rep.Wake()
		i = j
	}
}

// captureGroup saves due enrollments as one durable group and amends one
// by one, recording each step's entry for later corrections.
func (w *world) captureGroup(l *laptopRun, group []step, ids map[int]replication.EntryID) {
	var ds []node.Dossier
	var enrolls []step
	for _, st := range group {
		if st.amends >= 0 {
			w.amend(l, st, ids)
			continue
		}
		d := node.Dossier{Record: st.record}
		for _, b := range st.blobs { // the capture station's files, made now
			if b.Exception != "" {
				d.Files = append(d.Files, node.File{Slot: b.Slot, Exception: b.Exception})
				continue
			}
			d.Files = append(d.Files, node.File{Slot: b.Slot, Name: b.Slot + b.Ext(), Data: b.Bytes()})
		}
		ds, enrolls = append(ds, d), append(enrolls, st)
	}
	if len(ds) == 0 {
		return
	}
	results, err := l.d.Node().SaveDossiers(ds)
	if err != nil {
		w.cfg.Logger.Error("capture failed", "laptop", l.plan.name, "err", err)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, r := range results {
		if r.Err != nil {
			w.rejected++ // the validator refused it (e.g. an ID with a digit dropped)
			continue
		}
		ids[enrolls[k].id] = r.Receipt.ID
		w.captured++
		if len(enrolls[k].blobs) > 0 {
			w.dossiers++
			for _, f := range ds[k].Files {
				w.blobBytes += int64(len(f.Data))
			}
		}
	}
}

func (w *world) amend(l *laptopRun, st step, ids map[int]replication.EntryID) {
	target, ok := ids[st.amends]
	if !ok {
		return // its capture was refused
	}
	if _, err := l.d.Node().Amend(target, st.record, "ngày sinh sai, đã sửa theo giấy khai sinh"); err == nil {
		w.mu.Lock()
		w.captured++
		w.mu.Unlock()
	}
}

func sleepUntil(w *world, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return w.ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-w.ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// backlog is how much of the laptops' own entries the province lacks, and
// which laptop is most behind.
type backlog struct {
	laptopEntries, atProvince, missing uint64
	worst                              *laptopRun
	worstMissing                       uint64
}

func (w *world) backlog() backlog {
	var b backlog
	pv, _ := w.province.dir.Log.Vector()
	for _, l := range w.laptops {
		h, _ := l.dir.Log.Head(l.dir.Signer.Origin())
		got := min(pv.Seq(l.dir.Signer.Origin()), h.Seq)
		b.laptopEntries += h.Seq
		b.atProvince += got
		if miss := h.Seq - got; miss > b.worstMissing {
			b.worst, b.worstMissing = l, miss
		}
	}
	b.missing = b.laptopEntries - b.atProvince
	return b
}

func (w *world) progress(begin time.Time) {
	b := w.backlog()
	st, _ := w.province.d.View().Stats()
	w.mu.Lock()
	captured, rejected := w.captured, w.rejected
	w.mu.Unlock()
	line := fmt.Sprintf("[%4.0fs] captured %d (refused %d) | province holds %d of %d laptop entries",
		time.Since(begin).Seconds(), captured, rejected, b.atProvince, b.laptopEntries)
	if b.worst != nil {
		state := "link up"
		if !b.worst.link.Up() {
			state = "link down"
		}
		line += fmt.Sprintf(" | most behind: %s (%s) %d entries, %s", b.worst.plan.name, b.worst.plan.commune.Name, b.worstMissing, state)
	}
	line += fmt.Sprintf(" | conflicts %d open, duplicates %d open", st.OpenConflicts, st.OpenPairs)
	if dos, err := w.province.d.Dossiers(); err == nil && dos.Totals.Dossiers > 0 {
		line += fmt.Sprintf(" | dossiers complete at the province %d of %d", dos.Totals.Complete, dos.Totals.Dossiers)
	}
	fmt.Fprintln(w.cfg.Out, line)
}

// waitConverged waits until the province holds every laptop's log and
// every hub holds the same entries and shows the same digest.
func (w *world) waitConverged() bool {
	deadline := time.Now().Add(w.cfg.ConvergeWithin)
	last := time.Now()
	for time.Now().Before(deadline) && w.ctx.Err() == nil {
		if w.converged() {
			return true
		}
		if time.Since(last) >= w.cfg.ProgressEvery {
			b := w.backlog()
			fmt.Fprintf(w.cfg.Out, "  converging: the province lacks %d laptop entries; %s\n", b.missing, w.hubsState())
			last = time.Now()
		}
		time.Sleep(250 * time.Millisecond)
	}
	return w.converged()
}

// hubsState says what each hub holds and shows, for a demo still
// converging: entries, and the first digits of its view and census digests.
func (w *world) hubsState() string {
	var parts []string
	for _, h := range append([]*hubRun{w.province}, w.districts...) {
		v, _ := h.dir.Log.Vector()
		_, dg := h.d.View().Stats()
		parts = append(parts, fmt.Sprintf("%s %d entries view %s census %s", h.dir.Config.Unit, v.Total(), dg[:8], censusOf(h).Digest[:8]))
	}
	pv, _ := w.province.dir.Log.Vector()
	for _, h := range w.districts {
		v, _ := h.dir.Log.Vector()
		for o, hd := range pv {
			if v.Seq(o) != hd.Seq {
				g, _ := w.province.dir.Log.Get(replication.EntryID{Origin: o, Seq: 1})
				gen, _ := replication.DecodeGenesis(g.Payload)
				parts = append(parts, fmt.Sprintf("%s holds %d of %s (province %d; %s %s scope %q unit %s)", h.dir.Config.Unit, v.Seq(o), o.Short(), hd.Seq, gen.Role, gen.Tier, gen.Scope, gen.Unit))
			}
		}
	}
	return strings.Join(parts, ", ")
}

// censusOf reads a hub's census, for what the demo prints ("?" digits
// when it cannot be read).
func censusOf(h *hubRun) hub.CensusReport {
	c, err := h.d.View().Census()
	if err != nil {
		c.Digest = strings.Repeat("?", 64)
	}
	return c
}

// converged compares vectors first (cheap) and digests only when every hub
// holds the same entries: a digest walks the whole view under its lock,
// and computing four of them every poll would slow the ingest it waits for.
func (w *world) converged() bool {
	if w.backlog().missing != 0 {
		return false
	}
	pv, _ := w.province.dir.Log.Vector()
	for _, h := range w.districts {
		if v, _ := h.dir.Log.Vector(); !v.Equal(pv) {
			return false
		}
	}
	_, want := w.province.d.View().Stats()
	wantCensus, err := w.province.d.View().Census()
	if err != nil {
		return false
	}
	for _, h := range w.districts {
		c, err := h.d.View().Census()
		if _, dg := h.d.View().Stats(); dg != want || err != nil || c.Digest != wantCensus.Digest {
			return false
		}
	}
	return true
}

func (w *world) summary(converged bool, elapsed time.Duration) Summary {
	sum := Summary{Laptops: len(w.laptops), Moved: w.data.moved, Corrected: w.data.corrects, Converged: converged, Elapsed: elapsed,
		ResidentEntries: w.published}
	w.mu.Lock()
	sum.Captured, sum.Dossiers, sum.BlobBytes = w.captured, w.dossiers, w.blobBytes
	w.mu.Unlock()
	sum.Missing = int64(w.backlog().missing)
	sum.Refused = map[string]int{}
	bases := []*daemon.Base{}
	for _, h := range append([]*hubRun{w.province}, w.districts...) {
		bases = append(bases, h.d.Base)
	}
	for _, l := range w.laptops {
		bases = append(bases, l.d.Base)
	}
	for _, b := range bases {
		_, refused := b.TrustStatus()
		for k, v := range refused {
			sum.Refused[k] += v
		}
		sum.RefusedWhy = append(sum.RefusedWhy, refusedWhy(b, maxRefusedWhy-len(sum.RefusedWhy))...)
	}
	if book := w.province.d.Roster(); book != nil {
		sum.Roster = len(book.Devices())
	}
	for _, h := range append([]*hubRun{w.province}, w.districts...) {
		v, _ := h.dir.Log.Vector()
		st, dg := h.d.View().Stats()
		cfg := h.dir.Config
		hs := HubSummary{Name: cfg.Name, Tier: cfg.Tier, Unit: cfg.Unit, Entries: v.Total(), Citizens: st.Citizens,
			OpenConflicts: st.OpenConflicts, Conflicts: st.Conflicts, Pairs: st.Pairs, OpenPairs: st.OpenPairs, Digest: dg, Dashboard: dashboardURL(h)}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = h.d.DossiersCaughtUp(ctx) // counted off the request path: let the last round end
		cancel()
		if dos, err := h.d.Dossiers(); err == nil {
			hs.Dossiers = dos.Totals
		}
		hs.Own = v.Seq(h.dir.Signer.Origin())
		anchor := roster.SignerFor(h.dir.Signer).PublicKey()
		for o, hd := range v { // the receipts' channels, signed by the anchor
			if g, err := h.dir.Log.Get(replication.EntryID{Origin: o, Seq: 1}); err == nil {
				if gen, err := replication.DecodeGenesis(g.Payload); err == nil && gen.Scope != "" && bytes.Equal(gen.PublicKey, anchor) {
					hs.Own += hd.Seq
				}
			}
		}
		c := censusOf(h)
		hs.Census, hs.CensusDigest = c.Total, c.Digest
		sum.Hubs = append(sum.Hubs, hs)
	}
	return sum
}

// dashboardURL is a one-time login link to the hub's dashboard (valid
// localapi.LoginCodeTTL; `fieldsync login --dir DIR` makes another).
func dashboardURL(h *hubRun) string {
	link, err := localapi.NewClient(h.info).LoginLink()
	if err != nil {
		return "http://" + h.info.Addr + "/ (" + err.Error() + ")"
	}
	return link.URL
}

func (w *world) printDashboards() {
	fmt.Fprintf(w.cfg.Out, "dashboards (Vietnamese; English switch in the page):\n  province  %s\n", dashboardURL(w.province))
	for i, h := range w.districts {
		fmt.Fprintf(w.cfg.Out, "  %-9s %s  (%s, %s)\n", w.plans[i].Code, dashboardURL(h), w.plans[i].Name, w.plans[i].Terrain)
	}
	fmt.Fprintf(w.cfg.Out, "(each link works once, within %v; another: fieldsync login --dir HUB_DIR, under %s)\n", localapi.LoginCodeTTL, w.dir)
	fmt.Fprintf(w.cfg.Out, "metrics: http://%s/metrics\n", w.province.info.Addr)
	if len(w.laptops) > 0 {
		lr := w.laptops[0]
		select {
		case info := <-lr.api:
			lr.api <- info
			fmt.Fprintf(w.cfg.Out, "capture app of %s (%s): http://%s/ — officer %s, password %s\n", lr.plan.name, lr.plan.commune.Name, info.Addr, demoOfficer, demoPassword)
		default:
		}
	}
}

func printSummary(out io.Writer, sum Summary) {
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nHUB\tTIER\tUNIT\tENTRIES\tCITIZENS\tCONFLICTS (OPEN)\tDUPLICATE PAIRS (OPEN)\tDOSSIERS COMPLETE\tBLOBS TO COME\tENROLLED+ACCOUNTED / ELIGIBLE\tDIGEST\tCENSUS")
	for _, h := range sum.Hubs {
		c := h.Census
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d (%d)\t%d (%d)\t%d / %d\t%.1f MB\t%d / %d (%d missing)\t%s\t%s\n", h.Name, h.Tier, h.Unit, h.Entries, h.Citizens,
			h.Conflicts, h.OpenConflicts, h.Pairs, h.OpenPairs, h.Dossiers.Complete, h.Dossiers.Dossiers, float64(h.Dossiers.PendingBytes)/1e6,
			c.Enrolled+c.Accounted, c.Eligible, c.Missing, h.Digest[:16]+"…", shortOf(h.CensusDigest))
	}
	tw.Flush()
	fmt.Fprintf(out, "\n%d laptops captured %d entries (%d people re-enrolled after moving, %d conflicting corrections) in %s\n",
		sum.Laptops, sum.Captured, sum.Moved, sum.Corrected, sum.Elapsed.Round(time.Second))
	if sum.Dossiers > 0 {
		fmt.Fprintf(out, "%d captures carried their dossiers (%.0f MB of portraits, fingerprints, irises, signatures): records first, blobs behind them over the same links\n",
			sum.Dossiers, float64(sum.BlobBytes)/1e6)
	}
	refused := 0
	for _, n := range sum.Refused {
		refused += n
	}
	fmt.Fprintf(out, "roster: %d devices; sync sessions mutual TLS between roster keys; refused %d %v\n", sum.Roster, refused, sum.Refused)
	for _, why := range sum.RefusedWhy {
		fmt.Fprintf(out, "  refused: %s\n", why)
	}
	if sum.Converged {
		fmt.Fprintf(out, "CONVERGED: every hub holds the same %d entries and shows digest %s, and the same completeness (census %s)\n",
			sum.Hubs[0].Entries, sum.Hubs[0].Digest, shortOf(sum.Hubs[0].CensusDigest))
		return
	}
	fmt.Fprintf(out, "NOT CONVERGED: the province lacks %d laptop entries, or the hubs' digests differ\n", sum.Missing)
}

// maxRefusedWhy bounds the evidence lines a summary carries.
const maxRefusedWhy = 10

// refusedWhy reads up to n lines of the evidence a replica kept of the
// ranges it refused.
func refusedWhy(b *daemon.Base, n int) []string {
	var out []string
	if n <= 0 {
		return nil
	}
	b.Dir.Log.ScanMeta(daemon.EvidencePrefix, func(_ string, v []byte) bool {
		var e daemon.Evidence
		if json.Unmarshal(v, &e) == nil {
			out = append(out, fmt.Sprintf("%s refused %s:%d from %s ×%d: %s: %s", b.Dir.Config.Name, e.Origin.Short(), e.Seq, e.Peer, e.Count, e.Reason, e.Detail))
		}
		return len(out) < n
	})
	return out
}

func shortOf(d string) string {
	if len(d) > 16 {
		return d[:16] + "…"
	}
	return d
}
