package node_test

import (
	"testing"

	"fieldsync/node"
)

// FuzzDecodeDossierJSON reads arbitrary bytes as a dossier's JSON line
// (the daemon's API reads them from clients): no panic; a nil file source
// reads no path, so every file it yields is inline bytes, an exception, a
// refusal to read a path, or an empty slot — and inline bytes are bounded
// by their slot's limit.
func FuzzDecodeDossierJSON(f *testing.F) {
	f.Add([]byte(`{"full_name":"A","files":{"face":{"name":"f.jpg","data":"/9j/2Q=="},"finger_l3":{"exception":"amputated"}},"line":4}`))
	f.Add([]byte(`{"full_name":"A","files":{"face":"../../etc/passwd"}}`))
	f.Add([]byte(`{"files":[1,2]}`))
	f.Add([]byte(`{"line":-1}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, _, err := node.DecodeDossierJSON(raw, nil)
		if err != nil {
			return
		}
		for _, fl := range d.Files {
			if fl.Missing || fl.TooLarge && fl.Data != nil {
				t.Fatalf("file %+v", fl.Slot)
			}
			if fl.Data == nil && fl.Exception == "" && fl.ReadErr == "" && !fl.TooLarge && fl.Name != "" {
				t.Fatalf("a path was read or kept: %+v", fl)
			}
		}
	})
}
