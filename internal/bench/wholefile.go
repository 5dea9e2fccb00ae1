package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// wholeFile is the baseline: each dossier is one HTTP POST of a
// multipart form (the record as JSON and every image file), as ODK Collect
// submits a form with its media and MOSIP's registration client uploads a
// packet; a failed upload is retried whole, after the same jittered 0.5-1 s
// backoff the replicator uses, until it is acknowledged. One dossier at a
// time, in capture order.
func wholeFile(ds []benchDossier, link benchLink, cfg DossierConfig) (runStats, error) {
	clock := link.Clock()
	var run runStats
	var mu sync.Mutex
	got := make([]bool, len(ds))
	var acked int64 // bytes of bodies acknowledged
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(r.Header.Get("X-Dossier"))
		if err != nil || i < 0 || i >= len(ds) {
			http.Error(w, "no such dossier", http.StatusBadRequest)
			return
		}
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil || n != r.ContentLength {
			return // cut: the client retries
		}
		mu.Lock()
		if !got[i] {
			got[i] = true
			acked += n
		}
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	})}
	ln, err := link.Listen()
	if err != nil {
		return run, err
	}
	go srv.Serve(ln)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
		return link.Dial(ctx, addr)
	}}}
	defer client.CloseIdleConnections()
	url := "http://" + ln.Addr().String() + "/submission"
	start := link.Start()
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xbac0))
	for i := range ds {
		body, ctype, err := multipartDossier(&ds[i])
		if err != nil {
			return run, err
		}
		for {
			if clock.Now().Sub(start) > cfg.MaxEmulated {
				run.stopped = true
				break
			}
			req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				return run, err
			}
			req.Header.Set("Content-Type", ctype)
			req.Header.Set("X-Dossier", strconv.Itoa(i))
			resp, err := client.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					run.sessions++
					break
				}
			}
			run.sessions++
			t, _ := clock.NewTimer(500*time.Millisecond + time.Duration(rng.Int64N(int64(500*time.Millisecond))))
			<-t
		}
		if run.stopped {
			break
		}
		run.completeN++
	}
	run.complete = clock.Now()
	run.records = run.complete // a record arrives with its dossier
	mu.Lock()
	if st := link.Stats(); st.Payload > 0 {
		run.sentAgain = max(0, st.Payload-acked)
	}
	mu.Unlock()
	return run, nil
}

// multipartDossier is a dossier as one multipart/form-data body.
func multipartDossier(d *benchDossier) ([]byte, string, error) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	withRefs := d.withRefs()
	rec, err := json.Marshal(&withRefs)
	if err != nil {
		return nil, "", err
	}
	if err := w.WriteField("record", string(rec)); err != nil {
		return nil, "", err
	}
	for _, f := range d.files {
		if f.Data == nil {
			continue
		}
		fw, err := w.CreateFormFile(f.Slot, f.Name)
		if err != nil {
			return nil, "", err
		}
		fw.Write(f.Data)
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return b.Bytes(), w.FormDataContentType(), nil
}
