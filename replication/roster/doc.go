// Package roster is the province's list of authorized devices, and the
// rules that follow from it: who may sync, whose entries a replica takes,
// and which entries stand after a device is lost. This package is the pure
// part (payloads, the fold, the export bundle); package roster/live is a
// replica's live copy (the ingest Verifier and the session authorizer).
//
// # Where the roster lives
//
// The roster is not a file: it is entries in a log of the provincial hub,
// signed like every entry, so it replicates to every hub and, since hubs
// offer hub-written entries to laptops, to every laptop.
//
//	KindRoster (Add)     key, role node|hub, a hub's tier, scope (unit codes), name
//	KindRevoke (Revoke)  key, and per origin the last seq that stands
//
// They are written by the roster key, SignerFor(province hub's device key):
// derived from the device key (no second secret to keep), distinct from it,
// writing its own origin (epoch Epoch) that holds nothing but the roster.
// That key is the trust anchor. The province hub itself is on the roster
// like any hub (trust.MakeAnchor adds it first), so its sessions and decisions
// obey the same rules; the anchor key signs the roster and nothing else.
//
// Every replica is given the anchor at init: `fieldsync init --roster FILE`
// with a roster the province exported (Export, a verified bundle of the
// whole roster origin, no personal data), which also tells a new laptop its
// hubs' keys before its first sync; or `--province-key HEX`. A province hub
// is its own anchor (`--tier province`, or `--anchor-self`).
//
// # The fold
//
// State is a pure, deterministic fold of the anchor's roster and revoke
// entries that depends only on their set: of several adds of one key, the
// one with the greatest (origin, seq) is in force (the province's later
// add replaces a scope); revocations are final and combine — an origin
// stands only as far as every revocation keeps it. Revocation is by
// (device, seq), never by time (laptop clocks are wrong): `fieldsync roster
// revoke` keeps, of each origin of the key, what the province holds when it
// revokes (or --from-seq N of the current one), so a stolen laptop's
// captures made and synced before the theft stand and everything after —
// including any new epoch the thief starts — is quarantined.
//
// # The rules, and who applies them
//
//  1. Session (package synctls, live.Roster.AuthorizePeer): a sync stream
//     runs over mutual TLS 1.3 with each replica's device key; the peer's
//     key must be on the roster and not revoked, and its Hello must name
//     the origin its certificate binds and the role the roster gives it (a
//     laptop posing as a hub would be offered everything). A shared gossip
//     pool key alone cannot open a sync stream.
//  2. Ingest (live.Roster.Admit, a syncproto.Verifier, whole ranges): a range
//     from a key that is neither the anchor nor on the roster, or whose
//     genesis claims another role or tier, is refused; the sender keeps it
//     and offers it again later (offline-first loses nothing), the receiver
//     counts it, alarms, and keeps bounded evidence of it. A revoked key's
//     ranges are taken: which of their entries stand is rule 3's, so that
//     every hub holds the same entries.
//  3. View (State.Admits plus scope, hub/reconcile Rule 0, per entry): a
//     revoked key's entries past what the revocation keeps, captures
//     outside the device's scope, decisions from non-hubs, roster entries
//     from anyone but the anchor and entries of keys not on the roster are
//     quarantined: kept in the log and forwarded like everything else,
//     listed with their reason, in the view's digest, and applied to
//     nothing. Rule 3 is a function of the entry set, so every hub
//     quarantines the same entries and shows the same digest.
//
// # Open mode
//
// A replica without an anchor runs only if its config says open
// (datadir.Config.Open): no roster, no Verifier, plain sync streams, an
// open view. `fieldsync init` refuses to create a directory without an
// anchor unless given --open (or FIELDSYNC_OPEN=1, which only test harnesses
// set), and the daemon refuses to run one (daemon.ErrNoAnchor).
//
// # Limits
//
// MaxDevices devices (the province's `roster add` refuses past it, so a
// valid roster never overflows the fold), MaxUnits units per device,
// MaxKeep origins per revocation, MaxPayloadBytes per payload, MaxBundle*
// per export; decoders are strict (one canonical encoding per payload) and
// fuzzed.
package roster
