// Package seaweed builds and runs a real SeaweedFS server (Apache-2.0) for
// the object-store tests, the benchmarks and the demo: master, volume
// server, filer and S3 gateway in one process (`weed server -s3`), bound to
// 127.0.0.1 on free ports, with signed requests required.
//
// SeaweedFS is not vendored or committed. Build fetches its module at
// Version from the Go module proxy (`go mod download`), copies it to a
// writable directory (`go install` refuses the module: its go.mod has
// replace directives) and runs `go build ./weed` there, once: the binary is
// cached under the user's cache directory, keyed by the SeaweedFS version
// and the Go version, so later runs start in seconds.
//
//	go run ./internal/seaweed/build    # build (or find) the binary; prints its path
//
// Tests call Start: it finds the cached binary, and when there is none it
// skips the test, saying how to build it — unless FIELDSYNC_SEAWEEDFS is
// "require" (CI sets it after building), where a missing binary fails the
// test, or "build", where the test builds it first (several minutes).
package seaweed
