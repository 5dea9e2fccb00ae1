// Package node is the field-node shell: what runs on a commune laptop. It
// turns captures into durable, signed log entries:
//
//	d, _ := datadir.Open(dir, datadir.OpenOptions{})
//	n, _ := node.New(d, node.Options{})
//	r, err := n.Enroll(&record)      // validated, HLC-stamped, synced to disk
//	r, err = n.SaveDossier(&node.Dossier{Record: rec, Files: files})
//	// each file checked and sealed in DIR/blobs, synced, then the record
//	// r.ID ("origin:seq"), r.Hash, r.Findings (warnings); or *RejectedError
//	st, err := n.Import(file, node.ImportOptions{Report: rejected})
//
// A record is validated first (package enrollment); a rejected one is not
// written, and its reasons name the field. Accepted records are appended in
// one transaction per group (at most MaxGroupRecords or MaxGroupBytes),
// synced before the caller is told "saved", and only then offered to peers.
// Amend and Void write corrections that name the entry they correct;
// nothing is ever updated in place.
//
// A dossier's biometric files (dossier.go) are checked per slot by
// enrollment.BuildBiometrics — type from the bytes, limits, the container
// whole, an exception code for an empty slot — and their references
// computed from their bytes; the blobs are written to the sealed store
// (replication/blob/sealed) and synced before the record is appended, so a
// receipt means the dossier is on disk whole. Imports read three layouts
// (dossier_input.go, docs/import-format.md): CSV with SLOT_file columns,
// JSON lines with "files", and a folder per person.
package node
