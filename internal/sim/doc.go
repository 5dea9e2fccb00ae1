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
// reaches the province through l1. 6 to 8 laptops, by seed.
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
// message is framed by the real delta.Codec, so wire bytes are counted as
// they would be on a link.
//
// The nemesis, chosen by the seed (Options.String prints it): message
// loss, duplication, reordering and jitter; crash-restarts of any replica
// (sessions and HLC state are lost, the Mem log survives), also between a
// batch's write and its ack; partitions of a district from the province and
// isolation of any replica; wall-clock faults (±10 years, backward jumps,
// reset to 2000-01-01) through each replica's Clock, which is the only way
// wall time reaches the HLC of a capture.
//
// After opt.Days the heal phase lifts every fault, brings every link up
// and restarts every replica, and the run continues until nothing moves
// (bounded by MaxHealTicks). Then the checkers:
//
//   - lost 0: every acked entry is at the province with its hash;
//   - duplicated 0: no replica applied one (origin, seq) twice, across
//     crash-restarts (counted from Append and IngestResult.Applied);
//   - unexpected 0: the province holds nothing no replica wrote, and each
//     origin's HLCs grow along its chain whatever the wall clocks did;
//   - vectors equal: the three hubs hold identical vectors, and each
//     laptop's own head is the province's;
//   - gaps 0: oplog.Verify passes on every replica;
//   - forks 0, and no refusal but a gap (nothing here is cloned or forged).
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
//
// A failing seed prints its options, what failed, and that replay command;
// it is run twice and must give the same trace hash, as must a few passing
// seeds of every batch.
//
// Wall time never enters a run: ticks drive the network, the sessions and
// the clocks, and every random choice comes from PCG generators seeded by
// the seed, walked in a fixed order (slices, never map iteration).
package sim
