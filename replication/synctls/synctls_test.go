package synctls

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"fieldsync/replication"
	"fieldsync/replication/oplog/oplogtest"
	"fieldsync/replication/wire"
)

// allow authorizes the listed keys with their roles.
func allow(roles map[string]replication.Role) Authorizer {
	return func(k ed25519.PublicKey) (replication.Role, error) {
		if r, ok := roles[string(k)]; ok {
			return r, nil
		}
		return "", fmt.Errorf("device %s is not on the roster", replication.DeviceIDOf(k))
	}
}

type result struct {
	conn net.Conn
	peer Peer
	err  error
}

// handshake runs client and server over a loopback TCP pair, the client's
// bytes passing through mitm when set.
func handshake(t *testing.T, client, server *Config, mitm func(c1, c2 net.Conn)) (result, result) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			srv <- result{err: err}
			return
		}
		conn, p, err := server.Server(ctx, c)
		if err == nil {
			// TLS 1.3: the server sees the client's certificate only now,
			// and the client learns of a refusal on its first read.
			_, err = conn.Write([]byte("ok"))
		}
		srv <- result{conn, p, err}
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if mitm != nil {
		a, b := net.Pipe()
		go mitm(raw, b)
		raw = a
	}
	conn, p, err := client.Client(ctx, raw)
	if err == nil {
		buf := make([]byte, 2)
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = io.ReadFull(conn, buf)
	}
	cr := result{conn, p, err}
	sr := <-srv
	for _, r := range []result{cr, sr} {
		if r.conn != nil {
			t.Cleanup(func() { r.conn.Close() })
		}
	}
	return cr, sr
}

func newConfig(t *testing.T, s *replication.KeySigner, a Authorizer) *Config {
	c, err := New(s, a)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMutualHandshake(t *testing.T) {
	laptop, hub := oplogtest.NewSigner(1), oplogtest.NewSigner(2)
	roles := map[string]replication.Role{string(laptop.PublicKey()): replication.RoleNode, string(hub.PublicKey()): replication.RoleHub}
	cr, sr := handshake(t, newConfig(t, laptop, allow(roles)), newConfig(t, hub, allow(roles)), nil)
	if cr.err != nil || sr.err != nil {
		t.Fatalf("client %v, server %v", cr.err, sr.err)
	}
	if cr.peer.Origin != hub.Origin() || cr.peer.Role != replication.RoleHub || sr.peer.Origin != laptop.Origin() || sr.peer.Role != replication.RoleNode {
		t.Fatalf("peers: client saw %+v, server saw %+v", cr.peer, sr.peer)
	}
	if err := sr.peer.CheckHello(&wire.Hello{Origin: laptop.Origin(), Role: "node"}); err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]*wire.Hello{
		"another origin":     {Origin: hub.Origin(), Role: "node"},
		"a laptop as a hub":  {Origin: laptop.Origin(), Role: "hub"},
		"another epoch's ID": {Origin: laptop.WithEpoch(9).Origin(), Role: "node"},
	} {
		if err := sr.peer.CheckHello(h); !errors.Is(err, ErrPeerRefused) {
			t.Errorf("%s: hello accepted (%v)", name, err)
		}
	}
}

func TestUnknownKeyRefused(t *testing.T) {
	laptop, hub, stranger := oplogtest.NewSigner(1), oplogtest.NewSigner(2), oplogtest.NewSigner(3)
	roles := map[string]replication.Role{string(laptop.PublicKey()): replication.RoleNode, string(hub.PublicKey()): replication.RoleHub}
	t.Run("the hub refuses a stranger", func(t *testing.T) {
		cr, sr := handshake(t, newConfig(t, stranger, allow(roles)), newConfig(t, hub, allow(roles)), nil)
		if !errors.Is(sr.err, ErrPeerRefused) || cr.err == nil {
			t.Fatalf("client %v, server %v", cr.err, sr.err)
		}
		t.Logf("server: %v; client: %v", sr.err, cr.err)
	})
	t.Run("a laptop refuses a hub not on its roster", func(t *testing.T) {
		cr, sr := handshake(t, newConfig(t, laptop, allow(roles)), newConfig(t, stranger, allow(roles)), nil)
		if !errors.Is(cr.err, ErrPeerRefused) || sr.err == nil {
			t.Fatalf("client %v, server %v", cr.err, sr.err)
		}
	})
}

// forge makes a certificate for key naming origin and epoch, signed with
// signWith, and pairs it with the private key priv.
func forge(t *testing.T, key ed25519.PublicKey, signWith, priv ed25519.PrivateKey, origin replication.OriginID, epoch uint64) tls.Certificate {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: origin.String(), SerialNumber: strconv.FormatUint(epoch, 10)},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<34, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key, signWith)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv}
}

func TestForgedCertificates(t *testing.T) {
	laptop, hub, thief := oplogtest.NewSigner(1), oplogtest.NewSigner(2), oplogtest.NewSigner(3)
	roles := map[string]replication.Role{string(laptop.PublicKey()): replication.RoleNode, string(hub.PublicKey()): replication.RoleHub, string(thief.PublicKey()): replication.RoleNode}
	server := newConfig(t, hub, allow(roles))
	cases := map[string]tls.Certificate{
		// The thief's own key, claiming the laptop's origin.
		"another device's origin": forge(t, thief.PublicKey(), thief.PrivateKey(), thief.PrivateKey(), laptop.Origin(), laptop.Epoch()),
		// The laptop's public certificate, without its private key.
		"a copied certificate": forge(t, laptop.PublicKey(), laptop.PrivateKey(), thief.PrivateKey(), laptop.Origin(), laptop.Epoch()),
		// The laptop's key and origin, but signed by someone else.
		"not self-signed": forge(t, laptop.PublicKey(), thief.PrivateKey(), laptop.PrivateKey(), laptop.Origin(), laptop.Epoch()),
	}
	for name, cert := range cases {
		t.Run(name, func(t *testing.T) {
			client := newConfig(t, thief, allow(roles))
			client.cert = cert
			cr, sr := handshake(t, client, server, nil)
			if sr.err == nil || cr.err == nil {
				t.Fatalf("accepted: client %v, server %v (peer %+v)", cr.err, sr.err, sr.peer)
			}
			t.Logf("server: %v", sr.err)
		})
	}
}

// TestTamperingFailsClosed puts a proxy between the two sides that flips
// one bit of the stream after the handshake: the receiver's read fails (a
// bad record MAC); nothing altered is delivered.
func TestTamperingFailsClosed(t *testing.T) {
	laptop, hub := oplogtest.NewSigner(1), oplogtest.NewSigner(2)
	roles := map[string]replication.Role{string(laptop.PublicKey()): replication.RoleNode, string(hub.PublicKey()): replication.RoleHub}
	var flipped sync.Once
	armed := make(chan struct{})
	mitm := func(server, client net.Conn) {
		go io.Copy(client, server)
		buf := make([]byte, 32<<10)
		for {
			n, err := client.Read(buf)
			if n > 0 {
				select {
				case <-armed:
					flipped.Do(func() { buf[n/2] ^= 0x10 })
				default:
				}
				if _, werr := server.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				server.Close()
				return
			}
		}
	}
	cr, sr := handshake(t, newConfig(t, laptop, allow(roles)), newConfig(t, hub, allow(roles)), mitm)
	if cr.err != nil || sr.err != nil {
		t.Fatalf("handshake: client %v, server %v", cr.err, sr.err)
	}
	close(armed)
	if _, err := cr.conn.Write([]byte("batch of entries")); err != nil {
		t.Fatal(err)
	}
	sr.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, err := sr.conn.Read(buf)
	if err == nil {
		t.Fatalf("read %q through a tampering proxy", buf[:n])
	}
	t.Logf("receiver: %v", err)
}

// BenchmarkHandshake measures a full mutual handshake (both sides, one
// core each at most) over loopback TCP.
func BenchmarkHandshake(b *testing.B) {
	laptop, hub := oplogtest.NewSigner(1), oplogtest.NewSigner(2)
	roles := map[string]replication.Role{string(laptop.PublicKey()): replication.RoleNode, string(hub.PublicKey()): replication.RoleHub}
	client, _ := New(laptop, allow(roles))
	server, _ := New(hub, allow(roles))
	ctx := context.Background()
	var bytes int64
	for b.Loop() {
		c1, c2 := net.Pipe()
		cc := &counting{Conn: c1}
		done := make(chan error, 1)
		go func() {
			conn, _, err := server.Server(ctx, c2)
			if err == nil {
				_, err = conn.Write([]byte{1})
			}
			done <- err
		}()
		conn, _, err := client.Client(ctx, cc)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(conn, make([]byte, 1)); err != nil {
			b.Fatal(err)
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		bytes += cc.n
		c1.Close() // not conn.Close: its close_notify would wait on the pipe
		c2.Close()
	}
	b.ReportMetric(float64(bytes)/float64(b.N), "B/handshake")
}

type counting struct {
	net.Conn
	n int64
}

func (c *counting) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *counting) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n += int64(n)
	return n, err
}
