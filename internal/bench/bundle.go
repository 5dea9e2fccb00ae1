package bench

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"fieldsync/dossier"
	"fieldsync/enrollment/synth"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/blob/needs"
	"fieldsync/replication/bundle"
	"fieldsync/replication/datadir"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

// BundleResult is `fieldsync bench bundle`: a laptop's dossiers exported
// to a bundle file and imported at a hub, against a plain copy (cp) of the
// bundle's bytes, in the same run on the same disk.
type BundleResult struct {
	Dossiers  int     `json:"dossiers"`
	Entries   int     `json:"entries"`
	Blobs     int     `json:"blobs"`
	BlobMB    float64 `json:"blob_mb"`
	BundleMB  float64 `json:"bundle_mb"`
	Parts     int     `json:"parts"`
	ExportS   float64 `json:"export_s"`
	ImportS   float64 `json:"import_s"`
	CopyS     float64 `json:"copy_s"`
	ExportMBs float64 `json:"export_mb_s"`
	ImportMBs float64 `json:"import_mb_s"`
	CopyMBs   float64 `json:"copy_mb_s"`
	// ExportVsCopy and ImportVsCopy are the rates over cp's (1 = as fast
	// as copying the file).
	ExportVsCopy float64 `json:"export_vs_copy"`
	ImportVsCopy float64 `json:"import_vs_copy"`
}

// Bundle measures export and import of n dossiers with their files
// (DOMAIN.md §6.4 sizes: about 1 MB each), in parts of partBytes (0: one).
func Bundle(dir string, n int, partBytes int64) (*BundleResult, error) {
	open := func(name string, role replication.Role, tier string) (*datadir.Dir, error) {
		return datadir.Init(filepath.Join(dir, name), datadir.InitOptions{Config: datadir.Config{Role: role, Tier: tier, Unit: "18586", Name: name, Open: true}})
	}
	lap, err := open("laptop", replication.RoleNode, "")
	if err != nil {
		return nil, err
	}
	defer lap.Close()
	hub, err := open("hub", replication.RoleHub, "district")
	if err != nil {
		return nil, err
	}
	defer hub.Close()
	if _, err := bundle.PublishKey(hub.Log, hub.Signer, time.Now()); err != nil {
		return nil, err
	}
	var hubEntries []replication.Entry
	if err := hub.Log.Scan(hub.Signer.Origin(), 1, func(e replication.Entry) bool { hubEntries = append(hubEntries, e); return true }); err != nil {
		return nil, err
	}
	if _, err := lap.Log.Ingest(hubEntries, nil); err != nil {
		return nil, err
	}
	if err := captureDossiers(lap, n); err != nil {
		return nil, err
	}
	hello := func(d *datadir.Dir) wire.Hello {
		c := d.Config
		return wire.Hello{Version: syncproto.ProtocolVersion, Origin: d.Signer.Origin(), Role: string(c.Role), Tier: c.Tier, Unit: c.Unit, Node: c.Name}
	}
	keys, err := bundle.HubKeys(lap.Log)
	if err != nil || len(keys) != 1 {
		return nil, fmt.Errorf("bench: hub keys %d: %v", len(keys), err)
	}
	lapKey, err := bundle.KeyOf(lap.Signer.PrivateKey())
	if err != nil {
		return nil, err
	}
	stick := filepath.Join(dir, "stick")
	if err := os.MkdirAll(stick, 0o700); err != nil {
		return nil, err
	}
	var paths []string
	ex := &bundle.Exporter{Log: lap.Log, Blobs: lap.Blobs, Refs: dossier.RefsOf, Proto: syncproto.Config{Self: hello(lap)},
		Signer: lap.Signer.PrivateKey(), ReplyKey: lapKey.PublicKey().Bytes(), Hub: hello(hub),
		To: []bundle.RecipientKey{{Device: keys[0].Device, Key: keys[0].Key}}, PartBytes: partBytes, Now: time.Now(),
		Create: func(i int) (io.WriteCloser, error) {
			p := filepath.Join(stick, fmt.Sprintf("b.fsb.%d", i))
			paths = append(paths, p)
			return os.Create(p)
		}}
	start := time.Now()
	out, err := ex.Run()
	if err != nil {
		return nil, err
	}
	res := &BundleResult{Dossiers: n, Entries: out.Entries, Blobs: out.Blobs, BlobMB: float64(out.BlobBytes) / 1e6, Parts: len(out.Parts), ExportS: time.Since(start).Seconds()}
	var total int64
	for _, p := range out.Parts {
		total += p.Bytes
	}
	res.BundleMB = float64(total) / 1e6
	// The baseline: cp of the same files, synced, as the export syncs.
	copyDir := filepath.Join(dir, "copy")
	if err := os.MkdirAll(copyDir, 0o700); err != nil {
		return nil, err
	}
	start = time.Now()
	args := append(append([]string{}, paths...), copyDir)
	if out, err := exec.Command("cp", args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("bench: cp: %v: %s", err, out)
	}
	if out, err := exec.Command("sync", "-f", copyDir).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("bench: sync: %v: %s", err, out)
	}
	res.CopyS = time.Since(start).Seconds()
	ix, err := needs.Open(hub.Log, hub.Blobs, dossier.RefsOf)
	if err != nil {
		return nil, err
	}
	hubKey, err := bundle.KeyOf(hub.Signer.PrivateKey())
	if err != nil {
		return nil, err
	}
	im := &bundle.Importer{Log: hub.Log, Blobs: hub.Blobs, Refs: dossier.RefsOf, Needs: ix, Proto: syncproto.Config{Self: hello(hub)},
		Device: hub.Signer.PublicKey(), Key: hubKey, OnHeld: func(ids []replication.EntryID) { ix.Recheck(ids...) }}
	start = time.Now()
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		r, err := im.ImportPart(f)
		f.Close()
		if err != nil {
			return nil, err
		}
		if r.Err != nil || r.Refused > 0 || r.BlobsRefused > 0 {
			return nil, fmt.Errorf("bench: import %s: %v, %d entries and %d blobs refused", p, r.Err, r.Refused, r.BlobsRefused)
		}
	}
	res.ImportS = time.Since(start).Seconds()
	res.ExportMBs, res.ImportMBs, res.CopyMBs = res.BundleMB/res.ExportS, res.BundleMB/res.ImportS, res.BundleMB/res.CopyS
	res.ExportVsCopy, res.ImportVsCopy = res.ExportMBs/res.CopyMBs, res.ImportMBs/res.CopyMBs
	return res, nil
}

// captureDossiers saves n generated dossiers with their files on d.
func captureDossiers(d *datadir.Dir, n int) error {
	nd, err := node.New(d, node.Options{})
	if err != nil {
		return err
	}
	g, err := synth.New(synth.Config{Count: n, Seed: 15, Commune: "18586"})
	if err != nil {
		return err
	}
	var batch []node.Dossier
	flush := func() error {
		res, err := nd.SaveDossiers(batch)
		if err != nil {
			return err
		}
		for _, r := range res {
			if r.Err != nil {
				return r.Err
			}
		}
		batch = batch[:0]
		return nil
	}
	for rec, ok := g.Next(); ok; rec, ok = g.Next() {
		batch = append(batch, node.Dossier{Record: rec.Enrollment, Files: rec.Files()})
		if len(batch) == 40 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(batch) > 0 {
		return flush()
	}
	return nil
}
