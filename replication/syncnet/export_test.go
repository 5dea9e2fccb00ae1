package syncnet

import "io"

// Segments lets the external tests speak the connection's framing (mux.go)
// as a hostile peer would: stream bytes, or one raw frame.
type Segments struct{ w *segWriter }

// NewSegments writes segments to w.
func NewSegments(w io.Writer) *Segments { return &Segments{w: &segWriter{w: w}} }

// Write sends p as stream segments.
func (s *Segments) Write(p []byte) (int, error) { return s.w.Write(p) }

// Raw sends frame as one raw segment.
func (s *Segments) Raw(frame []byte) error { return s.w.writeRaw(frame) }
