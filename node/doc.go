// Package node is the field-node shell: what runs on a commune laptop. It
// turns captures into durable, signed log entries:
//
//	d, _ := datadir.Open(dir, datadir.OpenOptions{})
//	n, _ := node.New(d, node.Options{})
//	r, err := n.Enroll(&record)      // validated, HLC-stamped, synced to disk
//	// r.ID ("origin:seq"), r.Hash, r.Findings (warnings); or *RejectedError
//	st, err := n.Import(file, node.ImportOptions{Report: rejected})
//
// A record is validated first (package enrollment); a rejected one is not
// written, and its reasons name the field. Accepted records are appended in
// one transaction per group (at most MaxGroupRecords or MaxGroupBytes),
// synced before the caller is told "saved", and only then offered to peers.
// Amend and Void write corrections that name the entry they correct;
// nothing is ever updated in place.
package node
