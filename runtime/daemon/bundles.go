package daemon

import (
	"crypto/ed25519"
	"errors"
	"net/http"
	"sync"
	"time"

	"fieldsync/replication"
	"fieldsync/replication/bundle"
	"fieldsync/replication/oplog"
	"fieldsync/replication/wire"
	"fieldsync/runtime/bundleops"
	"fieldsync/runtime/localapi"
)

// bundleMu runs one bundle operation at a time: a stick is read or
// written by one command.
var bundleMu sync.Mutex

// bundles returns the bundle operations of the running replica: its
// roster, its replicator (heads learnt from an answer go into its table),
// and its ingest path (the view and the alarms see a bundle's batches).
func (b *Base) bundles() *bundleops.Env {
	env := &bundleops.Env{Dir: b.Dir, Rep: b.Rep, Now: time.Now}
	if rb := b.trust.book; rb != nil {
		env.Verifier = rb
		env.Authorize = func(k ed25519.PublicKey) error { _, err := rb.AuthorizePeer(k); return err }
	}
	env.OnIngest = func(peer *wire.Hello, res oplog.IngestResult) {
		name := "bundle"
		if peer != nil {
			name = peer.Node + " (bundle)"
		}
		b.ingested(name, res)
		b.Rep.Wake() // what arrived goes on up
	}
	return env
}

// PublishBundleKey writes this hub's bundle key into its log if it is not
// there yet: laptops learn it when they sync, and seal bundles to it.
func (b *Base) PublishBundleKey() error {
	if b.Dir.Config.Role != replication.RoleHub {
		return nil
	}
	wrote, err := bundle.PublishKey(b.Dir.Log, b.Dir.Signer, time.Now())
	if wrote {
		b.Logger.Info("published this hub's bundle key")
	}
	return err
}

func (b *Base) bundleRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/bundle/export", func(w http.ResponseWriter, r *http.Request) {
		var req bundleops.ExportRequest
		if !localapi.DecodeJSON(w, r, &req, 64<<10) {
			return
		}
		bundleMu.Lock()
		defer bundleMu.Unlock()
		rep, err := b.bundles().Export(req)
		if err != nil {
			status := http.StatusInternalServerError
			if errors.Is(err, bundle.ErrNothing) || errors.Is(err, bundle.ErrNoKey) {
				status = http.StatusConflict
			}
			http.Error(w, err.Error(), status)
			return
		}
		localapi.WriteJSON(w, http.StatusOK, rep)
	})
	mux.HandleFunc("POST /api/bundle/import", func(w http.ResponseWriter, r *http.Request) {
		var req bundleops.ImportRequest
		if !localapi.DecodeJSON(w, r, &req, 64<<10) {
			return
		}
		if len(req.Paths) == 0 || len(req.Paths) > 1000 {
			http.Error(w, "give 1 to 1000 part files", http.StatusBadRequest)
			return
		}
		bundleMu.Lock()
		defer bundleMu.Unlock()
		rep, err := b.bundles().Import(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		localapi.WriteJSON(w, http.StatusOK, rep)
	})
	mux.HandleFunc("GET /api/bundles", func(w http.ResponseWriter, r *http.Request) {
		recs, err := b.bundles().List()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		localapi.WriteJSON(w, http.StatusOK, recs)
	})
}
