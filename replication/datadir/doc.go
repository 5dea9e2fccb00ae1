// Package datadir lays out a fieldsync data directory and opens it:
//
//	DIR/config.json        role, tier, unit, member name, epoch, peers (Config)
//	DIR/keys/device.key    the ed25519 device key, PEM, mode 0600
//	DIR/data/              the Badger log (package oplog)
//	DIR/run/               files of a running daemon (its API address)
//
// Init makes the key, the config and the log, and appends the origin's
// genesis entry; Open reads them back. Both a field node and a hub use it.
package datadir
