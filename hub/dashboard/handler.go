package dashboard

import (
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"fieldsync/enrollment"
	"fieldsync/hub/reconcile"
	"fieldsync/hub/review"
	"fieldsync/runtime/localapi"
)

// Limits of what the dashboard accepts and sends.
const (
	// MaxResolveBytes bounds the body of POST /dash/resolve.
	MaxResolveBytes = 16 << 10
	// MaxQueueItems bounds the conflicts or duplicates one answer carries
	// (the answer says how many there are in all).
	MaxQueueItems = 200
	// MaxResidentsItems bounds the people one /dash/residents answer lists.
	MaxResidentsItems = 5000
	// MaxEventClients bounds the open live-update streams; more get 503.
	MaxEventClients = 64
	// maxOfficer and maxNote bound a decision's free text (in runes).
	maxOfficer = 100
	maxNote    = 1000
)

// Timings of the live updates (variables so that tests can shorten them;
// Handler reads them once, so a handler keeps the timings it was built
// with and no goroutine of it reads these variables).
var (
	// heartbeatEvery is how often an idle event stream sends a comment,
	// so that proxies and the page notice a dead connection.
	heartbeatEvery = 15 * time.Second
	// coalesceEvery is the least time between two change events: a hub
	// ingesting a backlog changes many times a second, and each event
	// makes every open page refetch.
	coalesceEvery = time.Second
	// streamLife bounds one event stream: the page reconnects (and
	// refetches), and a stream left open by a hub shutting down ends.
	streamLife = 10 * time.Minute
)

//go:embed assets
var assets embed.FS

// Handler serves the dashboard of src: the page and its assets to anyone,
// the data (under /dash/) only to requests auth admits: a browser session
// opened by a one-time login link (`fieldsync login`), checked to come
// from the hub's own pages, or the API's bearer token (package localapi).
func Handler(src Source, auth *localapi.Auth) http.Handler {
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is part of the binary
	}
	s := &server{src: src, events: newBroadcaster(src), heartbeat: heartbeatEvery, life: streamLife}
	mux := http.NewServeMux()
	files := http.FileServerFS(static)
	mux.Handle("GET /{$}", files)
	mux.Handle("GET /assets/", http.StripPrefix("/assets", files))
	data := func(h http.HandlerFunc) http.Handler { return auth.Require(h) }
	mux.Handle("GET /dash/snapshot", data(s.snapshot))
	mux.Handle("GET /dash/conflicts", data(s.conflicts))
	mux.Handle("GET /dash/duplicates", data(s.duplicates))
	mux.Handle("POST /dash/resolve", data(s.resolve))
	mux.Handle("GET /dash/events", data(s.stream))
	mux.Handle("GET /dash/portrait", data(s.portrait))
	mux.Handle("GET /dash/residents", data(s.residents))
	return securityHeaders(mux)
}

type server struct {
	src             Source
	events          *broadcaster
	heartbeat, life time.Duration // heartbeatEvery, streamLife
}

// securityHeaders forbids every origin but the hub's own (no CDN, no
// framing) and keeps the login token out of referrers.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		if strings.HasPrefix(r.URL.Path, "/dash/") {
			hd.Set("Cache-Control", "no-store")
		}
		h.ServeHTTP(w, r)
	})
}

func writeError(w http.ResponseWriter, status int, msg string) {
	localapi.WriteJSON(w, status, map[string]string{"error": msg})
}

func (s *server) snapshot(w http.ResponseWriter, r *http.Request) {
	snap, err := s.src.Snapshot()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	localapi.WriteJSON(w, http.StatusOK, newOverview(snap))
}

// queueAnswer is a review queue, cut at ?limit= (at most MaxQueueItems).
type queueAnswer[T any] struct {
	Items []T  `json:"items"`
	Total int  `json:"total"`
	All   bool `json:"all"`
}

// answer cuts items to the request's limit: ?limit=0 asks for the count
// only (the page's tab badges).
func answer[T any](r *http.Request, items []T, all bool) queueAnswer[T] {
	limit := MaxQueueItems
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n >= 0 && n < limit {
		limit = n
	}
	a := queueAnswer[T]{Items: items, Total: len(items), All: all}
	if len(a.Items) > limit {
		a.Items = a.Items[:limit]
	}
	if a.Items == nil {
		a.Items = []T{}
	}
	return a
}

func allOf(r *http.Request) bool {
	v := r.URL.Query().Get("all")
	return v == "1" || v == "true"
}

func (s *server) conflicts(w http.ResponseWriter, r *http.Request) {
	all := allOf(r)
	items, err := s.src.Conflicts(all)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	localapi.WriteJSON(w, http.StatusOK, answer[*reconcile.Citizen](r, items, all))
}

// residents answers a commune's people of a category: the list of
// missing people a commune team visits.
func (s *server) residents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cat := q.Get("category")
	switch cat {
	case "", "all", "missing", "accounted", "enrolled", "not-eligible":
	default:
		writeError(w, http.StatusBadRequest, "category: missing, accounted, enrolled, not-eligible or all")
		return
	}
	limit := MaxResidentsItems
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 && n < limit {
		limit = n
	}
	page, err := s.src.Residents(q.Get("commune"), cat, limit)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if page.People == nil {
		page.People = []ResidentRow{}
	}
	localapi.WriteJSON(w, http.StatusOK, page)
}

func (s *server) duplicates(w http.ResponseWriter, r *http.Request) {
	all := allOf(r)
	items, err := s.src.Duplicates(all)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	localapi.WriteJSON(w, http.StatusOK, answer(r, items, all))
}

// resolve passes an officer's decision to the hub. It takes JSON only;
// auth has already refused a session request from any other origin.
func (s *server) resolve(w http.ResponseWriter, r *http.Request) {
	if !localapi.RequireType(w, r, localapi.TypeJSON) {
		return
	}
	var req review.Request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxResolveBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "resolve: "+err.Error())
		return
	}
	req.Officer, req.Note = strings.TrimSpace(req.Officer), strings.TrimSpace(req.Note)
	switch {
	case req.ID == "":
		writeError(w, http.StatusBadRequest, "resolve: name the conflict or pair (id)")
		return
	case req.Officer == "":
		writeError(w, http.StatusBadRequest, "resolve: name the officer deciding")
		return
	case len([]rune(req.Officer)) > maxOfficer || len([]rune(req.Note)) > maxNote:
		writeError(w, http.StatusBadRequest, "resolve: officer or note too long")
		return
	}
	entry, err := s.src.Resolve(req)
	switch {
	case errors.Is(err, ErrRejected):
		writeError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	default:
		localapi.WriteJSON(w, http.StatusOK, map[string]string{"entry": entry})
	}
}

// stream is the live-update channel (Server-Sent Events): a "change"
// event whenever the source reports a change (at most one per
// coalesceEvery), a comment line as heartbeat; it ends after streamLife
// (the browser reconnects). The page refetches what it
// shows on each event; the stream itself carries no data.
func (s *server) stream(w http.ResponseWriter, r *http.Request) {
	c, ok := s.events.join()
	if !ok {
		writeError(w, http.StatusServiceUnavailable, "too many open dashboards")
		return
	}
	defer s.events.leave(c)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// The first event tells the page it is live (and to refetch, in case
	// it missed changes while reconnecting).
	if _, err := w.Write([]byte("retry: 3000\nevent: change\ndata: hello\n\n")); err != nil || rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(s.heartbeat)
	defer tick.Stop()
	end := time.NewTimer(s.life)
	defer end.Stop()
	for {
		var msg string
		select {
		case <-r.Context().Done():
			return
		case <-end.C:
			return
		case <-c:
			msg = "event: change\ndata: " + time.Now().UTC().Format(time.RFC3339Nano) + "\n\n"
		case <-tick.C:
			msg = ": heartbeat\n\n"
		}
		rc.SetWriteDeadline(time.Now().Add(s.heartbeat))
		if _, err := w.Write([]byte(msg)); err != nil || rc.Flush() != nil {
			return
		}
	}
}

// broadcaster fans the source's change signal out to the open streams. It
// reads src.Changed() only while a stream is open, so a hub without an
// open dashboard runs no goroutine for it.
type broadcaster struct {
	src      Source
	coalesce time.Duration // coalesceEvery
	mu       sync.Mutex
	clients  map[chan struct{}]bool
	stop     chan struct{}
}

func newBroadcaster(src Source) *broadcaster {
	return &broadcaster{src: src, coalesce: coalesceEvery, clients: map[chan struct{}]bool{}}
}

func (b *broadcaster) join() (chan struct{}, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.clients) >= MaxEventClients {
		return nil, false
	}
	c := make(chan struct{}, 1)
	b.clients[c] = true
	if len(b.clients) == 1 {
		b.stop = make(chan struct{})
		go b.run(b.stop)
	}
	return c, true
}

func (b *broadcaster) leave(c chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.clients, c)
	if len(b.clients) == 0 && b.stop != nil {
		close(b.stop)
		b.stop = nil
	}
}

func (b *broadcaster) run(stop chan struct{}) {
	changed := b.src.Changed()
	for {
		select {
		case <-stop:
			return
		case <-changed:
		}
		b.mu.Lock()
		for c := range b.clients {
			select {
			case c <- struct{}{}:
			default: // one pending event says it all
			}
		}
		b.mu.Unlock()
		select { // coalesce: what changes meanwhile is one more event
		case <-stop:
			return
		case <-time.After(b.coalesce):
		}
	}
}

// portrait serves the portrait of a capture (?entry=origin:seq) to a
// logged-in operator: the review screens show the two sides of a conflict
// or a duplicate pair with their photos. Never cached.
func (s *server) portrait(w http.ResponseWriter, r *http.Request) {
	img, format, err := s.src.Portrait(r.URL.Query().Get("entry"))
	switch {
	case errors.Is(err, ErrNoPortrait):
		writeError(w, http.StatusNotFound, err.Error())
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ct := "image/jpeg"
	if format == enrollment.FormatJP2 {
		ct = "image/jp2"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-store, private")
	w.Write(img)
}
