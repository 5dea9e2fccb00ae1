// Package bundle carries sync by hand: sealed, signed files on a USB stick
// from a laptop with no network to its hub, and the hub's answer back.
//
//	laptop:  fieldsync bundle export --dir D --for hub-445 --out /media/usb/d.fsb --max-size 700M
//	hub:     fieldsync bundle import --dir H /media/usb/d.fsb --answer /media/usb/d.answer.fsb
//	laptop:  fieldsync bundle import --dir D /media/usb/d.answer.fsb
//
// # What goes in
//
// An up bundle holds what the hub lacks as far as the laptop knows: the
// entries above the heads the hub acknowledged (in a sync session or an
// earlier answer), cut into batches by a sending sync session exactly as
// on the wire, then the blobs of the entries the hub is not known to hold
// every blob of, portraits first. Records come first. A part is at most
// --max-size; what does not fit goes on in the next part (FILE.2, ...).
//
// # What the hub does with it
//
// Exporter and Importer never verify anything themselves: the importer
// drives a receiving syncproto.Session with the part's messages — the
// laptop's Hello and Summary, its batches one at a time, each blob's offer
// then its chunks from the offset the session asks — and carries out what
// the session says with the same calls a sync shell makes (Ingest,
// Persisted, syncproto.BlobWriters). So a bundle is checked as a sync
// session is: chains, signatures, the roster, blobs referenced by a held
// entry and flowing up only, their SHA-256 at commit. What the hub holds
// is ignored, what it lacks is taken, what fails is refused with the
// session's reason. A part is safe to import twice, in any order, or cut
// short: each frame stands alone.
//
// # The answer
//
// The hub answers with a return bundle sealed to the laptop: which bundle
// and parts it answers, the hub's heads for the origins they carried, the
// state of every blob offered, which held entries still lack blobs, and
// everything that flows down to the laptop (entries hubs wrote: roster,
// decisions, receipts, resident lists) cut against the laptop's heads from
// its Summary. Taken on the laptop, it advances what the laptop believes
// the hub holds (replicator.NoteHeads, and the blobs held through, per
// origin): its freeze count drops, and its next bundle or network session
// sends none of it again.
//
// # Sealing
//
// See format.go. Each part is signed by its writer's device key and sealed
// with HPKE (ML-KEM-768 + X25519, post-quantum) to its recipients' bundle
// keys, which every replica derives from its device key (KeyOf) and hubs
// publish in their logs (an entry of kind bundle-key, PublishKey): a lost
// stick discloses nothing, a part for another hub does not open, a flipped
// bit or a cut copy is found at the frame where it happens.
package bundle
