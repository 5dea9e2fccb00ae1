// Package sim is the deterministic simulation (DST) of fieldsync's sync
// core: field laptops, two district hubs and a provincial hub, each with an
// oplog.Mem store, talking syncproto sessions over a simnet network, all
// driven by one goroutine from one seed. A run is a pure function of its
// seed: the same seed replays the same captures, faults and deliveries,
// byte for byte, which the trace hash proves.
//
// # Topology
//
//	                 P (province)
//	                /            \
//	              D1              D2          district hubs
//	            /  |  \          /  |  \
//	(l2)····l1    l3···l4      l5···l6  l7(···l8)
//
// Laptops pair up in communes (l1·l2, l3·l4, …) and sync with their
// colleague (store-carry-forward over the commune LAN) and with their
// district hub; l2 has no hub link at all, so everything it captures
// reaches the province through l1. 6 to 8 laptops, by seed, and the
// clones (c1, c2) the clone nemesis adds.
//
// # A run
//
//	opt := sim.FromSeed(seed)        // swarm: which faults are on, how hard
//	res := sim.Run(opt, nil)         // or t.Logf for a verbose trace
//	if !res.OK() { ... res.Failures, opt.String() ... }
//
// Time is ticks of TickDuration. Laptops capture signed enrollments (≈600
// bytes of JSON each) during working hours; a capture whose Append returned
// is acknowledged and recorded (origin, seq, hash). Every link follows a
// heavy-tailed contact schedule (field links: minutes up, hours to days
// down). While a link is up and both ends are alive, a session pair runs
// over it; a cut or a crash ends both sessions and loses what was in
// flight, and the next contact starts a new pair (Hello + Summary). Every
// message is framed by the real wire.Codec, so wire bytes are counted as
// they would be on a link.
//
// The nemesis, chosen by the seed (Options.String prints it): message
// loss, duplication, reordering and jitter; crash-restarts of any replica
// (sessions and HLC state are lost, the Mem log survives), also between a
// batch's write and its ack; partitions of a district from the province and
// isolation of any replica; wall-clock faults (±10 years, backward jumps,
// reset to 2000-01-01) through each replica's Clock, which is the only way
// wall time reaches the HLC of a capture; and the two that fork a log
// (G14):
//
//   - restore: a laptop's disk image (oplog.Mem.Snapshot: log, metadata,
//     the epoch it writes in) is taken at a random time and put back later,
//     with a crash-restart: the laptop writes its old origin again from the
//     image's head, under seqs other copies may hold;
//   - clone: a laptop's disk (log, key, epoch) is copied onto a new laptop
//     "cN" of the same commune, linked to the same district hub or to the
//     other one (two branches can then reach different hubs), capturing
//     from then on.
//
// The simulated shells answer as the real ones do, with the real
// packages: a rollback of a replica's own origin (syncproto.EventRollback)
// records a new epoch re-issuing from one past the highest own seq a hub
// acknowledged with the same hash (kept in the Mem's metadata, as the
// replicator keeps OwnAcked), and the restart starts it (epoch.Start or
// Resume; the signer and the sessions' Hello origin change); hubs turn a
// fork found at ingest, or a genesis naming another hash than the one held,
// into a KindFork notice in their own log (epoch.Watch, the rules of
// hub/forks.go); a laptop that ingests a quarantining notice naming its
// own origin starts a new epoch re-issuing from its From.
//
// After opt.Days the heal phase lifts every fault, brings every link up
// and restarts every replica, and the run continues until nothing moves
// (bounded by MaxHealTicks); then every session starts anew, as the
// replicators redial, until a fresh round changes nothing (an open session
// compares heads only at its start). Then the checkers:
//
//   - lost 0: every acked (origin, seq, hash) is at the province as itself
//     or as a KindReissue naming it (epoch.DecodeReissue), and views can
//     show it: a copy inside a quarantined range counts only if a re-issue
//     outside one carries it (hidden 0). Excepted: captures whose only copy
//     was on a disk a restore overwrote (destroyed: no system can bring
//     them back) and the genesis of an origin its writer left for a new
//     epoch (no capture; the successor's genesis names it);
//   - duplicated 0: no replica applied one (origin, seq) twice, across
//     crash-restarts (counted from Append and IngestResult.Applied; a
//     restored image forgets what it lacks);
//   - unexpected 0: the province holds nothing no replica wrote, and each
//     origin's HLCs grow along its chain whatever the wall clocks did;
//   - vectors equal: the three hubs hold identical vectors, and each
//     laptop's current head is the province's, on an origin no notice
//     quarantines. A forked origin is the exception: two branches may
//     stand at different hubs, and a hub never takes the other branch
//     where it holds its own, so the logs legitimately differ past the
//     fork. Views set the origin aside from the lowest quarantining
//     notice's From (every hub holds the same notices: hub origins must be
//     equal), so what is compared there is the prefix below From: every
//     hub holds seq From-1 with the same hash. A difference no quarantine
//     covers is a fork accepted (forks_accepted 0);
//   - blobs lost 0 and corrupt 0 (when the seed turns the blob lane on,
//     Options.Blobs: each capture saves one to three blobs before its
//     record, and every session moves them behind the records in 1 KB
//     chunks, blobs.go): every blob an entry at the province references,
//     outside quarantines, is held there, verified, except blobs a
//     restore destroyed with the only store that held them; every blob
//     any replica holds verifies, and a hub holds only blobs an entry it
//     holds references. Blobs of a branch a restore or clone left behind,
//     held only by laptops that cannot deliver them (their peer holds
//     another branch at that seq), are a shortfall counted apart
//     (Result.BlobsStranded), failing only with -strict-forks;
//   - gaps 0: oplog.Verify passes on every replica;
//   - forks: a fork, rollback or fork refusal of an origin no restore or
//     clone copied fails the run (forks 0), as does any refusal but a gap;
//   - detected D/D: every restore or clone after which one copy wrote an
//     entry where another replica held a different one was detected since
//     — a rollback event, a fork found at a hub's ingest, or a
//     genesis-evidence notice.
//
// Two shortfalls of the design are counted apart (Result.Abandoned,
// Result.HiddenRetired; the dst-forks line) and fail only with
// -strict-forks: captures a restored laptop made after its image was taken
// that survive only on colleagues or lost the race to the hubs (nothing
// re-issues them: the laptop no longer holds them), and entries a
// quarantining notice hides below the seq their writer's rollover
// re-issued from (one past what a hub had acknowledged: a rollback moved it
// to a new epoch before it acted on the notice, and laptops act only on
// notices naming their current origin).
//
// Coverage (Sometimes) assertions name situations some seed of every
// batch must reach; TestSimulation fails a batch in which one never fired.
// Options.Bug injects known defects into the simulated shells, and
// TestCheckersCatchInjectedBugs requires the checkers to catch each.
//
// Running it:
//
//	go test ./internal/sim -run TestSimulation -v             # 200 seeds, summary lines
//	go test ./internal/sim -run TestSimulation -seeds 10000 -v
//	go test ./internal/sim -run TestSimulation -seed 17 -v    # one seed, verbose trace
//	go test ./internal/sim -run TestSimulation -strict-forks -v  # shortfalls fail too
//
// A failing seed prints its options, what failed, and that replay command;
// it is run twice and must give the same trace hash, as must a few passing
// seeds of every batch.
//
// Wall time never enters a run: ticks drive the network, the sessions and
// the clocks, and every random choice comes from PCG generators seeded by
// the seed, walked in a fixed order (slices, never map iteration).
package sim
