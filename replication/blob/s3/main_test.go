package s3_test

import (
	"os"
	"testing"

	"fieldsync/internal/seaweed"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(childMain())
	}
	code := m.Run()
	seaweed.StopShared()
	os.Exit(code)
}
