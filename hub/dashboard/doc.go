// Package dashboard is the hub's web dashboard: pages embedded in the
// binary (no CDN: hubs are offline), in Vietnamese with an English switch,
// updated live. It serves a Source (package hub implements it).
package dashboard
