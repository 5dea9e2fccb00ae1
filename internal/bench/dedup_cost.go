package bench

import (
	"fmt"
	"runtime"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
	"fieldsync/hub/dedup"
)

// DedupCost is the cost of the duplicate detector at a province's scale:
// records streamed from synth into an Index, then the learning step.
type DedupCost struct {
	Records  int `json:"records"`
	Citizens int `json:"citizens"`
	// PutNsPerRecord is the mean time of a Put (keys derived beforehand);
	// PairsSeconds one Pairs() call; TrainSeconds the learning step;
	// SetModelSeconds re-deciding every candidate pair with its result.
	PutNsPerRecord  float64 `json:"put_ns_per_record"`
	PairsSeconds    float64 `json:"pairs_seconds"`
	TrainSeconds    float64 `json:"train_seconds"`
	SetModelSeconds float64 `json:"set_model_seconds"`
	// HeapPerCitizen is the live heap the Index adds, per citizen, after
	// a garbage collection; IndexBytes the Index's own estimate.
	HeapPerCitizen  float64          `json:"heap_bytes_per_citizen"`
	IndexBytes      int64            `json:"index_bytes"`
	Pairs           int              `json:"pairs"`
	Model           *dedup.TrainInfo `json:"model"`
	GenerateSeconds float64          `json:"generate_seconds"`
	Stats           dedup.Stats      `json:"stats"`
	// What a hub's persisted view adds: a profile encoded per record
	// (EncodeProfile, on decode workers) and stored, and, at a restart or
	// before learning, an Index rebuilt from the stored profiles and pairs
	// (Load) instead of every citizen put again.
	EncodeNsPerRecord  float64 `json:"encode_ns_per_record"`
	ProfileBytes       float64 `json:"profile_bytes_mean"`
	LoadSeconds        float64 `json:"load_seconds"`
	LoadHeapPerCitizen float64 `json:"load_heap_bytes_per_citizen"`
}

// DedupCostRun streams n synth records (noise as given) into an Index,
// one Put per citizen as a hub's view does (a record whose ID number is
// already held replaces that citizen's record), and measures.
func DedupCostRun(n int, noise float64, seed uint64) (DedupCost, error) {
	res := DedupCost{Records: n}
	g, err := synth.New(synth.Config{Count: n, Seed: seed, Noise: noise})
	if err != nil {
		return res, err
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	ix := dedup.NewIndex(dedup.DefaultConfig())
	var putTime, genTime time.Duration
	t := time.Now()
	for {
		rec, ok := g.Next()
		if !ok {
			break
		}
		e := rec.Enrollment
		keys := enrollment.Keys(&e)
		key := keys.PersonalID
		if key == "" {
			key = fmt.Sprintf("prov:%09d", rec.Line)
		}
		t1 := time.Now()
		genTime += t1.Sub(t)
		ix.Put(dedup.Record{Key: key, Enrollment: &e, Keys: keys, Region: e.Capture.CommuneCode})
		t = time.Now()
		putTime += t.Sub(t1)
	}
	if err := g.Err(); err != nil {
		return res, err
	}
	res.Citizens = ix.Len()
	res.GenerateSeconds = genTime.Seconds()
	res.PutNsPerRecord = float64(putTime.Nanoseconds()) / float64(max(1, n))
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	res.HeapPerCitizen = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(max(1, res.Citizens))
	t0 := time.Now()
	res.Pairs = len(ix.Pairs())
	res.PairsSeconds = time.Since(t0).Seconds()
	t1 := time.Now()
	m, err := ix.Train(dedup.TrainConfig{})
	if err != nil {
		return res, err
	}
	res.TrainSeconds = time.Since(t1).Seconds()
	res.Model = m.Trained
	t2 := time.Now()
	ix.SetModel(m)
	res.SetModelSeconds = time.Since(t2).Seconds()
	res.Stats = ix.Stats()
	res.IndexBytes = res.Stats.Bytes
	stored := ix.Pairs()
	ix = nil
	if err := dedupLoadCost(&res, n, noise, seed, stored); err != nil {
		return res, err
	}
	return res, nil
}

// dedupLoadCost generates the same records again, encodes each one's
// profile as a view stores it (the last version of each key kept), and
// rebuilds an Index from those profiles and the pairs with Load.
func dedupLoadCost(res *DedupCost, n int, noise float64, seed uint64, pairs []dedup.Pair) error {
	g, err := synth.New(synth.Config{Count: n, Seed: seed, Noise: noise})
	if err != nil {
		return err
	}
	var keys []string
	var profs []dedup.Stored
	at := map[string]int{}
	var enc time.Duration
	var size int
	for {
		rec, ok := g.Next()
		if !ok {
			break
		}
		e := rec.Enrollment
		r := dedup.Record{Enrollment: &e, Keys: enrollment.Keys(&e), Region: e.Capture.CommuneCode}
		r.Key = r.Keys.PersonalID
		if r.Key == "" {
			r.Key = fmt.Sprintf("prov:%09d", rec.Line)
		}
		t := time.Now()
		p := dedup.EncodeProfile(&r)
		enc += time.Since(t)
		size += len(p)
		st := dedup.Stored{Profile: p, Region: r.Region}
		if i, ok := at[r.Key]; ok {
			profs[i] = st
			continue
		}
		at[r.Key] = len(keys)
		keys, profs = append(keys, r.Key), append(profs, st)
	}
	if err := g.Err(); err != nil {
		return err
	}
	at = nil
	res.EncodeNsPerRecord = float64(enc.Nanoseconds()) / float64(max(1, n))
	res.ProfileBytes = float64(size) / float64(max(1, n))
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	ix := dedup.NewIndex(dedup.DefaultConfig())
	t := time.Now()
	err = ix.Load(func(yield func(string, dedup.Stored) bool) {
		for i, k := range keys {
			if !yield(k, profs[i]) {
				return
			}
		}
	}, func(yield func(dedup.StoredPair) bool) {
		for _, p := range pairs {
			if !yield(dedup.StoredPair{A: p.A, B: p.B, Extra: p.Extra}) {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	res.LoadSeconds = time.Since(t).Seconds()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	res.LoadHeapPerCitizen = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(max(1, ix.Len()))
	runtime.KeepAlive(ix)
	runtime.KeepAlive(profs)
	return nil
}
