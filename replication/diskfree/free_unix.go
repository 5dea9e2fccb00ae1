//go:build unix

package diskfree

import "syscall"

// Bytes returns the bytes an unprivileged process may still write on the
// file system holding dir, or -1 and an error if it cannot tell.
func Bytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return -1, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
