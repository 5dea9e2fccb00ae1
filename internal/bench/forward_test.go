package bench

import "testing"

// TestForwardSmoke runs both modes of `bench forward` on a few dossiers:
// the province ends with every dossier complete.
func TestForwardSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("moves a few MB over loopback")
	}
	for _, streaming := range []bool{false, true} {
		res, err := Forward(t.TempDir(), ForwardConfig{Dossiers: 3, Seed: 3, Streaming: streaming})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v", res)
		if !res.Complete || res.Blobs == 0 || res.MBPerSec <= 0 {
			t.Fatalf("%s: %+v", res.Mode, res)
		}
	}
}
