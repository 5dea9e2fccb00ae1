// Package demo runs a whole simulated province on one machine: real data
// directories (Badger) in a temporary folder, real memberlist pools and
// sync sessions over loopback sockets, the link emulator between every
// laptop and its hub, field-node and hub daemons with their dashboards —
// and a campaign of generated enrollments captured at their campaign times,
// compressed into a minute or two.
//
// The default province is Hà Tĩnh (DOMAIN.md appendix A): a provincial hub
// and three district hubs — Hương Khê in the western mountains (2G, cut
// most of the time), Thạch Hà in the lowlands (EDGE, occasional cuts) and
// the city of Hà Tĩnh (3G) — with four communes each and one or two
// laptops per commune. One mountain commune has no link at all: its laptop
// reaches the hub only through a neighbouring commune's laptop. Besides the
// generator's noisy re-enrollments, people who moved are re-enrolled in
// another district (probable duplicates for the province) and officers'
// corrections collide with colleagues' captures (conflicts for a district).
//
// When the captures end every link comes up and the demo waits until the
// province holds every laptop's entries and every hub shows the same
// digest, then prints a table per hub and whether they converged.
package demo
