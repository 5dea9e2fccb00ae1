// Package review is the hub's review stage: what an officer looks at and
// decides. A hub's view (package hub, over hub/reconcile) finds conflicts —
// captures of one citizen that disagree on identity fields — and probable
// duplicates — two citizens who are probably one person; this package
// pages through them as review queues and checks an officer's decision
// before the hub writes it as a resolve entry.
//
// Where each part of the stage lives:
//
//   - the queues: Queue (the level a hub reviews: "district:445" for a
//     district hub, "province" for the province), Conflicts and Pairs;
//   - a decision: Request (the same for the CLI, the local API and the
//     dashboard) and Resolution, which checks it against the view and
//     builds the resolve entry's payload (reconcile.Resolution);
//   - writing it: hub.Author.Resolve (the hub's own clock and log), called
//     by `fieldsync resolve`, POST /api/resolve and the dashboard;
//   - applying it: hub/reconcile (a higher tier's decision outranks a
//     lower tier's; every hub reaches the same view).
//
// The package is pure: it reads the reconciler it is given and links no
// storage engine.
package review
