package oplog_test

import (
	"testing"

	"fieldsync/replication/oplog"
	"fieldsync/replication/oplog/oplogtest"
)

func TestMemConformance(t *testing.T) {
	logs := map[string]*oplog.Mem{}
	oplogtest.Run(t, oplogtest.Harness{
		Open: func(t *testing.T) oplog.Log {
			logs[t.Name()] = oplog.NewMem()
			return logs[t.Name()]
		},
		Reopen: func(t *testing.T) oplog.Log { return logs[t.Name()].Reopen() },
	})
}

func TestVerifyFindsTheFirstBreak(t *testing.T) {
	l := oplog.NewMem()
	s := oplogtest.NewSigner(40)
	if _, err := l.Ingest(oplogtest.Chain(s, 20, "v"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Ingest(oplogtest.Chain(oplogtest.NewSigner(41), 5, "w"), nil); err != nil {
		t.Fatal(err)
	}
	rep, err := oplog.Verify(l)
	if err != nil || !rep.OK() || rep.Entries != 27 || rep.Origins != 2 {
		t.Fatalf("%+v %v", rep, err)
	}
	// A bad signature deep in the chain: the scrub must name that entry.
	bad := oplogtest.Chain(oplogtest.NewSigner(42), 6, "x")
	bad[4].Sig[10] ^= 0xff
	l2 := oplog.NewMem()
	if _, err := l2.Ingest(bad, nil); err != nil {
		t.Fatal(err)
	}
	rep, _ = oplog.Verify(l2)
	if rep.OK() || rep.BreakAt == nil || rep.BreakAt.Seq != 5 {
		t.Fatalf("break not found at seq 5: %+v", rep)
	}
}
