// Package capture is the commune team's screen: the capture app a laptop
// serves on its local API (`fieldsync run`), on loopback, offline, from
// pages embedded in the binary (no CDN, no web font, nothing fetched from
// anywhere but the laptop), in Vietnamese with an English switch, usable
// with the keyboard alone, sized for a 1366×768 screen.
//
// # What it does
//
//   - Officer sign-in. Each officer has an account on the laptop, set up
//     at the district office (`fieldsync officer add`; package node keeps
//     accounts in the sealed metadata, passwords stretched with argon2id).
//     Signing in opens a session of the local API's own kind
//     (localapi.Auth.OpenSession: random, HttpOnly, SameSite=Strict, 30
//     minutes idle, 12 hours at most, same-origin requests only); every
//     capture and status carries the officer signed in, whatever the page
//     sends.
//   - The dossier form: identity, places with their code list (2023 or
//     2025), family, other details; dates with partial precision (a year
//     or a month for the elderly), ethnicity, religion and units from the
//     code lists of package enrollment (GET /app/refdata — the page holds
//     no list of its own).
//   - Validation as the officer types: every change posts the form to
//     /app/check, which runs enrollment.Validate — the same rules, codes
//     and messages as `fieldsync enroll` — and answers in a few hundred
//     microseconds; the page shows each message at its field (in the
//     officer's language) once the officer has been in it, and all of them
//     when a save is tried. At most one check is in flight: a change
//     meanwhile sends one more when it returns.
//   - The look-up before saving: the same check finds captures on this
//     laptop with the same ID number and probable duplicates (hub/dedup,
//     the hubs' own detector, over the laptop's captures and the commune's
//     resident list), shown side by side with the form, differing fields
//     marked: the officer fills the form from the list, or opens the
//     earlier capture and saves a correction (an amend) instead of a
//     second enrollment.
//   - The portrait from the laptop's camera (getUserMedia) or a file,
//     shown as a thumbnail with its slot.
//   - A receipt after saving (the entry ID, the warnings, the resident
//     marked enrolled on the list), the commune's resident list with each
//     person's status (set it there), and the sync queue: what is still on
//     the laptop, what reached a hub, the backlog and drain time, the
//     freeze warning.
//
// # Endpoints
//
//	GET  /, /assets/...        the page (no data)
//	GET  /app/session          the laptop and the officer signed in, if any
//	POST /app/signin           {officer, password} → a session
//	GET  /app/refdata          code lists and field labels
//	POST /app/check            {record, amend?} → {findings, matches, took_us}
//	POST /app/save             {record, amend?, reason?, resident?} → receipt (422: findings)
//	GET  /app/capture?id=      a capture held, for the receipt and the amend form
//	GET  /app/residents?category=&q=&limit=   the commune's list
//	POST /app/status           {personal_id, status, note?, supersedes?}
//	GET  /app/queue            the sync queue
//
// Sign-out is the local API's POST /logout. Every data route needs an
// officer's session; POSTs take application/json only and come from this
// laptop's own page (localapi.Auth). Bodies are bounded (MaxRecordBytes),
// lists too (MaxListItems, MaxQueueItems, maxMatches).
//
// # The index
//
// index.go keeps, in memory, what the look-ups need: every capture held
// (current ones by ID number), the commune's list and statuses
// (residents.Census with its rows) and the duplicate detector over both.
// It is built from the log at start and kept current through node.Watch
// with every entry appended or ingested. At a commune's size (20,000
// residents and 20,000 captures) it is a few tens of megabytes.
package capture
