// Package dashboard is the hub's web dashboard: what a district or
// provincial operator looks at. Every hub serves it (`fieldsync run`, and
// the demo) from pages embedded in the binary: plain HTML, CSS and
// JavaScript under assets/, no build step, no CDN, no web font, nothing
// fetched from anywhere but the hub itself (hubs are offline; a test
// asserts it). It is in Vietnamese, with an English switch remembered in
// the browser (localStorage), and it updates live without reloading.
//
// # What the pages show
//
// The header names the hub (name, tier, unit), the entries it holds, a
// short view digest (equal digests mean equal views), the review queue it
// works on, an officer field (required before any decision, remembered in
// the browser) and whether the page is live.
//
// Overview: cards with completeness (citizens enrolled against the expected
// population, counting only communes whose population is known), communes
// and devices, what is still to arrive (entries and bytes), the commune
// furthest behind and by how much, and the open reviews. At a province, a
// table per district. Then every commune with its devices, most behind
// first (sortable): enrolled/expected with a bar, a status ("200 entries
// behind", "silent for 3 h", "caught up") in red, amber or green, last
// contact (relative, by the hub's clock), backlog in entries and bytes,
// estimated drain time, link state (connected, idle, failing, never; or
// "via <hub>" for a laptop that syncs with a lower hub), observed link rate
// and a sparkline of the backlog over time. Then the direct peers with both
// directions of their backlog. Alarms (forks, refused entries) come first,
// in red, naming the commune and device.
//
// A device's backlog is what a peer is known to hold of it and this hub
// does not: the laptop's own last summary (a laptop whose upload was cut
// half-way), or a lower hub's (entries not forwarded yet). What a laptop
// captured since it last spoke cannot be known; its last contact shows it.
// Drain time is that backlog's estimated bytes at the carrying link's
// observed rate ("unknown" until the link has moved enough to measure).
//
// Where the province published resident lists (docs/residents.md), a
// card and a "Đủ" column per commune and district show the eligible
// people enrolled or accounted for (away, deceased, moved) and the missing;
// complete communes are marked in green; a commune's "N missing" button
// opens its list of missing people by address and household, for the
// commune team to visit.
//
// Conflicts: each citizen whose current versions disagree on an identity
// field, the versions side by side (ID, name, date of birth, sex, birth
// registration, parents, hometown, residence, capturing commune, officer,
// device, time), differing cells highlighted and the conflicting identity
// fields named, one "choose this version" button per version and an
// optional note. Duplicates: each probable pair with its score, the
// matcher's evidence codes in words (for in green, against in red), both
// citizens side by side, and "same person" / "different people". A
// decision is a resolve entry written by Source.Resolve exactly as
// `fieldsync resolve` writes it; the item leaves the open queue on the next
// live update. "Include other levels' items" shows the queue of every level.
//
// # Endpoints
//
//	GET  /                      the page
//	GET  /assets/...            app.js, app.css, labels.json
//	GET  /login?code=CODE       (package localapi) spends a one-time code, sets the session cookie
//	POST /logout                (package localapi) ends the session
//	GET  /dash/snapshot         overview (Snapshot with backlogs worked out)
//	GET  /dash/conflicts[?all=1][&limit=n]   {"items": [Citizen…], "total": n, "all": b}
//	GET  /dash/duplicates[?all=1][&limit=n]  {"items": [review.PairItem…], "total": n, "all": b}
//	POST /dash/resolve          a review.Request as JSON → {"entry": "origin:seq"}
//	GET  /dash/events           Server-Sent Events: "change" events, heartbeats
//	GET  /dash/residents?commune=C[&category=missing]  a commune's people on its resident list (ResidentsPage)
//
// # Authentication
//
// The page and its assets hold no data and are served to anyone. Every
// /dash/ endpoint goes through the local API's Auth (package localapi):
// a browser session opened by the one-time link `fieldsync login` prints
// (a random session of its own, cookie fieldsync_session_PORT, HttpOnly,
// SameSite=Strict, 30 minutes unused or 12 hours in all; never the API
// token), its requests checked to come from the hub's own origin; or the
// API token as a bearer. Without it they answer 401 and the page says to
// run `fieldsync login`. POST /dash/resolve takes application/json only,
// with the hub's own Origin, so no other page — not even one served from
// another port of the same host — can decide in the officer's name. Every
// answer carries a Content-Security-Policy that allows the hub's own
// origin only.
//
// # Bounds
//
// A decision's body is at most MaxResolveBytes (officer 100 characters,
// note 1,000); a queue answer carries at most MaxQueueItems items (and says
// how many there are; limit=0 asks for the count only); at most
// MaxEventClients event streams are open at once (more get 503), each for
// at most 10 minutes (the browser reconnects); the overview leaves the
// peers' version vectors out and thins each chart to MaxChartPoints.
//
// # Live updates
//
// The page keeps one EventSource on /dash/events. The handler reads
// Source.Changed only while a stream is open, and sends each open stream a
// "change" event for each signal, at most one a second (a hub ingesting a
// backlog changes many times a second), plus a comment every 15 s as a
// heartbeat. Events carry no data: on each the page refetches the
// snapshot, the open tab's queue and the other queue's count (coalescing
// refetches), and re-renders, keeping
// the review cards whose data did not change so that a note being typed
// survives. When the stream drops the page shows "disconnected" and the
// browser reconnects; a refetch every minute covers a lost event.
//
// # Adding a label
//
// Every text on the page is a key in assets/labels.json with both
// languages: "sec.peers": {"vi": "Kết nối trực tiếp", "en": "Direct
// peers"}. Static text in index.html names its key with data-i18n (or
// data-i18n-placeholder, data-i18n-title); app.js calls t('key', {n: 3})
// for text with {n}-style values, or tOr for keys built from data (reason
// codes, link states, tiers), which falls back to the raw value.
// TestEveryLabelInBothLanguages fails when a key the page uses is missing
// or lacks a language.
package dashboard
