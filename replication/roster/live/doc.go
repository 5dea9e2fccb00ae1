// Package live keeps a replica's live copy of the province's roster and
// answers the two questions the sync runtime asks of it: may this device
// open a session with us (Roster.AuthorizePeer, used by synctls), and may
// this entry be ingested (Roster is a syncproto.Verifier: a range is admitted
// only if the roster authorizes its origin for that role and unit).
//
// The roster itself (package roster) is a pure fold of the anchor's signed
// roster and revoke entries; a Roster loads that fold from the log once
// (Load) and keeps it current as entries arrive (Observe), so no request
// re-reads the log. Import brings a roster bundle (the file `fieldsync
// roster export` wrote, carried on a USB stick) into a log after verifying
// its chain (anchor may be nil on first contact: the bundle's signer then
// becomes the anchor).
//
//	b, err := live.Load(anchorKey, dir.Log)
//	role, err := b.AuthorizePeer(peerKey) // errors.Is(err, live.ErrNotAuthorized)
package live
