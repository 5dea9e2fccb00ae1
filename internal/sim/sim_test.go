package sim_test

import (
	"flag"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fieldsync/internal/sim"
)

var (
	flagSeeds     = flag.Int("seeds", 200, "number of seeds TestSimulation runs")
	flagSeedStart = flag.Uint64("seed-start", 1, "first seed of the batch")
	flagSeed      = flag.Int64("seed", -1, "run only this seed, with a verbose trace")
	flagStrict    = flag.Bool("strict-forks", false, "fail on the design shortfalls Result.Abandoned and Result.HiddenRetired too")
)

// options expands a seed, with the command line's strictness.
func options(seed uint64) sim.Options {
	o := sim.FromSeed(seed)
	o.StrictForks = *flagStrict
	return o
}

// minCoverageSeeds is the smallest batch in which every Sometimes
// assertion must fire; smaller batches (a quick local run) only report.
const minCoverageSeeds = 100

// determinismSeeds is how many seeds of a batch run twice to compare trace
// hashes (besides every failing seed).
const determinismSeeds = 3

func TestSimulation(t *testing.T) {
	if *flagSeed >= 0 {
		runVerbose(t, uint64(*flagSeed))
		return
	}
	seeds := make([]uint64, *flagSeeds)
	for i := range seeds {
		seeds[i] = *flagSeedStart + uint64(i)
	}
	start := time.Now()
	results := runBatch(seeds)
	wall := time.Since(start)
	failed := 0
	for i := range results {
		if !results[i].OK() {
			failed++
			t.Error(report(&results[i]))
		}
	}
	checkDeterminism(t, results)
	checkCoverage(t, results)
	t.Log(summary(results, wall))
	t.Log(faultLine(results))
	t.Log(forkLine(results))
	t.Log(blobLine(results))
	t.Logf("%d passed, %d failed", len(results)-failed, failed)
}

// runBatch runs the seeds on every core; each run is single-threaded and
// independent, and results come back in seed order.
func runBatch(seeds []uint64) []sim.Result {
	results := make([]sim.Result, len(seeds))
	work := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i] = sim.Run(options(seeds[i]), nil)
			}
		}()
	}
	for i := range seeds {
		work <- i
	}
	close(work)
	wg.Wait()
	return results
}

func runVerbose(t *testing.T, seed uint64) {
	opt := options(seed)
	t.Logf("options: %s", opt)
	res := sim.Run(opt, t.Logf)
	again := sim.Run(opt, nil)
	if again.TraceHash != res.TraceHash {
		t.Errorf("seed %d is not deterministic: trace %x then %x", seed, res.TraceHash[:8], again.TraceHash[:8])
	}
	t.Logf("trace %x", res.TraceHash)
	t.Log(summary([]sim.Result{res}, 0))
	t.Log(faultLine([]sim.Result{res}))
	t.Log(forkLine([]sim.Result{res}))
	t.Log(blobLine([]sim.Result{res}))
	for c := range sim.NumCoverage {
		t.Logf("sometimes %-70s %d", sim.Coverage(c).String()+":", res.Coverage[c])
	}
	if !res.OK() {
		t.Error(report(&res))
	}
}

// report is what a failing seed prints: the seed, its options, what failed
// and how to replay it.
func report(r *sim.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d FAILED\noptions: %s\n", r.Seed, r.Options)
	for _, f := range r.Failures {
		fmt.Fprintf(&b, "  - %s\n", f)
	}
	fmt.Fprintf(&b, "replay: go test ./internal/sim -run TestSimulation -seed %d -v", r.Seed)
	return b.String()
}

// checkDeterminism runs every failing seed, the first few passing ones and
// the first passing one with a forked log again, and requires the same
// trace hash: a seed that does not replay is worthless, and map order,
// wall time or stray goroutines are the usual leaks.
func checkDeterminism(t *testing.T, results []sim.Result) {
	checked, forked := 0, false
	for i := range results {
		r := &results[i]
		withFork := r.ForkIncidents > 0 && !forked // and one whose logs forked
		if r.OK() && checked >= determinismSeeds && !withFork {
			continue
		}
		if r.OK() {
			checked++
			forked = forked || withFork
		}
		again := sim.Run(r.Options, nil)
		if again.TraceHash != r.TraceHash {
			t.Errorf("determinism: seed %d gave trace %x, then %x", r.Seed, r.TraceHash[:8], again.TraceHash[:8])
		}
	}
}

// checkCoverage fails a batch in which a Sometimes assertion never fired,
// and logs how many seeds reached each.
func checkCoverage(t *testing.T, results []sim.Result) {
	for c := range sim.NumCoverage {
		seeds, total := 0, 0
		for i := range results {
			if n := results[i].Coverage[c]; n > 0 {
				seeds++
				total += n
			}
		}
		t.Logf("sometimes %-70s %3d seeds, %5d times", sim.Coverage(c).String()+":", seeds, total)
		if seeds == 0 && len(results) >= minCoverageSeeds {
			t.Errorf("sometimes: %q never fired in %d seeds", sim.Coverage(c), len(results))
		}
	}
}

// summary is the fixed-format line of RELIABILITY.md §7.
func summary(results []sim.Result, wall time.Duration) string {
	var steps, ticks uint64
	var faults, acked, lost, dup, unexpected, gaps, forks, diverged, restores, clones, accepted, incidents, detected int
	var bytes int64
	var delays []uint64
	var healMax uint64
	for i := range results {
		r := &results[i]
		steps += r.Steps
		ticks += r.SimTicks
		faults += r.Faults.Total()
		acked += r.Acked
		lost += r.Lost + r.HashMismatch
		dup += r.Dup
		unexpected += r.Unexpected
		gaps += r.Gaps
		forks += r.Forks
		diverged += r.Diverged
		restores += r.Faults.Restores
		clones += r.Faults.Clones
		accepted += r.ForksAccepted
		incidents += r.ForkIncidents
		detected += r.ForksDetected
		bytes += r.Bytes
		delays = append(delays, r.ProvinceDelays...)
		healMax = max(healMax, r.HealTicks)
	}
	slices.Sort(delays)
	return fmt.Sprintf("dst: seeds=%d simdays=%.0f steps=%d faults=%d acked=%d lost=%d dup=%d unexpected=%d gaps=%d forks=%d diverged=%d "+
		"restores=%d clones=%d forks_accepted=%d detected=%d/%d bytes=%d t_prov_p50=%s t_prov_p99=%s heal_max=%s wall=%s",
		len(results), float64(ticks)/float64(sim.TicksPerDay), steps, faults, acked, lost, dup, unexpected, gaps, forks, diverged,
		restores, clones, accepted, detected, incidents, bytes,
		ticksDur(quantile(delays, 0.50)), ticksDur(quantile(delays, 0.99)), ticksDur(healMax), wall.Round(100*time.Millisecond))
}

// blobLine sums the blob lane's figures: blobs captured, moved (committed
// at a receiver), lost and corrupt (checkers: expected 0), destroyed by a
// restore with the only store that held them.
func blobLine(results []sim.Result) string {
	var blobs, moved, lost, corrupt, destroyed, stranded int
	for i := range results {
		r := &results[i]
		blobs += r.Blobs
		moved += r.BlobsMoved
		lost += r.BlobsLost
		corrupt += r.BlobsCorrupt
		destroyed += r.BlobsDestroyed
		stranded += r.BlobsStranded
	}
	return fmt.Sprintf("dst-blobs: captured=%d moved=%d lost=%d corrupt=%d destroyed=%d shortfall: stranded_on_left_branch=%d", blobs, moved, lost, corrupt, destroyed, stranded)
}

// forkLine details the restores and clones (G14): how many forked, how
// the system answered, what it cost.
func forkLine(results []sim.Result) string {
	var inRuns, incidents, detected, vanished, accepted, ingest, rollovers, notices, destroyed, reissued, hidden, abandoned, hiddenRetired int
	for i := range results {
		r := &results[i]
		if r.Faults.Restores+r.Faults.Clones > 0 {
			inRuns++
		}
		incidents += r.ForkIncidents
		detected += r.ForksDetected
		vanished += r.ForksVanished
		accepted += r.ForksAccepted
		ingest += r.IngestForks
		rollovers += r.Rollovers
		notices += r.Notices
		destroyed += r.Destroyed
		reissued += r.Reissued
		hidden += r.Hidden
		abandoned += r.Abandoned
		hiddenRetired += r.HiddenRetired
	}
	return fmt.Sprintf("dst-forks: seeds_with_restore_or_clone=%d forked=%d detected=%d vanished=%d accepted=%d hidden=%d ingest_forks=%d rollovers=%d notices=%d acked_via_reissue=%d destroyed_by_restore=%d "+
		"shortfalls: abandoned_branch=%d hidden_after_rollover=%d",
		inRuns, incidents, detected, vanished, accepted, hidden, ingest, rollovers, notices, reissued, destroyed, abandoned, hiddenRetired)
}

// faultLine breaks the injected faults down by type.
func faultLine(results []sim.Result) string {
	var f sim.Faults
	var retrans, gapRefusals, dupBatches, unsent int
	for i := range results {
		g := results[i].Faults
		f.LinkCuts += g.LinkCuts
		f.Partitions += g.Partitions
		f.Isolations += g.Isolations
		f.Crashes += g.Crashes
		f.PersistCrashes += g.PersistCrashes
		f.ClockFaults += g.ClockFaults
		f.Dropped += g.Dropped
		f.Duplicated += g.Duplicated
		f.Reordered += g.Reordered
		f.CutInFlight += g.CutInFlight
		retrans += results[i].Retransmits
		gapRefusals += results[i].GapRefusals
		dupBatches += results[i].DupBatchesDelivered
		unsent += results[i].UnsentAtHeal
	}
	return fmt.Sprintf("dst-faults: link_cuts=%d partitions=%d isolations=%d crashes=%d persist_crashes=%d clock=%d dropped=%d duplicated=%d reordered=%d lost_in_cut=%d retransmits=%d gap_refusals=%d dup_batches=%d unsent_at_heal=%d",
		f.LinkCuts, f.Partitions, f.Isolations, f.Crashes, f.PersistCrashes, f.ClockFaults, f.Dropped, f.Duplicated, f.Reordered, f.CutInFlight,
		retrans, gapRefusals, dupBatches, unsent)
}

func quantile(sorted []uint64, q float64) uint64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(q*float64(len(sorted)-1))]
}

func ticksDur(t uint64) time.Duration { return time.Duration(t) * sim.TickDuration }

// TestCheckersCatchInjectedBugs runs the simulation with defects injected
// into its own shells: each checker must fail a run, or its silence on the
// real code would prove nothing.
func TestCheckersCatchInjectedBugs(t *testing.T) {
	cases := []struct {
		bug  sim.Bug
		want []string
		days int
		// forks: the bug is in how forks are handled; every seed gets
		// clones to the other district and a restore.
		forks bool
	}{
		{sim.BugAckBeforeAppend, []string{"lost: acked entry"}, 2, false},
		{sim.BugHubDropsUpward, []string{"not quiescent"}, 2, false},
		{sim.BugDoubleApply, []string{"duplicated:"}, 2, false},
		{sim.BugKeepOldOrigin, []string{"lost: acked entry", "own head is seq"}, 4, true},
		{sim.BugNoForkNotice, []string{"fork accepted:"}, 4, true},
		{sim.BugHubKeepsBlobs, []string{"blob lost:"}, 2, false},
		{sim.BugBlobBitFlip, []string{"blob lost:"}, 2, false},
	}
	for _, c := range cases {
		caught := make([]bool, len(c.want))
		for seed := uint64(1); seed <= 10 && slices.Contains(caught, false); seed++ {
			opt := sim.FromSeed(seed)
			opt.Bug, opt.Days = c.bug, c.days // short runs: the bugs show at once
			opt.Blobs = true
			if c.forks {
				opt.Clones, opt.Restores = 2, 1
			}
			res := sim.Run(opt, nil)
			for i, w := range c.want {
				caught[i] = caught[i] || slices.ContainsFunc(res.Failures, func(f string) bool { return strings.Contains(f, w) })
			}
		}
		for i, w := range c.want {
			if !caught[i] {
				t.Errorf("bug %d ran 10 seeds without a failure containing %q", c.bug, w)
			}
		}
	}
}
