package bench

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
	"fieldsync/replication"
	"fieldsync/replication/wire"
)

// The input is built on disk in three passes (buildIngestInput):
//
//  1. routeRecords runs the generator and appends each record to its
//     laptop's file (records/NNN.jsonl): a laptop is a capture device's,
//     devices taking origins in order of first appearance;
//  2. saveLaptops, on every core, saves each laptop's records through its
//     node in groups of captureGroup and lets its sync session cut them
//     into batches (frames/NNN), one laptop in memory per core;
//  3. interleave writes the batches round-robin across laptops into the
//     spool (ingest_spool.go), as concurrent sessions would deliver them.
//
// Memory is one laptop's log per core, whatever the province's size.

// routed is the state between the passes.
type routed struct {
	dir  string
	laps []*routedLaptop
}

// routedLaptop is a laptop whose records are on disk.
type routedLaptop struct {
	signer  *replication.KeySigner
	first   enrollment.Enrollment // its first capture: its commune and genesis time
	records string                // file of its records, one JSON per line
	frames  string                // file of its batches
	file    *os.File
	w       *bufio.Writer
}

// routeRecords is pass 1.
func routeRecords(dir string, cfg IngestConfig) (*routed, error) {
	devices := min(50, max(synth.DefaultDevices, (cfg.Origins+haTinhCommunes-1)/haTinhCommunes))
	g, err := synth.New(synth.Config{Count: cfg.N, Seed: cfg.Seed, Noise: cfg.Noise, Devices: devices})
	if err != nil {
		return nil, err
	}
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], cfg.Seed)
	keys := rand.NewChaCha8(seed)
	b := &routed{dir: filepath.Join(dir, "build")}
	if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return nil, err
	}
	byDevice := map[string]*routedLaptop{}
	for {
		rec, ok := g.Next()
		if !ok {
			break
		}
		l, err := b.laptopFor(byDevice, keys, cfg.Origins, &rec.Enrollment)
		if err != nil {
			b.cleanup()
			return nil, err
		}
		line, err := json.Marshal(&rec.Enrollment)
		if err != nil {
			b.cleanup()
			return nil, err
		}
		if _, err := l.w.Write(append(line, '\n')); err != nil {
			b.cleanup()
			return nil, err
		}
	}
	if err := g.Err(); err != nil {
		b.cleanup()
		return nil, err
	}
	for _, l := range b.laps {
		if err := errors.Join(l.w.Flush(), l.file.Close()); err != nil {
			b.cleanup()
			return nil, err
		}
		l.file, l.w = nil, nil
	}
	return b, nil
}

// laptopFor returns the laptop of a capture device: devices take origins
// in order of first appearance, wrapping around when there are more
// devices than origins (such a laptop serves two stations).
func (b *routed) laptopFor(byDevice map[string]*routedLaptop, keys *rand.ChaCha8, origins int, e *enrollment.Enrollment) (*routedLaptop, error) {
	if l, ok := byDevice[e.Capture.Device]; ok {
		return l, nil
	}
	n := len(byDevice)
	byDevice[e.Capture.Device] = nil
	if n < origins {
		i := len(b.laps)
		signer, err := replication.GenerateKeySigner(keys, uint64(i+1))
		if err != nil {
			return nil, err
		}
		l := &routedLaptop{signer: signer, first: *e,
			records: filepath.Join(b.dir, fmt.Sprintf("records-%04d.jsonl", i)), frames: filepath.Join(b.dir, fmt.Sprintf("frames-%04d", i))}
		if l.file, err = os.Create(l.records); err != nil {
			return nil, err
		}
		l.w = bufio.NewWriterSize(l.file, 64<<10)
		b.laps = append(b.laps, l)
	}
	l := b.laps[n%origins]
	byDevice[e.Capture.Device] = l
	return l, nil
}

// saveLaptops is pass 2.
func (b *routed) saveLaptops(in *ingestInput) error {
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs error
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := range jobs {
				hello, rejected, err := b.laps[i].build(i)
				mu.Lock()
				errs = errors.Join(errs, err)
				if err == nil {
					in.rejected += rejected
					in.hellos[b.laps[i].signer.Origin()] = hello
				}
				mu.Unlock()
			}
		})
	}
	for i := range b.laps {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return errs
}

// build saves one laptop's records and writes the batches its session
// sends, then drops its log.
func (rl *routedLaptop) build(i int) (*wire.Hello, int, error) {
	l, err := newLaptop(rl.signer, i, &rl.first)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(rl.records)
	if err != nil {
		return nil, 0, err
	}
	dec := json.NewDecoder(bufio.NewReaderSize(f, 64<<10))
	group := make([]enrollment.Enrollment, 0, captureGroup)
	for {
		var rec enrollment.Enrollment
		err := dec.Decode(&rec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("bench: %s: %w", rl.records, err)
		}
		if group = append(group, rec); len(group) == captureGroup {
			if err := l.save(group); err != nil {
				f.Close()
				return nil, 0, err
			}
			group = group[:0]
		}
	}
	f.Close()
	if len(group) > 0 {
		if err := l.save(group); err != nil {
			return nil, 0, err
		}
	}
	os.Remove(rl.records)
	if err := writeFrames(l, rl.frames); err != nil {
		return nil, 0, err
	}
	hello := l.hello
	return &hello, l.rejected, nil
}

// writeFrames writes every batch a laptop's session sends to path.
func writeFrames(l *laptop, path string) error {
	s, err := newSender(l)
	if err != nil {
		return err
	}
	codec, err := wire.NewStreamCodec(wire.DefaultLimits())
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, spoolBuffer)
	for {
		b, err := s.next()
		if err != nil {
			f.Close()
			return err
		}
		if b == nil {
			break
		}
		if _, err := codec.WriteFrame(w, b); err != nil {
			f.Close()
			return err
		}
	}
	return errors.Join(w.Flush(), f.Close())
}

// interleave is pass 3.
func (b *routed) interleave(in *ingestInput) error {
	w, err := createSpool(in.dir)
	if err != nil {
		return err
	}
	type source struct {
		f  *os.File
		fr *frameReader
	}
	var srcs []*source
	defer func() {
		for _, s := range srcs {
			s.f.Close()
		}
	}()
	codec, err := wire.NewStreamCodec(wire.DefaultLimits())
	if err != nil {
		w.close()
		return err
	}
	for _, l := range b.laps {
		f, err := os.Open(l.frames)
		if err != nil {
			w.close()
			return err
		}
		srcs = append(srcs, &source{f: f, fr: &frameReader{f: f, r: bufio.NewReaderSize(f, 256<<10), codec: codec}})
	}
	for round := 0; len(srcs) > 0; round++ {
		if round == maxSendRounds {
			w.close()
			return fmt.Errorf("bench: delivery did not finish in %d rounds", maxSendRounds)
		}
		active := srcs[:0]
		for _, s := range srcs {
			batch, err := s.fr.next()
			if errors.Is(err, io.EOF) {
				s.f.Close()
				continue
			}
			if err != nil {
				w.close()
				return err
			}
			if err := in.add(w, batch); err != nil {
				w.close()
				return err
			}
			active = append(active, s)
		}
		srcs = active
	}
	return w.finish()
}

// cleanup removes what the passes left.
func (b *routed) cleanup() {
	for _, l := range b.laps {
		if l.file != nil {
			l.file.Close()
		}
	}
	os.RemoveAll(b.dir)
}
