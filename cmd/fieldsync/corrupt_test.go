package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fieldsync/enrollment/synth"
	"fieldsync/enrollment/synth/synthtest"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/oplog"
)

var flipSeeds = flag.Int("flip-seeds", 33, "TestBitFlipsAreDetected: how many flips (each in a fresh copy of the replica)")

// buildFlipReplica makes a stopped laptop replica the way one lives: three
// runs of captures (so several tables), and between them the record of
// what its hub acknowledged, rewritten as it grows.
func buildFlipReplica(t *testing.T, dir string) {
	t.Helper()
	fsMust(t, "init", "--dir", dir, "--role", "node", "--unit", "18586", "--open", "--max-unsynced", "-1")
	for round := range 3 {
		in := filepath.Join(t.TempDir(), "in.jsonl")
		if err := os.WriteFile(in, mustRun(t, "gen", "--count", "400", "--seed", fmt.Sprint(round+1), "--commune", "18586"), 0o600); err != nil {
			t.Fatal(err)
		}
		fsMust(t, "import", "--dir", dir, in)
		d, err := datadir.Open(dir, datadir.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := d.Log.Vector()
		for i := range 50 { // acks arriving: the peer state rewritten
			ack := map[string]any{"name": "hub-445", "own_acked": map[string]any{"seq": v.Seq(d.Signer.Origin()) - uint64(50-i)}}
			b, _ := json.Marshal(ack)
			if err := d.Log.PutMeta(oplog.KV{Key: "peer/hub-445", Value: b}); err != nil {
				t.Fatal(err)
			}
		}
		d.Close()
	}
	// Dossiers: their biometric files in the sealed blob store.
	dos := filepath.Join(t.TempDir(), "dossiers")
	fsMust(t, "gen", "--count", "4", "--seed", "9", "--commune", "18586", "--dossiers", dos)
	fsMust(t, "import", "--dir", dir, dos)
	if *flipKilled {
		// A fourth run, ended by kill -9: captures acknowledged by the
		// daemon's API live in the memtable log (.mem) only.
		daemon := startRun(t, dir)
		apiEnroll(t, dir, synthtest.Enrollments(t, synth.Config{Count: 200, Seed: 11, Commune: "18586"}))
		daemon.Process.Kill()
		daemon.Wait()
	}
}

var flipKilled = flag.Bool("flip-killed", true, "TestBitFlipsAreDetected: the replica's last run ended by kill -9 (memtable logs on disk)")

// replicaDump is everything a replica holds: each entry's hash by ID, and
// each metadata value by key.
type replicaDump struct {
	Entries map[string]replication.Hash
	Meta    map[string]string
}

func dumpReplica(dir string) (replicaDump, error) {
	d, err := datadir.Open(dir, datadir.OpenOptions{})
	if err != nil {
		return replicaDump{}, err
	}
	defer d.Close()
	return dumpDir(d)
}

func dumpDir(d *datadir.Dir) (replicaDump, error) {
	out := replicaDump{Entries: map[string]replication.Hash{}, Meta: map[string]string{}}
	v, err := d.Log.Vector()
	if err != nil {
		return out, err
	}
	for _, oh := range v.Heads() {
		if err := d.Log.Scan(oh.Origin, 1, func(e replication.Entry) bool {
			out.Entries[e.ID().String()] = e.Hash()
			return true
		}); err != nil {
			return out, err
		}
	}
	err = d.Log.ScanMeta("", func(k string, v []byte) bool {
		out.Meta[k] = string(v)
		return true
	})
	return out, err
}

func (a replicaDump) diff(b replicaDump) string {
	var missing, changed int
	for id, h := range a.Entries {
		if g, ok := b.Entries[id]; !ok {
			missing++
		} else if g != h {
			changed++
		}
	}
	var meta []string
	for k, v := range a.Meta {
		if b.Meta[k] != v {
			meta = append(meta, k)
		}
	}
	if missing == 0 && changed == 0 && len(meta) == 0 && len(a.Entries) == len(b.Entries) && len(a.Meta) == len(b.Meta) {
		return ""
	}
	return fmt.Sprintf("%d entries missing, %d changed, %d extra; metadata changed: %v", missing, changed, len(b.Entries)-len(a.Entries)+missing, meta)
}

func copyTreeTo(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if e.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, _ := e.Info()
		return writeSparse(filepath.Join(dst, rel), b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// keyFileRel stands for the master key file, beside the directory.
const keyFileRel = "../laptop.key"

// writeSparse writes b leaving holes for its runs of zeros (a memtable
// log is 64 MiB preallocated, mostly zeros: a plain copy per flip is slow).
func writeSparse(path string, b []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	const chunk = 64 << 10
	for off := 0; off < len(b); off += chunk {
		part := b[off:min(len(b), off+chunk)]
		if bytes.Count(part, []byte{0}) == len(part) {
			continue
		}
		if _, err := f.WriteAt(part, int64(off)); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Truncate(int64(len(b))); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// copyReplica copies a stopped replica's directory orig, and the master
// key file beside it, to a new directory named base (its config names the
// key file base.key); it returns the copy.
func copyReplica(t *testing.T, orig, base string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), base)
	copyTreeTo(t, orig, dir)
	copyTreeTo(t, orig+".key", dir+".key")
	return dir
}

// flipBit flips one bit, chosen by rng, in the used part of the file at
// path (usedLen), and returns where.
func flipBit(t *testing.T, path string, rng *rand.Rand) (off int, bit byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	off = rng.IntN(usedLen(b))
	bit = byte(1) << rng.IntN(8)
	b[off] ^= bit
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return off, bit
}

// usedLen is the length of b without its trailing zeros (a preallocated
// file's unused end): flips land where the file holds something.
func usedLen(b []byte) int {
	n := len(bytes.TrimRight(b, "\x00"))
	return max(n, 1)
}

// fileKind groups a replica's files for the flips: Badger's tables, value
// logs, manifest, key registry and discard stats, and fieldsync's config
// and sealed device key, and the sealed blob files of dossiers.
func fileKind(rel string) string {
	base := filepath.Base(rel)
	switch {
	case strings.HasSuffix(base, ".sst"):
		return "table (.sst)"
	case strings.HasSuffix(base, ".vlog"):
		return "value log (.vlog)"
	case strings.HasSuffix(base, ".mem"):
		return "memtable log (.mem)"
	case strings.HasPrefix(rel, "blobs"+string(filepath.Separator)):
		return "sealed blob file"
	}
	return base
}

// TestBitFlipsAreDetected flips one bit at a random offset of a random file
// of a stopped laptop replica, in a fresh copy each time, for every kind of
// file in turn, then runs `fieldsync verify`. Each flip must be detected —
// the directory refuses to open, or verify fails — with the damaged file
// named; or, when verify says ok, the replica must hold exactly what it
// held (a flip in bytes nothing reads). Never "ok" with something missing.
func TestBitFlipsAreDetected(t *testing.T) {
	if testing.Short() {
		t.Skip("many copies of a replica")
	}
	orig := filepath.Join(t.TempDir(), "laptop")
	buildFlipReplica(t, orig)
	// What it holds, read from a copy: opening the replica itself would
	// replay and retire its memtable logs.
	want, err := dumpReplica(copyReplica(t, orig, "laptop"))
	if err != nil {
		t.Fatal(err)
	}
	byKind := map[string][]string{}
	for _, root := range []string{orig} {
		filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				rel, _ := filepath.Rel(orig, p)
				if fi, _ := e.Info(); fi.Size() > 0 && !strings.HasPrefix(rel, "run") {
					byKind[fileKind(rel)] = append(byKind[fileKind(rel)], rel)
				}
			}
			return nil
		})
	}
	byKind["master key file"] = []string{keyFileRel}
	kinds := slices.Sorted(maps.Keys(byKind))
	files := map[string]any{}
	for k, v := range byKind {
		files[k] = v
		if len(v) > 4 {
			files[k] = fmt.Sprintf("%d files", len(v))
		}
	}
	t.Logf("replica: %d entries, %d metadata keys; files %v", len(want.Entries), len(want.Meta), files)
	tally := map[string]map[string]int{}
	for seed := range *flipSeeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 0xf11b))
		kind := kinds[seed%len(kinds)]
		rel := byKind[kind][rng.IntN(len(byKind[kind]))]
		dir := copyReplica(t, orig, "laptop") // config.json names the key file laptop.key, beside it
		path := filepath.Join(dir, rel)
		if rel == keyFileRel {
			path = dir + ".key"
		}
		off, bit := flipBit(t, path, rng)
		code, out, errOut := fsRun(t, "verify", "--dir", dir)
		said := out + errOut
		outcome := ""
		switch {
		case code != exitOK && strings.Contains(said, filepath.Base(path)):
			outcome = "detected, file named"
		case code != exitOK:
			outcome = "detected, FILE NOT NAMED"
			t.Errorf("seed %d: flip of bit %#x at %d of %s: verify exit %d without naming the file:\n%s", seed, bit, off, rel, code, said)
		default:
			got, err := dumpReplica(dir)
			if d := want.diff(got); err != nil || d != "" {
				outcome = "OK WITH DAMAGE"
				t.Errorf("seed %d: flip of bit %#x at %d of %s: verify said ok but %v %s\n%s", seed, bit, off, rel, err, d, said)
			} else {
				outcome = "harmless (verify ok, all held)"
			}
		}
		if tally[kind] == nil {
			tally[kind] = map[string]int{}
		}
		tally[kind][outcome]++
		if testing.Verbose() {
			t.Logf("seed %d: %s byte %d bit %#x: %s: %s", seed, rel, off, bit, outcome, firstLine(said))
		}
	}
	for _, k := range kinds {
		t.Logf("%-22s %v", k, tally[k])
	}
}
