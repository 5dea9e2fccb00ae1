package bench

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"fieldsync/dossier"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/replicator"
	"fieldsync/replication/syncnet"
)

// ForwardConfig configures `fieldsync bench forward`: a district hub
// forwarding a station-day of dossiers to the province over loopback.
type ForwardConfig struct {
	Dossiers int
	Seed     uint64
	// DossierBytes scales each dossier's files (0: the generator's sizes).
	DossierBytes int64
	// Streaming starts the province while the district is still taking
	// the laptop's dossiers (the district forwards records before their
	// blobs); otherwise the district holds everything first.
	Streaming bool
	// Timeout stops a run that has not finished.
	Timeout time.Duration
}

// ForwardResult is one forward run's figures (real time).
type ForwardResult struct {
	Mode      string  `json:"mode"`
	Dossiers  int     `json:"dossiers"`
	Blobs     int     `json:"blobs"`
	BlobBytes int64   `json:"blob_bytes"`
	Seconds   float64 `json:"seconds"` // until the province holds every dossier complete
	MBPerSec  float64 `json:"mb_per_sec"`
	BlobsPerS float64 `json:"blobs_per_sec"`
	Complete  bool    `json:"complete"`
}

// Forward runs a laptop, a district and a province over loopback with the
// real runtime (sealed blob stores, Badger, TLS-less sessions) and times
// the province's completion of a station-day the district forwards.
func Forward(dir string, cfg ForwardConfig) (ForwardResult, error) {
	res := ForwardResult{Mode: "held", Dossiers: cfg.Dossiers}
	if cfg.Streaming {
		res.Mode = "streaming"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Minute
	}
	ds, err := makeDossiers(cfg.Dossiers, cfg.Seed, cfg.DossierBytes)
	if err != nil {
		return res, err
	}
	for i := range ds {
		res.Blobs += ds[i].blobs()
		res.BlobBytes += ds[i].bytes()
	}
	lap, _, err := laptopWithDossiers(filepath.Join(dir, "laptop"), ds)
	if err != nil {
		return res, err
	}
	defer lap.Close()
	o := lap.Signer.Origin()
	want, err := lap.Log.Head(o)
	if err != nil {
		return res, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sess := syncnet.Options{IdleTimeout: 5 * time.Second}
	startHub := func(name, tier, unit string, static ...string) (*datadir.Dir, *replicator.Replicator, string, error) {
		d, err := datadir.Init(filepath.Join(dir, name), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleHub, Tier: tier, Unit: unit, Name: name}})
		if err != nil {
			return nil, nil, "", err
		}
		rep, addr, _, err := runHub(ctx, d, sess, static)
		if err != nil {
			d.Close()
			return nil, nil, "", err
		}
		return d, rep, addr, nil
	}
	var (
		prov    *datadir.Dir
		provRep *replicator.Replicator
		provAt  string
	)
	if cfg.Streaming {
		if prov, provRep, provAt, err = startHub("province", "province", "42"); err != nil {
			return res, err
		}
		defer prov.Close()
	}
	var static []string
	if provAt != "" {
		static = []string{provAt}
	}
	dist, err := datadir.Init(filepath.Join(dir, "district"), datadir.InitOptions{Config: datadir.Config{Role: replication.RoleHub, Tier: "district", Unit: "445", Name: "district"}})
	if err != nil {
		return res, err
	}
	defer dist.Close()
	distCtx, stopDist := context.WithCancel(ctx)
	defer stopDist()
	distRep, distAt, distDone, err := runHub(distCtx, dist, sess, static)
	if err != nil {
		return res, err
	}
	lapRep, err := replicator.New(replicator.Config{Dir: lap, Static: []string{distAt}, Session: sess, Blobs: &replicator.BlobConfig{Refs: dossier.RefsOf}})
	if err != nil {
		return res, err
	}
	start := time.Now()
	go lapRep.Run(ctx)
	complete := func(r *replicator.Replicator) (bool, error) { return dossiersComplete(r, o, want.Seq) }
	if !cfg.Streaming {
		for {
			done, err := complete(distRep)
			if err != nil {
				return res, err
			}
			if done {
				break
			}
			if time.Since(start) > cfg.Timeout {
				return res, fmt.Errorf("bench: the district did not complete the laptop's dossiers in %s", cfg.Timeout)
			}
			time.Sleep(5 * time.Millisecond)
		}
		// The province comes up now; the district's replicator restarts
		// with it as its static target.
		stopDist()
		<-distDone
		if prov, provRep, provAt, err = startHub("province", "province", "42"); err != nil {
			return res, err
		}
		defer prov.Close()
		start = time.Now()
		if _, _, _, err := runHub(ctx, dist, sess, []string{provAt}); err != nil {
			return res, err
		}
	}
	for {
		done, err := complete(provRep)
		if err != nil {
			return res, err
		}
		if done {
			res.Complete = true
			break
		}
		if time.Since(start) > cfg.Timeout {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	res.Seconds = time.Since(start).Seconds()
	res.MBPerSec = float64(res.BlobBytes) / 1e6 / res.Seconds
	res.BlobsPerS = float64(res.Blobs) / res.Seconds
	return res, nil
}

// runHub runs a hub's replicator on a loopback listener until ctx ends.
func runHub(ctx context.Context, d *datadir.Dir, sess syncnet.Options, static []string) (*replicator.Replicator, string, <-chan struct{}, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	rep, err := replicator.New(replicator.Config{Dir: d, Listener: ln, Static: static, Session: sess, Blobs: &replicator.BlobConfig{Refs: dossier.RefsOf}})
	if err != nil {
		ln.Close()
		return nil, "", nil, err
	}
	done := make(chan struct{})
	go func() { rep.Run(ctx); close(done) }()
	return rep, ln.Addr().String(), done, nil
}
