// Package processtest runs the real fieldsync binary as separate
// processes for the longest end-to-end tests — a laptop's bundle carried
// on a stick through a district to the province and the answer back, a
// hub on a real SeaweedFS killed mid-upload — in a test binary of their
// own, so each package's tests stay within go test's 10-minute limit.
// TestMain builds ./cmd/fieldsync once.
package processtest
