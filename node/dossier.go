package node

import (
	"fmt"
	"sync"

	"fieldsync/enrollment"
	"fieldsync/replication"
	"fieldsync/replication/blob"
)

// File is what a capture gives for one biometric slot: a file's bytes, or
// an exception code, or why the file could not be read.
type File = enrollment.DossierFile

// Dossier is a capture with its biometric files: the record and, per slot,
// a file or an exception code (the record may also list exceptions in its
// Biometrics; it may not list hashes: references are computed here).
type Dossier struct {
	Record enrollment.Enrollment
	Files  []File
}

// MaxGroupBlobBytes bounds the blob bytes one group commit of an import
// holds in memory and writes before its records: about 48 dossiers.
const MaxGroupBlobBytes = 48 << 20

// SaveDossier checks and saves one dossier — the capture app's call. Each
// file is checked against its slot (format from its bytes, size and
// dimension limits, container whole), its reference computed from its
// bytes, every blob written to the sealed store and synced, and only then
// the record appended and synced: when SaveDossier returns a Receipt the
// dossier survives a crash with all its blobs. A bad file or record
// returns *RejectedError, its findings naming the slot and the file, and
// writes nothing; the freeze rule returns *FrozenError.
func (n *Node) SaveDossier(d *Dossier) (Receipt, error) {
	results, err := n.SaveDossiers([]Dossier{*d})
	if err != nil {
		return Receipt{}, err
	}
	if results[0].Err != nil {
		return Receipt{}, results[0].Err
	}
	return results[0].Receipt, nil
}

// SaveDossiers checks every dossier, then saves the accepted ones: their
// blobs first (synced), then their records in one durable transaction.
// Rejected dossiers get their reasons and are not written; they never stop
// the others. At most MaxGroupRecords dossiers.
func (n *Node) SaveDossiers(ds []Dossier) ([]Result, error) {
	if len(ds) > MaxGroupRecords {
		return nil, fmt.Errorf("%w: %d records in one batch, limit %d", replication.ErrTooLarge, len(ds), MaxGroupRecords)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	results := make([]Result, len(ds))
	var drafts []replication.Draft
	var slots []int // results index of each draft
	for i := range ds {
		d, findings, err := n.draftDossier(&ds[i])
		results[i].Receipt.Findings = findings
		if err != nil {
			results[i].Err = err
			continue
		}
		drafts = append(drafts, d)
		slots = append(slots, i)
	}
	ok, warning, frozen, err := n.admit(len(drafts))
	if err != nil {
		return nil, err
	}
	for _, i := range slots[ok:] {
		results[i].Err = frozen
	}
	if ok == 0 {
		return results, nil
	}
	if err := n.putBlobs(ds, slots[:ok]); err != nil {
		return nil, fmt.Errorf("node: save biometrics: %w", err)
	}
	entries, err := n.dir.Log.Append(n.dir.Signer, drafts[:ok])
	if err != nil {
		return nil, fmt.Errorf("node: save: %w", err)
	}
	n.notify(entries)
	for j, e := range entries {
		results[slots[j]].Receipt.ID = e.ID()
		results[slots[j]].Receipt.Hash = e.Hash()
		results[slots[j]].Receipt.BacklogWarning = warning
	}
	return results, nil
}

// draftDossier builds a dossier's references from its files, then
// validates and drafts its record.
func (n *Node) draftDossier(d *Dossier) (replication.Draft, enrollment.Findings, error) {
	refs, ffs := enrollment.BuildBiometrics(&d.Record, d.Files)
	if ffs.Rejected() {
		return replication.Draft{}, ffs, &RejectedError{Findings: ffs}
	}
	rec := d.Record // the caller's record keeps what it gave
	rec.Biometrics = refs
	draft, findings, err := n.draftEnroll(&rec)
	return draft, append(ffs, findings...), err
}

// blobWriters bounds the blobs of a group written at once: their fsyncs
// share the file system's journal commits (BENCHMARKS.md, blob store).
const blobWriters = 4

// putBlobs writes the files of the dossiers at idx to the blob store,
// each verified and synced. A blob already held is not written again.
func (n *Node) putBlobs(ds []Dossier, idx []int) error {
	if n.dir.Blobs == nil {
		return nil
	}
	var datas [][]byte
	for _, i := range idx {
		for _, f := range ds[i].Files {
			if len(f.Data) > 0 {
				datas = append(datas, f.Data)
			}
		}
	}
	if len(datas) == 0 {
		return nil
	}
	work := make(chan []byte)
	errs := make(chan error, blobWriters)
	var wg sync.WaitGroup
	for range min(blobWriters, len(datas)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var first error
			for b := range work {
				if first == nil {
					_, first = blob.PutBytes(n.dir.Blobs, b)
				}
			}
			errs <- first
		}()
	}
	for _, b := range datas {
		work <- b
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
