package oplog_test

import (
	"errors"
	"strings"
	"testing"

	"fieldsync/replication/oplog"
)

func TestBadgerSecondOpenIsLocked(t *testing.T) {
	dir := t.TempDir()
	l, err := oplog.Open(oplog.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = oplog.Open(oplog.Options{Dir: dir})
	if !errors.Is(err, oplog.ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
	if !strings.Contains(err.Error(), "fieldsync run") {
		t.Fatalf("the message should tell the operator what to do: %v", err)
	}
}
