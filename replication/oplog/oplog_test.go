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

func TestBadgerConformance(t *testing.T) {
	dirs := map[string]string{}
	open := func(t *testing.T, dir string) oplog.Log {
		l, err := oplog.Open(oplog.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	oplogtest.Run(t, oplogtest.Harness{
		Open: func(t *testing.T) oplog.Log {
			dirs[t.Name()] = t.TempDir()
			return open(t, dirs[t.Name()])
		},
		Reopen: func(t *testing.T) oplog.Log { return open(t, dirs[t.Name()]) },
	})
}
