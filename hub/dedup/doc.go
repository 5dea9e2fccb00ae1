// Package dedup finds probable duplicates among a hub's citizens: two
// citizen keys (ID numbers, or provisional keys of captures without one)
// that look like the same person, each pair with a score and the reasons an
// officer reviews. It is pure: no I/O, no clock, no goroutines, and what it
// returns is a function of the set of records it holds.
package dedup
