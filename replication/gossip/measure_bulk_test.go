package gossip

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"time"

	"github.com/hashicorp/memberlist"

	"fieldsync/internal/linkemu"
)

// BulkMethod names a way of moving a bulk payload between two members.
type BulkMethod string

const (
	// BulkSendReliable is memberlist.SendReliable: a TCP stream memberlist
	// opens, writes and closes, with no answer from the receiver.
	BulkSendReliable BulkMethod = "memberlist SendReliable"
	// BulkStream is a plain TCP connection through the same link with an
	// application-level ack: the receiver answers with the byte count it
	// read, and the sender waits for it. (fieldsync's sync stream does
	// this per batch.)
	BulkStream BulkMethod = "TCP stream + app ack"
)

// BulkOptions configures MeasureBulk. Zero fields take the defaults named.
type BulkOptions struct {
	// Method is how to send (BulkSendReliable or BulkStream).
	Method BulkMethod
	// Size is the payload in bytes, incompressible (default 60 KiB: a
	// zstd delta batch).
	Size int
	// Link shapes the sender's side (default linkemu.Bench128k: 128 kbit/s
	// each way, 300 ms RTT).
	Link *linkemu.Profile
	// TCPTimeout is memberlist's, on both members (default 60 s, the field
	// value). The receiver applies it as a deadline for reading the whole
	// message. Unused by BulkStream.
	TCPTimeout time.Duration
	// Wait is how long to wait for delivery and the ack (default: three
	// times the payload's serialisation time on the link plus 5 s).
	Wait time.Duration
	// Logger receives memberlist's logs (default: discarded).
	Logger *slog.Logger
}

// BulkReport is what MeasureBulk saw.
type BulkReport struct {
	// Method, Size, Link and TCPTimeout repeat the options (Link as the
	// profile's description; TCPTimeout 0 for BulkStream).
	Method     BulkMethod
	Size       int
	Link       string
	TCPTimeout time.Duration
	// SendReturned is when the sending call returned, and SendErr what it
	// returned.
	SendReturned time.Duration
	SendErr      error
	// Delivered: the receiver got the whole payload, DeliveredAfter after
	// the send began.
	Delivered      bool
	DeliveredAfter time.Duration
	// Confirmed: the sender learned of the delivery (BulkStream's ack),
	// ConfirmedAfter after the send began. SendReliable never confirms.
	Confirmed      bool
	ConfirmedAfter time.Duration
	// WireBytes is what crossed the link, both directions, during the
	// transfer (payload, encryption, headers, ACKs, handshake).
	WireBytes int64
}

// SilentLoss reports the failure LIBRARIES.md warns of: the send call said
// nothing was wrong and the receiver never got the payload.
func (r BulkReport) SilentLoss() bool { return r.SendErr == nil && !r.Delivered }

// String formats the report on one line.
func (r BulkReport) String() string {
	outcome := "delivered and confirmed"
	switch {
	case r.SilentLoss():
		outcome = "LOST SILENTLY (send returned nil, receiver never got it)"
	case r.SendErr != nil && !r.Delivered:
		outcome = fmt.Sprintf("failed with an error (%v)", r.SendErr)
	case r.Delivered && !r.Confirmed:
		outcome = "delivered, unconfirmed (the sender cannot know)"
	}
	tcp := ""
	if r.Method == BulkSendReliable {
		tcp = fmt.Sprintf(", TCPTimeout %v", r.TCPTimeout)
	}
	return fmt.Sprintf("%s, %d KiB over %s%s: send returned after %v; delivered %v after %v; confirmed %v after %v; %d B on the wire (%.2f× payload): %s",
		r.Method, r.Size>>10, r.Link, tcp, r.SendReturned.Round(time.Millisecond), r.Delivered, r.DeliveredAfter.Round(time.Millisecond),
		r.Confirmed, r.ConfirmedAfter.Round(time.Millisecond), r.WireBytes, float64(r.WireBytes)/float64(r.Size), outcome)
}

// MeasureBulk moves one incompressible payload from a sender behind an
// emulated link to a receiver on loopback, with o.Method, and reports time,
// bytes on the wire, and whether the payload arrived and whether the
// sender could know. Both memberlist members run like a Pool's:
// encrypted, labelled, compression off, probes off (so the link carries
// only the transfer).
func MeasureBulk(ctx context.Context, o BulkOptions) (BulkReport, error) {
	if o.Size <= 0 {
		o.Size = 60 << 10
	}
	prof := linkemu.Bench128k
	if o.Link != nil {
		prof = *o.Link
	}
	if o.TCPTimeout <= 0 {
		o.TCPTimeout = fieldTCPTimeout
	}
	if o.Wait <= 0 {
		rate := prof.Rate(linkemu.Up)
		o.Wait = 5 * time.Second
		if rate > 0 {
			o.Wait += 3 * time.Duration(float64(o.Size*8)/float64(rate)*float64(time.Second))
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	payload := make([]byte, o.Size)
	_, _ = rand.NewChaCha8([32]byte{7}).Read(payload)
	link := linkemu.NewLink(prof)
	r := BulkReport{Method: o.Method, Size: o.Size, Link: prof.String(), TCPTimeout: o.TCPTimeout}
	switch o.Method {
	case BulkSendReliable:
		return measureSendReliable(ctx, o, link, payload, r)
	case BulkStream:
		r.TCPTimeout = 0
		return measureStream(ctx, o, link, payload, r)
	}
	return r, fmt.Errorf("gossip: unknown bulk method %q", o.Method)
}

// bulkDelegate records the size of each user message received.
type bulkDelegate struct{ got chan int }

func (d *bulkDelegate) NodeMeta(int) []byte { return nil }
func (d *bulkDelegate) NotifyMsg(b []byte) {
	select {
	case d.got <- len(b):
	default:
	}
}
func (d *bulkDelegate) GetBroadcasts(int, int) [][]byte { return nil }
func (d *bulkDelegate) LocalState(bool) []byte          { return nil }
func (d *bulkDelegate) MergeRemoteState([]byte, bool)   {}

func bulkMember(name string, link *linkemu.Link, o BulkOptions, d memberlist.Delegate) (*memberlist.Memberlist, error) {
	var shaped Link // nil for the receiver: a nil *linkemu.Link must stay a nil Link
	if link != nil {
		shaped = link.Member()
	}
	tr, err := newTransport("127.0.0.1", 0, shaped, nil, newStdLogger(o.Logger))
	if err != nil {
		return nil, err
	}
	c := memberlistConfig(ProfileLocal)
	c.Name, c.Label = name, "bench/bulk"
	c.BindAddr, c.BindPort = "127.0.0.1", tr.boundPort()
	c.SecretKey = make([]byte, KeySize)
	c.Transport = tr
	c.Delegate = d
	c.Logger = newStdLogger(o.Logger)
	c.ProbeInterval = time.Hour
	c.PushPullInterval = 0
	c.TCPTimeout = o.TCPTimeout
	ml, err := memberlist.Create(c)
	if err != nil {
		_ = tr.Shutdown()
		return nil, err
	}
	return ml, nil
}

func measureSendReliable(ctx context.Context, o BulkOptions, link *linkemu.Link, payload []byte, r BulkReport) (BulkReport, error) {
	d := &bulkDelegate{got: make(chan int, 1)}
	recv, err := bulkMember("receiver", nil, o, d)
	if err != nil {
		return r, err
	}
	defer recv.Shutdown()
	send, err := bulkMember("sender", link, o, &bulkDelegate{got: make(chan int, 1)})
	if err != nil {
		return r, err
	}
	defer send.Shutdown()
	if _, err := send.Join([]string{"receiver/" + recv.LocalNode().Address()}); err != nil {
		return r, fmt.Errorf("gossip: measure bulk: join through the link: %w", err)
	}
	var to *memberlist.Node
	for _, n := range send.Members() {
		if n.Name == "receiver" {
			to = n
		}
	}
	if to == nil {
		return r, errors.New("gossip: measure bulk: receiver not a member after join")
	}
	if err := sleepCtx(ctx, time.Second); err != nil { // the join's packets drain
		return r, err
	}
	before := link.Stats()
	start := time.Now()
	r.SendErr = send.SendReliable(to, payload)
	r.SendReturned = time.Since(start)
	wait := time.NewTimer(o.Wait)
	defer wait.Stop()
	select {
	case n := <-d.got:
		r.Delivered = n == len(payload)
		r.DeliveredAfter = time.Since(start)
	case <-wait.C:
	case <-ctx.Done():
		return r, ctx.Err()
	}
	if err := sleepCtx(ctx, prof2RTT(link)); err != nil { // the last ACKs
		return r, err
	}
	after := link.Stats()
	r.WireBytes = after.WireBytes() - before.WireBytes()
	return r, nil
}

func prof2RTT(l *linkemu.Link) time.Duration { return 2*l.Profile().RTT + 100*time.Millisecond }

// measureStream sends a 4-byte length and the payload over a TCP
// connection dialed through the link; the receiver reads it all and
// answers with the 8-byte count; the sender waits for that ack.
func measureStream(ctx context.Context, o BulkOptions, link *linkemu.Link, payload []byte, r BulkReport) (BulkReport, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return r, err
	}
	defer ln.Close()
	type delivery struct {
		at time.Time
		n  int
	}
	delivered := make(chan delivery, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(o.Wait))
		var hdr [4]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n > 64<<20 {
			return
		}
		got, err := io.CopyN(io.Discard, c, int64(n))
		if err != nil {
			return
		}
		delivered <- delivery{time.Now(), int(got)}
		var ack [8]byte
		binary.BigEndian.PutUint64(ack[:], uint64(got))
		_, _ = c.Write(ack[:])
	}()
	before := link.Stats()
	start := time.Now()
	dctx, cancel := context.WithTimeout(ctx, o.Wait)
	defer cancel()
	c, err := link.Dialer(nil)(dctx, "tcp", ln.Addr().String())
	if err != nil {
		r.SendErr = err
		return r, nil
	}
	defer c.Close()
	_ = c.SetDeadline(start.Add(o.Wait))
	msg := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(payload)), uint32(len(payload)))
	msg = append(msg, payload...)
	_, r.SendErr = c.Write(msg)
	r.SendReturned = time.Since(start)
	var ack [8]byte
	if _, err := io.ReadFull(c, ack[:]); err == nil && binary.BigEndian.Uint64(ack[:]) == uint64(len(payload)) {
		r.Confirmed = true
		r.ConfirmedAfter = time.Since(start)
	} else if r.SendErr == nil {
		r.SendErr = err
	}
	select {
	case d := <-delivered:
		r.Delivered = d.n == len(payload)
		r.DeliveredAfter = d.at.Sub(start)
	default:
	}
	_ = c.Close()
	if err := sleepCtx(ctx, prof2RTT(link)); err != nil {
		return r, err
	}
	after := link.Stats()
	r.WireBytes = after.WireBytes() - before.WireBytes()
	return r, nil
}
