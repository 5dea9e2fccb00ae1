// Package synctls authenticates sync streams: mutual TLS 1.3 in which each
// replica presents a self-signed certificate of its ed25519 device key, and
// each side accepts the other only if its key is authorized (on the
// province's roster, see package roster).
//
//	auth, _ := synctls.New(dir.Signer, live.AuthorizePeer)
//	conn, peer, err := auth.Client(ctx, rawConn) // or auth.Server
//	// run the sync session over conn; its Hello must pass peer.CheckHello
//
// There is no certificate authority and no clock: a peer is identified by
// its public key alone (pinned by the roster), so laptop clocks that are
// years off do not matter and nothing expires. The certificate binds the
// key to an origin (subject common name: origin ID; subject serial number:
// epoch), which must derive from the key; the sync Hello must then name
// that origin and the role the roster gives the key. TLS 1.3's
// CertificateVerify proves possession of the key, so a shared gossip pool
// key, a copied certificate or an on-path proxy cannot open a session, and
// a proxy that alters bytes breaks the record MACs: the session fails
// closed and nothing it carried is acknowledged. Session resumption is
// off, so every session is authorized against the roster as it is then (a
// key revoked since the last session is refused).
package synctls
