package syncnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"

	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/oplog"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

// Defaults for running a session over a connection.
const (
	// DefaultTickEvery drives retransmission: with RetransmitTicks ticks of
	// silence the sender goes back to the peer's acknowledged heads.
	DefaultTickEvery = 2 * time.Second
	// DefaultIdleTimeout closes a session when nothing moved either way for
	// this long: on a metered link an idle connection still costs.
	DefaultIdleTimeout = 15 * time.Second
	// DefaultIOTimeout bounds one frame write or read. A batch is at most
	// ~4 MiB uncompressed (~1 MiB compressed): 2 minutes is ~70 kbit/s.
	DefaultIOTimeout = 2 * time.Minute
	// DefaultLivenessTimeout ends a session that waits on the peer (a
	// batch not yet acknowledged, a transfer under way) and has received
	// nothing for this long: the link is down. Liveness is what arrives,
	// never what this side sends (a cut link still takes writes into the
	// kernel's buffer, and a retransmission would look like progress). The
	// peer acknowledges each batch (~2 s of the link) and, while a frame
	// takes long to arrive, sends a keepalive every KeepaliveEvery.
	DefaultLivenessTimeout = 30 * time.Second
	// DefaultKeepaliveEvery: a side receiving a frame that has sent nothing
	// for this long sends a keepalive (an empty ack, which changes nothing
	// at the peer), so that a sender of a long frame hears the link works.
	DefaultKeepaliveEvery = 10 * time.Second
)

// ErrPeerSilent ends a session that waited on the peer and heard nothing
// for the liveness timeout: the link is down (or the peer is).
var ErrPeerSilent = errors.New("syncnet: no word from the peer: the link is down")

// Options configures Run.
type Options struct {
	Proto syncproto.Config
	Log   oplog.Log
	Codec *wire.Codec
	Clock replication.Clock
	// TickEvery, IdleTimeout, IOTimeout, LivenessTimeout, KeepaliveEvery:
	// see the defaults.
	TickEvery       time.Duration
	IdleTimeout     time.Duration
	IOTimeout       time.Duration
	LivenessTimeout time.Duration
	KeepaliveEvery  time.Duration
	// IdleFor, if set, chooses the idle timeout once the peer's Hello is
	// known (hubs keep sessions with hubs open; laptops close theirs).
	IdleFor func(peer *wire.Hello) time.Duration
	// StreamLevel is the zstd level of this side's stream (0 means
	// DefaultStreamLevel); it costs memory per session (stream.go).
	StreamLevel zstd.EncoderLevel
	// Wake, when it receives, makes the session look again for local
	// entries to send (the replica appended or ingested something).
	Wake <-chan struct{}
	// Meta returns metadata to write with each ingested batch, in the same
	// transaction (what this replica now acknowledges to the peer).
	Meta func(peer *wire.Hello) []oplog.KV
	// OnIngest is called after each batch is durably written (the hub feeds
	// its view from here), and for a batch of entries all already held (a
	// replay: res.Applied empty, res.Duplicates counted). It must not block
	// for long.
	OnIngest func(peer *wire.Hello, res oplog.IngestResult)
	// OnEvent receives forks, refusals and the like.
	OnEvent func(peer *wire.Hello, ev syncproto.Event)
	// CheckPeer, if set, vets the peer's Hello before anything else it
	// sends is handled (an authenticated stream: the Hello must name the
	// origin and role its certificate and the roster give it). An error
	// ends the session; nothing the peer sent was written.
	CheckPeer func(peer *wire.Hello) error
	// OnProgress is called after each message handled, with running stats.
	OnProgress func(p Progress)

	// The blob lane (blobs.go), when Proto.Blobs is set. OnBlobsHeld gets
	// entries whose blobs may now all be held (recheck them in the index
	// of needs); OnBlobCommitted each blob received whole. LinkBytesPerSec,
	// the rate observed on this link (0: unknown), sizes the blob window
	// with the round trip measured at the start. BlobGate, when set, is
	// held while a chunk is written, so that the blob writes of many
	// sessions queue and never starve the replica's disk of record writes.
	OnBlobsHeld     func(peer *wire.Hello, ids []replication.EntryID)
	OnBlobCommitted func(peer *wire.Hello, id blob.ID, entry replication.EntryID)
	LinkBytesPerSec float64
	BlobGate        chan struct{}
}

// Progress is what a running session has done so far.
type Progress struct {
	Peer      *wire.Hello
	PeerHeads replication.Vector
	// Sent is what this session sent, per origin (syncproto.Session.Sent).
	Sent     map[replication.OriginID]syncproto.SentSpan
	Proto    syncproto.Stats
	BytesIn  int64
	BytesOut int64
	Started  time.Time
	LastRecv time.Time
}

// Result is how a session ended.
type Result struct {
	Progress
	Ended time.Time
	// Complete is true when the session ended idle (everything exchanged)
	// rather than on an error.
	Complete bool
}

func (o *Options) fill() {
	o.Clock = replication.OrReal(o.Clock)
	if o.TickEvery == 0 {
		o.TickEvery = DefaultTickEvery
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.IOTimeout == 0 {
		o.IOTimeout = DefaultIOTimeout
	}
	if o.LivenessTimeout == 0 {
		o.LivenessTimeout = DefaultLivenessTimeout
	}
	if o.KeepaliveEvery == 0 {
		o.KeepaliveEvery = DefaultKeepaliveEvery
	}
	if o.Codec != nil && o.Proto.Limits == (wire.Limits{}) {
		o.Proto.Limits = o.Codec.Limits() // the session's hard limits are the link's
	}
}

// Run runs one sync session over conn until it has been idle both ways for
// IdleTimeout (a complete sync), ctx ends, or the connection fails. Every
// batch received is written before it is acknowledged; a cut connection
// loses at most what was in flight, and the next session resumes from the
// receiver's persisted heads. Run closes conn.
func Run(ctx context.Context, conn net.Conn, opts Options) (Result, error) {
	opts.fill()
	defer conn.Close()
	cc := &countingConn{Conn: conn, stall: opts.LivenessTimeout, now: opts.Clock.Now}
	r := &runner{opts: opts, conn: cc, res: Result{Progress: Progress{Started: opts.Clock.Now()}}}
	r.idle.Store(int64(opts.IdleTimeout))
	err := r.run(ctx)
	r.res.Ended = opts.Clock.Now()
	r.res.BytesIn, r.res.BytesOut = cc.in.Load(), cc.out.Load()
	return r.res, err
}

type runner struct {
	opts Options
	conn *countingConn
	seg  *segWriter    // segments on the connection (mux.go)
	sw   *streamWriter // compresses what this side sends
	sr   *streamReader // decompresses what it receives
	// sess belongs to the session loop (run): the Session is not safe for
	// concurrent use, so the read loop never touches it. What the read loop
	// needs of it, the idle timeout the peer's Hello chooses, is published
	// in idle.
	sess  *syncproto.Session
	idle  atomic.Int64 // the idle timeout, in nanoseconds (idleTimeout)
	res   Result
	blobs *blobShell // the blob lane, when on
}

type inbound struct {
	msg wire.Message
	err error
}

func (r *runner) run(ctx context.Context) error {
	sess, err := syncproto.NewSession(r.opts.Proto, r.opts.Log)
	if err != nil {
		return err
	}
	if err := r.initBlobs(); err != nil {
		return err
	}
	r.seg = &segWriter{w: r.conn}
	if r.sw, err = newStreamWriter(r.seg, r.opts.StreamLevel); err != nil {
		return err
	}
	// The peer never has more than its window of batches plus one ack per
	// batch of ours and a hello and summary outstanding, nor more blob
	// chunks than a receiver holds pending (and an answer to each), so
	// this inbox can always take what it sends: the reader never blocks
	// the peer's writer while this side is itself blocked writing (no
	// deadlock).
	inbox := make(chan inbound, 2*max(r.opts.Proto.Window, syncproto.DefaultWindow)+8+2*syncproto.MaxBlobPending)
	readCtx, stopRead := context.WithCancel(ctx)
	defer stopRead()
	segs := newSegReader(r.conn, r.opts.Codec, func(m wire.Message) error {
		// A raw frame is activity like any other: the read deadline moves.
		if err := r.conn.SetReadDeadline(r.opts.Clock.Now().Add(r.readTimeout())); err != nil {
			return err
		}
		select {
		case inbox <- inbound{msg: m}:
			return nil
		case <-readCtx.Done():
			return readCtx.Err()
		}
	})
	if r.sr, err = newStreamReader(segs); err != nil {
		r.sw.close()
		return err
	}
	r.sess = sess
	if err := sess.Start(); err != nil {
		return err
	}
	readDone := make(chan struct{})
	go func() { r.readLoop(readCtx, inbox); close(readDone) }()
	defer r.shutdown(readDone)
	defer r.drainBlobs(inbox)
	tick, stopTick := r.opts.Clock.NewTimer(r.opts.TickEvery)
	defer func() { stopTick() }()
	lastActivity := r.opts.Clock.Now()
	// Liveness (ticks): when bytes last arrived, and when this side last
	// sent (for keepalives).
	lastIn, lastOut := int64(0), int64(0)
	heard, spoke := lastActivity, lastActivity
	for {
		moved, err := r.flush()
		if err != nil {
			return err
		}
		if moved {
			lastActivity = r.opts.Clock.Now()
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case in, ok := <-inbox:
			// Step what has arrived, not only the first message: the
			// blob chunks that came in during the last write are then
			// written (and synced) together.
			for n := 0; ; n++ {
				if done, err := r.stepIn(in, ok); done || err != nil {
					return err
				}
				if n >= cap(inbox) {
					break
				}
				select {
				case in, ok = <-inbox:
					continue
				default:
				}
				break
			}
			lastActivity = r.opts.Clock.Now()
			r.progress()
		case <-r.opts.Wake:
			sess.LookAgain()
		case <-tick:
			stopTick()
			tick, stopTick = r.opts.Clock.NewTimer(r.opts.TickEvery)
			sess.Tick()
			r.blobTick()
			// A frame still arriving is activity: on a thin link a batch
			// takes longer than the idle timeout, and closing under it
			// would cut every batch at the same point, forever.
			now := r.opts.Clock.Now()
			arriving := false
			if in := r.conn.in.Load(); in != lastIn {
				lastIn, lastActivity, heard, arriving = in, now, now, true
			}
			if out := r.conn.out.Load(); out != lastOut {
				lastOut, spoke = out, now
			}
			if sess.Idle() && now.Sub(lastActivity) >= r.idleTimeout() {
				r.res.Complete = true
				return nil
			}
			if !sess.Idle() && now.Sub(heard) >= r.opts.LivenessTimeout {
				return fmt.Errorf("%w (nothing received for %v while waiting on it)", ErrPeerSilent, now.Sub(heard).Round(time.Second))
			}
			if arriving && now.Sub(spoke) >= r.opts.KeepaliveEvery && sess.Peer() != nil {
				if err := r.send(&wire.Ack{}); err != nil {
					return err
				}
				spoke = now
			}
		}
	}
}

// stepIn hands a message read to the session. done: the session is over
// (the peer finished first, or err).
func (r *runner) stepIn(in inbound, ok bool) (done bool, err error) {
	if !ok {
		return true, errors.New("syncnet: reader stopped")
	}
	if in.err != nil {
		if errors.Is(in.err, io.EOF) && r.sess.Idle() {
			r.res.Complete = true // the peer finished first
			return true, nil
		}
		return true, in.err
	}
	r.res.LastRecv = r.opts.Clock.Now()
	if err := r.checkPeer(in.msg); err != nil {
		return true, err
	}
	r.noteReceived(in.msg)
	if err := r.sess.Step(in.msg); err != nil {
		return true, err
	}
	r.choseIdle(in.msg)
	return false, nil
}

// checkPeer vets every Hello (the first and any repeat) before the
// session takes it.
func (r *runner) checkPeer(m wire.Message) error {
	h, ok := m.(*wire.Hello)
	if !ok || r.opts.CheckPeer == nil {
		return nil
	}
	if err := r.opts.CheckPeer(h); err != nil {
		return fmt.Errorf("syncnet: peer refused: %w", err)
	}
	return nil
}

// flush does what Ready asks: send messages, persist a batch.
func (r *runner) flush() (bool, error) {
	rd, err := r.sess.Ready()
	if err != nil {
		return false, err
	}
	for _, ev := range rd.Events {
		if r.opts.OnEvent != nil {
			r.opts.OnEvent(r.sess.Peer(), ev)
		}
	}
	for _, m := range rd.Messages {
		if err := r.conn.SetWriteDeadline(r.opts.Clock.Now().Add(r.opts.IOTimeout)); err != nil {
			return false, err
		}
		if err := r.send(m); err != nil {
			r.keepBlobWrite(&rd)
			return false, err
		}
	}
	if rd.Persist != nil {
		if err := r.persist(rd.Persist); err != nil {
			return false, err
		}
	}
	if err := r.blobWork(&rd); err != nil {
		return false, err
	}
	moved := len(rd.Messages) > 0 || rd.Persist != nil || rd.BlobWrite != nil
	if moved {
		r.progress()
	}
	return moved, nil
}

func (r *runner) persist(p *syncproto.Persist) error {
	var meta []oplog.KV
	if r.opts.Meta != nil {
		meta = r.opts.Meta(r.sess.Peer())
	}
	res, err := r.opts.Log.Ingest(p.Entries, meta)
	if perr := r.sess.Persisted(res, err); perr != nil {
		return perr
	}
	if r.opts.OnIngest != nil && (len(res.Applied) > 0 || res.Duplicates > 0) {
		r.opts.OnIngest(r.sess.Peer(), res)
	}
	return nil
}

func (r *runner) progress() {
	r.res.Peer = r.sess.Peer()
	r.res.PeerHeads = r.sess.PeerHeads()
	r.res.Sent = r.sess.Sent()
	r.res.Proto = r.sess.Stats()
	r.res.BytesIn, r.res.BytesOut = r.conn.in.Load(), r.conn.out.Load()
	if r.opts.OnProgress != nil {
		r.opts.OnProgress(r.res.Progress)
	}
}

// readLoop reads frames until an error, handing them to the session loop.
func (r *runner) readLoop(ctx context.Context, inbox chan<- inbound) {
	defer close(inbox)
	for {
		if err := r.conn.SetReadDeadline(r.opts.Clock.Now().Add(r.readTimeout())); err != nil {
			inbox <- inbound{err: err}
			return
		}
		m, _, err := r.opts.Codec.ReadFrame(r.sr)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("syncnet: peer closed the connection: %w", err)
			}
			select {
			case inbox <- inbound{err: err}:
			case <-ctx.Done():
			}
			return
		}
		select {
		case inbox <- inbound{msg: m}:
		case <-ctx.Done():
			return
		}
	}
}

// readTimeout allows for a long idle wait plus a slow frame.
func (r *runner) readTimeout() time.Duration { return r.idleTimeout() + r.opts.IOTimeout }

// countingConn counts the bytes this side reads and writes (payload bytes
// of the stream; the link emulator counts headers). It writes in pieces,
// each with its own deadline of stall (within the deadline the caller
// set): a write into a link that went down fails once nothing more could
// be written for stall, rather than at the end of a whole frame's
// deadline, while a slow link that keeps taking bytes is never cut.
type countingConn struct {
	net.Conn
	in, out atomic.Int64
	stall   time.Duration
	now     func() time.Time
	// deadline is the write deadline the caller set (zero: none); only
	// the session loop writes.
	deadline time.Time
}

// writePiece bounds one write under the stall deadline (at 9.6 kbit/s,
// 4 KiB take 3.4 s).
const writePiece = 4 << 10

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.in.Add(int64(n))
	return n, err
}

func (c *countingConn) SetWriteDeadline(t time.Time) error {
	c.deadline = t
	return c.Conn.SetWriteDeadline(t)
}

func (c *countingConn) SetDeadline(t time.Time) error {
	c.deadline = t
	return c.Conn.SetDeadline(t)
}

func (c *countingConn) Write(b []byte) (int, error) {
	if c.stall <= 0 {
		n, err := c.Conn.Write(b)
		c.out.Add(int64(n))
		return n, err
	}
	written := 0
	for written < len(b) {
		d := c.now().Add(c.stall)
		if !c.deadline.IsZero() && c.deadline.Before(d) {
			d = c.deadline
		}
		if err := c.Conn.SetWriteDeadline(d); err != nil {
			return written, err
		}
		n, err := c.Conn.Write(b[written:min(len(b), written+writePiece)])
		written += n
		c.out.Add(int64(n))
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && d != c.deadline {
				err = fmt.Errorf("%w (a write took no byte for %v): %w", ErrPeerSilent, c.stall, err)
			}
			return written, err
		}
	}
	return written, nil
}

// shutdown ends this side's stream cleanly (best effort: the connection
// may be gone) so that a peer that finished sees a clean end, then closes
// the connection, waits for the reader and pools the coders. The order
// matters: the end of stream must go out before the close.
func (r *runner) shutdown(readDone <-chan struct{}) {
	r.closeBlobs()
	r.conn.SetWriteDeadline(r.opts.Clock.Now().Add(5 * time.Second))
	r.sw.close()
	r.conn.Close()
	<-readDone
	r.sr.close()
}

// choseIdle publishes the idle timeout once the session took a Hello
// (session loop only).
func (r *runner) choseIdle(m wire.Message) {
	if _, ok := m.(*wire.Hello); ok && r.opts.IdleFor != nil && r.sess.Peer() != nil {
		r.idle.Store(int64(r.opts.IdleFor(r.sess.Peer())))
	}
}

// idleTimeout is how long a quiet session stays open; both loops read it.
func (r *runner) idleTimeout() time.Duration { return time.Duration(r.idle.Load()) }
