package syncproto_test

import (
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/oplog"
)

func oplogVerify(r *replica) (bool, error) {
	rep, err := oplog.Verify(r.log)
	return rep.OK(), err
}

// newMemFrom copies a replica's log into a fresh in-memory log.
func newMemFrom(t *testing.T, r *replica) *oplog.Mem {
	t.Helper()
	m := oplog.NewMem()
	v, _ := r.log.Vector()
	for _, o := range v.Origins() {
		var es []replication.Entry
		_ = r.log.Scan(o, 1, func(e replication.Entry) bool { es = append(es, e); return true })
		for len(es) > 0 {
			n := min(len(es), oplog.MaxIngestEntries)
			if _, err := m.Ingest(es[:n], nil); err != nil {
				t.Fatal(err)
			}
			es = es[n:]
		}
	}
	return m
}
