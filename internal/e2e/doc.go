// Package e2e holds end-to-end tests of whole deployments in one process:
// real data directories (Badger), real sockets on loopback, the link
// emulator between replicas, field-node and hub daemons. It has no
// production code; it exists so that tests may import both node and hub.
package e2e
