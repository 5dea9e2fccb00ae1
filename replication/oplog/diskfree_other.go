//go:build !unix

package oplog

// diskFree is unknown on this platform: the floor is not checked.
func diskFree(string) (int64, error) { return -1, nil }
