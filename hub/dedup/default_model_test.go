package dedup

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "regenerate default_model.json (learnt on synth: 100,000 records, seed 1, 5% noise)")

// TestDefaultModel checks that the embedded default model decodes and was
// learnt; with -update it learns it again from synth and rewrites it.
func TestDefaultModel(t *testing.T) {
	if *update {
		recs := synthRecordsNoise(t, 100000, 1, 0.05)
		ix := NewIndex(Config{Model: TextbookModel()})
		for _, r := range recs {
			ix.Put(r)
		}
		m, err := ix.Train(TrainConfig{})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		buf.Write(m.Encode())
		buf.WriteByte('\n')
		if err := os.WriteFile("default_model.json", buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("default model %s written: %+v", m.ID(), *m.Trained)
		return
	}
	m := DefaultModel()
	if m.Trained == nil || m.Trained.Records < 90000 || len(m.TF) != numTFFields {
		t.Fatalf("default model %s: trained %+v, %d TF tables", m.ID(), m.Trained, len(m.TF))
	}
}
