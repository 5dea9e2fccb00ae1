package reconcile

// SetAmendWalk lowers the amend walk's limit for a test; the returned
// func restores it.
func SetAmendWalk(n int) (restore func()) {
	old := amendWalk
	amendWalk = n
	return func() { amendWalk = old }
}
