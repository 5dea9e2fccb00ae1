// Package channel writes a hub's downward channels. The sync protocol
// moves whole ranges of an origin, and a hub's own origin goes to every
// field node below it; what is meant for one commune's laptops only (its
// resident list, receipts for its captures) is written instead to a
// channel: an origin of the hub's own device key whose genesis names a
// scope, the unit it is for (replication.Genesis.Scope). Its ID derives
// from the key, the epoch and the scope, so the roster admits it as that
// hub; the sync protocol offers it to a field node only when the node's
// units include the scope, and to hubs always (package syncproto).
//
//	es, err := channel.Write(dir.Log, dir.Signer, "province", "42", "18586", drafts...)
//
// Write starts the channel with its genesis the first time and refuses a
// kind that is not in replication.DownwardKinds. A channel starts no new
// epoch: a hub that rolls over writes new channels (its old ones stay
// valid, and their entries count as before).
package channel
