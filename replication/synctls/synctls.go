package synctls

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strconv"
	"time"

	"fieldsync/replication"
	"fieldsync/replication/wire"
)

// Proto is the ALPN name of a fieldsync sync stream.
const Proto = "fieldsync-sync/1"

// HandshakeTimeout bounds a server-side handshake (a client's is bounded by
// its dial context): a peer that stalls cannot hold a place for long. A
// handshake is ~4 KB: under 4 s even at 9.6 kbit/s with satellite round
// trips.
const HandshakeTimeout = 10 * time.Second

// ErrPeerRefused is returned (wrapped) when the peer's certificate is not
// a valid device certificate or its key is not authorized.
var ErrPeerRefused = errors.New("synctls: peer refused")

// Authorizer decides whether a device key may sync with this replica and
// returns the role the peer must announce (package roster/live: Roster.AuthorizePeer).
// It is called on every handshake.
type Authorizer func(key ed25519.PublicKey) (replication.Role, error)

// Peer is the authenticated other side of a session.
type Peer struct {
	Key    ed25519.PublicKey
	Origin replication.OriginID
	Epoch  uint64
	// Role is what the peer must announce in its Hello.
	Role replication.Role
}

// Device returns the peer's device ID.
func (p Peer) Device() replication.DeviceID { return replication.DeviceIDOf(p.Key) }

// CheckHello checks the peer's sync Hello against its certificate: same
// origin, and the role the roster gives its key.
func (p Peer) CheckHello(h *wire.Hello) error {
	switch {
	case h.Origin != p.Origin:
		return fmt.Errorf("%w: hello names origin %s, the certificate %s", ErrPeerRefused, h.Origin.Short(), p.Origin.Short())
	case p.Role != "" && h.Role != string(p.Role):
		return fmt.Errorf("%w: device %s announces role %q, the roster gives it %q", ErrPeerRefused, p.Device(), h.Role, p.Role)
	}
	return nil
}

// Config authenticates one replica's sync streams.
type Config struct {
	cert      tls.Certificate
	self      ed25519.PublicKey
	authorize Authorizer
}

// New builds the TLS identity of signer's device and origin; authorize
// decides who may be a peer.
func New(signer *replication.KeySigner, authorize Authorizer) (*Config, error) {
	if authorize == nil {
		return nil, errors.New("synctls: an authorizer is required")
	}
	cert, err := certificate(signer)
	if err != nil {
		return nil, err
	}
	return &Config{cert: cert, self: signer.PublicKey(), authorize: authorize}, nil
}

// certificate makes the self-signed certificate of the signer's key and
// origin. Its validity spans every date a laptop clock might show; nothing
// checks it (keys are pinned by the roster, not dated).
func certificate(s *replication.KeySigner) (tls.Certificate, error) {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: s.Origin().String(), SerialNumber: strconv.FormatUint(s.Epoch(), 10)},
		NotBefore:    time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, s.PublicKey(), s.PrivateKey())
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("synctls: certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: s.PrivateKey()}, nil
}

// tlsConfig returns a config for one handshake; the verified peer lands in
// *peer.
func (c *Config) tlsConfig(peer *Peer) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{c.cert},
		NextProtos:   []string{Proto},
		// No CA and no dates: the peer's key is checked against the roster
		// in VerifyConnection, which runs on both sides of every handshake.
		InsecureSkipVerify:     true,
		ClientAuth:             tls.RequireAnyClientCert,
		SessionTicketsDisabled: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			p, err := c.verify(cs)
			if err == nil {
				*peer = p
			}
			return err
		},
	}
}

// verify checks the peer's certificate and asks the authorizer.
func (c *Config) verify(cs tls.ConnectionState) (Peer, error) {
	if cs.NegotiatedProtocol != Proto {
		return Peer{}, fmt.Errorf("%w: protocol %q, want %q", ErrPeerRefused, cs.NegotiatedProtocol, Proto)
	}
	if len(cs.PeerCertificates) != 1 {
		return Peer{}, fmt.Errorf("%w: %d certificates, want one self-signed device certificate", ErrPeerRefused, len(cs.PeerCertificates))
	}
	p, err := peerOf(cs.PeerCertificates[0])
	if err != nil {
		return Peer{}, err
	}
	if bytes.Equal(p.Key, c.self) {
		return Peer{}, fmt.Errorf("%w: the peer is this device", ErrPeerRefused)
	}
	role, err := c.authorize(p.Key)
	if err != nil {
		return Peer{}, fmt.Errorf("%w: %w", ErrPeerRefused, err)
	}
	p.Role = role
	return p, nil
}

// peerOf reads a device certificate: an ed25519 key that signed it, and an
// origin and epoch that derive from that key.
func peerOf(cert *x509.Certificate) (Peer, error) {
	key, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok {
		return Peer{}, fmt.Errorf("%w: certificate key is %T, want ed25519", ErrPeerRefused, cert.PublicKey)
	}
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		return Peer{}, fmt.Errorf("%w: certificate is not signed by its own key: %v", ErrPeerRefused, err)
	}
	origin, err := replication.ParseOriginID(cert.Subject.CommonName)
	if err != nil {
		return Peer{}, fmt.Errorf("%w: certificate origin: %v", ErrPeerRefused, err)
	}
	epoch, err := strconv.ParseUint(cert.Subject.SerialNumber, 10, 64)
	if err != nil {
		return Peer{}, fmt.Errorf("%w: certificate epoch: %v", ErrPeerRefused, err)
	}
	if replication.DeriveOriginID(key, epoch) != origin {
		return Peer{}, fmt.Errorf("%w: certificate origin %s does not derive from its key", ErrPeerRefused, origin.Short())
	}
	return Peer{Key: key, Origin: origin, Epoch: epoch}, nil
}

// Client runs the handshake as the dialing side, bounded by ctx. On error
// conn is closed.
func (c *Config) Client(ctx context.Context, conn net.Conn) (net.Conn, Peer, error) {
	var peer Peer
	tc := tls.Client(conn, c.tlsConfig(&peer))
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, Peer{}, fmt.Errorf("synctls: handshake with %s: %w", conn.RemoteAddr(), err)
	}
	return tc, peer, nil
}

// Server runs the handshake as the accepting side, bounded by ctx and
// HandshakeTimeout. On error conn is closed.
func (c *Config) Server(ctx context.Context, conn net.Conn) (net.Conn, Peer, error) {
	ctx, cancel := context.WithTimeout(ctx, HandshakeTimeout)
	defer cancel()
	var peer Peer
	tc := tls.Server(conn, c.tlsConfig(&peer))
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, Peer{}, fmt.Errorf("synctls: handshake with %s: %w", conn.RemoteAddr(), err)
	}
	return tc, peer, nil
}
