package linkemu

import "time"

// watcher is the goroutine that breaks a link's connections when its
// schedule goes down. It runs only while connections exist.
type watcher struct {
	wake chan struct{} // cap 1: the profile or Cut/Heal changed
	stop chan struct{} // closed when the last connection ends
	done chan struct{} // closed when the goroutine has returned
}

// register adds s to the link's connections, starting the watcher if s is
// the first. It reports false, and adds nothing, if the link is down.
func (l *Link) register(s *session) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if up, _ := l.stateLocked(l.clock.Now()); !up {
		l.mu.stats.DialsRefused++
		return false
	}
	l.mu.stats.Conns++
	l.mu.sessions[s] = struct{}{}
	if l.mu.watcher == nil {
		w := &watcher{wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
		l.mu.watcher = w
		go l.watch(w)
	}
	return true
}

// unregister removes s; when it was the last, it stops the watcher and
// waits for it to return.
func (l *Link) unregister(s *session) {
	l.mu.Lock()
	delete(l.mu.sessions, s)
	var w *watcher
	if len(l.mu.sessions) == 0 && l.mu.watcher != nil {
		w = l.mu.watcher
		l.mu.watcher = nil
	}
	l.mu.Unlock()
	if w != nil {
		close(w.stop)
		<-w.done
	}
}

// reconsider makes the watcher re-read the link's state.
func (l *Link) reconsider() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := l.mu.watcher; w != nil {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// watch breaks all connections whenever the link is down, and sleeps until
// the schedule's next change or a wake-up.
func (l *Link) watch(w *watcher) {
	defer close(w.done)
	for {
		now := l.clock.Now()
		up, next := l.state(now)
		if !up {
			l.breakAll()
		}
		var fire <-chan time.Time
		stop := func() bool { return false }
		if !next.IsZero() {
			fire, stop = l.clock.NewTimer(next.Sub(now))
		}
		select {
		case <-w.stop:
			stop()
			return
		case <-w.wake:
		case <-fire:
		}
		stop()
	}
}

// breakAll resets every connection through the link.
func (l *Link) breakAll() {
	l.mu.Lock()
	victims := make([]*session, 0, len(l.mu.sessions))
	for s := range l.mu.sessions {
		victims = append(victims, s)
	}
	l.mu.Unlock()
	for _, s := range victims {
		s.abort(ErrLinkDown)
	}
}

// noteBroken counts s as broken by a cut, if it got through the link.
func (l *Link) noteBroken(s *session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.mu.sessions[s]; ok {
		l.mu.stats.ConnsBroken++
	}
}
