// Package roster is the province's list of authorized devices, and the
// rules that follow from it: who may sync, whose entries a replica takes,
// and which entries stand after a device is lost.
//
// # Where the roster lives
//
// The roster is not a file: it is entries in the provincial hub's own log,
// signed like every entry, so it replicates to every hub and, since hubs
// offer hub-written entries to laptops, to every laptop.
//
//	KindRoster (Add)     key, role node|hub, a hub's tier, scope (unit codes), name
//	KindRevoke (Revoke)  key, and per origin the last seq that stands
//
// The trust anchor is the provincial hub's public key, given to every
// replica at init (`fieldsync init --province-key HEX`, or by importing a
// roster exported from the province, which also tells a new laptop its
// hubs' keys before its first sync). Only entries of origins whose genesis
// names the anchor key change the roster; the anchor itself is a hub of
// every scope and cannot be added, revoked or impersonated.
//
// # The fold
//
// State is a pure, deterministic fold of the anchor's roster and revoke
// entries that depends only on their set: of several adds of one key, the
// one with the greatest (origin, seq) is in force (the province's later
// add replaces a scope); revocations are final and combine — an origin
// stands only as far as every revocation keeps it. Revocation is by
// (device, seq), never by time (laptop clocks are wrong): `fieldsync roster
// revoke` keeps, of each origin of the key, what the province held when it
// revoked, so a stolen laptop's captures made before the theft and already
// synced stand, and everything after is quarantined.
//
// # The rules, and who applies them
//
//  1. Session (package synctls, Book.AuthorizePeer): a sync stream runs over
//     mutual TLS 1.3 with each replica's device key; the peer's key must be
//     the anchor or on the roster and not revoked, and its Hello must name
//     the origin its certificate binds and the role the roster gives it.
//     A shared gossip pool key alone therefore cannot open a sync stream.
//  2. Ingest (Book.Admit, a syncproto.Verifier, whole ranges): a range from
//     a key that is not on the roster, or whose genesis claims another role
//     or tier, is refused; the sender keeps it and offers it again later
//     (offline-first loses nothing), the receiver counts it, alarms, and
//     keeps bounded evidence.
//  3. View (State.Admits plus scope, in hub/reconcile Rule 0, per entry):
//     a revoked key's entries past what the revocation keeps, captures
//     outside the device's scope, decisions from non-hubs and roster
//     entries from anyone but the anchor are quarantined: kept in the log
//     and forwarded like everything else, listed with their reason, and
//     applied to nothing. Rule 3 is a function of the entry set, so every
//     hub quarantines the same entries and shows the same digest.
//
// A replica without an anchor runs open (datadir.Config.Open): no roster,
// plain sync streams. Only an explicit configuration gets there; `fieldsync
// init` and `run` refuse a directory that has neither.
//
// # Limits
//
// MaxDevices devices, MaxUnits units per device, MaxKeep origins per
// revocation, MaxPayloadBytes per payload; decoders are strict (one
// canonical encoding per payload) and fuzzed.
package roster
