package syncnet

import (
	"fmt"
	"sync"
	"time"

	"fieldsync/replication/blob"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

// The blob lane's shell: chunk frames go raw (mux.go), chunks received are
// written and synced through syncproto.BlobWriters before they are
// acknowledged, and the window follows the link (SetBlobPipe).

// rawCodecs holds one frame codec per limits, for chunks sent outside the
// stream: it compresses a body only when that makes it smaller.
var rawCodecs sync.Map // wire.Limits → *wire.Codec

func rawCodec(l wire.Limits) (*wire.Codec, error) {
	if c, ok := rawCodecs.Load(l); ok {
		return c.(*wire.Codec), nil
	}
	c, err := wire.NewCodec(l)
	if err != nil {
		return nil, err
	}
	c2, _ := rawCodecs.LoadOrStore(l, c)
	return c2.(*wire.Codec), nil
}

// blobShell is a runner's blob state.
type blobShell struct {
	writers *syncproto.BlobWriters
	raw     *wire.Codec
	frame   []byte
	// summaryAt is when this side first sent its summary; the peer's blob
	// status answers it, which measures the round trip.
	summaryAt time.Time
	measured  bool
	rtt       time.Duration // summary to blob status
	// The rate at which this side's chunks leave, sampled every tick while
	// they flow (rate, an average), sizes the pipe when the link's rate is
	// not known from earlier sessions.
	rate       float64
	sampleAt   time.Time
	sampleSent int64
	pipe       int // as last set
	// On a fast link the receiver's syncs, not the link, bound the rate
	// (rate × round trip is less than a chunk on loopback or a LAN): the
	// window then probes for more (extra, see probe).
	extra     int
	prevExtra int     // extra before the probe under way
	probeFrom float64 // the rate sampled before it
	probing   bool
	hold      int // samples to wait before probing again
}

// Fast-link probing. Below fastLinkBytesPerSec the window stays one chunk
// plus rate × round trip: on a thin link any more only queues in front of
// the records. Above it a chunk's transmission time is under 64 ms, and
// the window doubles its extra while each doubling raises the rate by
// probeGain; the first that does not is undone, and the next probe waits
// probeHold samples.
const (
	fastLinkBytesPerSec = 256 << 10
	probeGain           = 1.15
	probeHold           = 8
)

// pipeMargin covers what the round trip measured at the start does not:
// the peer's writes and its scheduler, later in the session.
const pipeMargin = 1.25

func (r *runner) initBlobs() error {
	bc := r.opts.Proto.Blobs
	if bc == nil {
		return nil
	}
	store, ok := bc.Store.(blob.Store)
	if !ok {
		return fmt.Errorf("syncnet: the blob lane's store must be a blob.Store (it writes what it receives)")
	}
	raw, err := rawCodec(r.opts.Codec.Limits())
	if err != nil {
		return err
	}
	r.blobs = &blobShell{writers: syncproto.NewBlobWriters(store), raw: raw}
	return nil
}

// send writes one message: a blob chunk as a raw segment, anything else
// into the stream, flushed.
func (r *runner) send(m wire.Message) error {
	if c, ok := m.(*wire.BlobChunk); ok && r.blobs != nil {
		frame, err := r.blobs.raw.AppendFrame(r.blobs.frame[:0], c)
		if err != nil {
			return fmt.Errorf("syncnet: send %s: %w", m.Type(), err)
		}
		r.blobs.frame = frame[:0]
		if err := r.seg.writeRaw(frame); err != nil {
			return fmt.Errorf("syncnet: send %s: %w", m.Type(), err)
		}
		return nil
	}
	if _, ok := m.(*wire.Summary); ok && r.blobs != nil && r.blobs.summaryAt.IsZero() {
		r.blobs.summaryAt = r.opts.Clock.Now()
	}
	if _, err := r.opts.Codec.WriteFrame(r.sw, m); err != nil {
		return fmt.Errorf("syncnet: send %s: %w", m.Type(), err)
	}
	if err := r.sw.Flush(); err != nil {
		return fmt.Errorf("syncnet: send %s: %w", m.Type(), err)
	}
	return nil
}

// blobWork does a Ready's blob work: write the chunk handed out (synced,
// or committed) and report it; pass on the entries to recheck.
func (r *runner) blobWork(rd *syncproto.Ready) error {
	if len(rd.Held) > 0 && r.opts.OnBlobsHeld != nil {
		r.opts.OnBlobsHeld(r.sess.Peer(), rd.Held)
	}
	if rd.BlobWrite == nil || r.blobs == nil {
		return nil
	}
	if r.opts.BlobGate != nil {
		r.opts.BlobGate <- struct{}{}
		defer func() { <-r.opts.BlobGate }()
	}
	res := r.blobs.writers.Apply(rd.BlobWrite)
	if err := r.sess.BlobWritten(res); err != nil {
		return err
	}
	if res.Committed && r.opts.OnBlobCommitted != nil {
		r.opts.OnBlobCommitted(r.sess.Peer(), rd.BlobWrite.ID, rd.BlobWrite.Entry)
	}
	return nil
}

// noteReceived measures the round trip when the peer's blob status (its
// answer to this side's summary) arrives, and sizes the blob window to the
// link: one chunk plus rate × round trip.
func (r *runner) noteReceived(m wire.Message) {
	if _, ok := m.(*wire.BlobStatus); !ok || r.blobs == nil || r.blobs.measured || r.blobs.summaryAt.IsZero() {
		return
	}
	r.blobs.measured = true
	r.blobs.rtt = r.opts.Clock.Now().Sub(r.blobs.summaryAt)
	r.blobs.rate = r.opts.LinkBytesPerSec
	r.sizePipe()
}

// sizePipe sets the blob window's pipe to rate × round trip (with a
// margin), once both are known.
func (r *runner) sizePipe() {
	b := r.blobs
	if b.rate <= 0 || b.rtt <= 0 {
		return
	}
	pipe := int(b.rate*b.rtt.Seconds()*pipeMargin) + b.extra
	if d := pipe - b.pipe; b.pipe == 0 || d*10 > b.pipe || -d*10 > b.pipe {
		b.pipe = pipe // only changes of more than 10%: each change re-cuts the chunks
		r.sess.SetBlobPipe(pipe)
	}
}

// blobTick samples the rate at which chunks leave; while they flow for a
// whole tick (more than a window's worth), it is the link's rate, and the
// pipe follows it.
func (r *runner) blobTick() {
	b := r.blobs
	if b == nil || !b.measured {
		return
	}
	now, sent := r.opts.Clock.Now(), r.sess.Stats().BlobBytesSent
	if !b.sampleAt.IsZero() {
		if dt := now.Sub(b.sampleAt).Seconds(); dt > 0 && sent-b.sampleSent > int64(r.sess.BlobWindow()) {
			rate := float64(sent-b.sampleSent) / dt
			if b.rate == 0 {
				b.rate = rate
			} else {
				b.rate = 0.7*b.rate + 0.3*rate
			}
			r.probe(rate)
			r.sizePipe()
		}
	}
	b.sampleAt, b.sampleSent = now, sent
}

// probe moves the window's extra after a rate sample (see
// fastLinkBytesPerSec). The window stays within what the receiver holds
// pending (syncproto.MaxBlobPending chunks, half of it).
func (r *runner) probe(sample float64) {
	b := r.blobs
	if b.rate < fastLinkBytesPerSec {
		b.extra, b.probing, b.hold = 0, false, 0
		return
	}
	grow := func() {
		b.prevExtra, b.probeFrom, b.probing = b.extra, sample, true
		b.extra = min(max(2*b.extra, r.sess.BlobWindow()), r.maxExtra())
	}
	switch {
	case b.hold > 0:
		b.hold--
	case b.probing && sample >= probeGain*b.probeFrom:
		grow()
	case b.probing:
		b.extra, b.probing, b.hold = b.prevExtra, false, probeHold
	case b.extra < r.maxExtra():
		grow()
	}
}

// maxExtra bounds the probed extra: the window stays within half the
// chunks a receiver holds pending.
func (r *runner) maxExtra() int {
	chunk := syncproto.DefaultBlobChunkBytes
	if c := r.opts.Proto.Blobs.ChunkBytes; c > 0 {
		chunk = c
	}
	return (syncproto.MaxBlobPending/2 - 1) * chunk
}

// closeBlobs keeps every byte received: open writers are synced and
// closed, for the next session to resume.
func (r *runner) closeBlobs() {
	if r.sess != nil {
		r.sess.Close()
	}
	if r.blobs != nil {
		r.blobs.writers.Close()
	}
}

// keepBlobWrite writes the chunk a Ready handed out when the Ready could
// not be carried out (the connection failed while sending): a chunk
// received is kept, whatever happens to the link.
func (r *runner) keepBlobWrite(rd *syncproto.Ready) {
	if rd.BlobWrite != nil && r.blobs != nil {
		_ = r.sess.BlobWritten(r.blobs.writers.Apply(rd.BlobWrite))
	}
}

// drainBlobs writes, when the session ends, the chunks received and not
// yet written: those still in the inbox and those the session holds. A
// cut then loses only the chunk that was partly across the link.
func (r *runner) drainBlobs(inbox <-chan inbound) {
	if r.blobs == nil || r.sess == nil {
		return
	}
	for done := false; !done; {
		select {
		case in, ok := <-inbox:
			if !ok || in.err != nil {
				done = true
			} else if c, isChunk := in.msg.(*wire.BlobChunk); isChunk {
				_ = r.sess.Step(c)
			}
		default:
			done = true
		}
	}
	for range syncproto.MaxBlobPending + 1 {
		rd, err := r.sess.Ready()
		if err != nil || rd.BlobWrite == nil {
			return
		}
		if err := r.sess.BlobWritten(r.blobs.writers.Apply(rd.BlobWrite)); err != nil {
			return
		}
	}
}
