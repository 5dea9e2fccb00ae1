// Package hub is the hub shell: a district or provincial hub ingests the
// entries that arrive from below (laptops, lower hubs), keeps them, and
// forwards everything upward unchanged, so the province verifies each
// laptop's own signatures end to end. Tiers are configuration: a hub has
// zero or one parent.
package hub
