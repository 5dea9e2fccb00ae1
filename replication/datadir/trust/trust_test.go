package trust_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/datadir/trust"
	"fieldsync/replication/roster"
)

func TestChoiceCheck(t *testing.T) {
	key := strings.Repeat("ab", ed25519.PublicKeySize)
	hubCfg := datadir.Config{Role: replication.RoleHub, Tier: "district", Unit: "445"}
	province := datadir.Config{Role: replication.RoleHub, Tier: "province", Unit: "01"}
	laptop := datadir.Config{Role: replication.RoleNode, Unit: "18586"}
	cases := []struct {
		name       string
		c          trust.Choice
		cfg        datadir.Config
		wantSelf   bool
		wantKey    string
		wantOpen   bool
		wantChoice string // a ChoiceError containing this
	}{
		{"a key, upper case", trust.Choice{ProvinceKey: strings.ToUpper(key)}, laptop, false, key, false, ""},
		{"a bad key", trust.Choice{ProvinceKey: "zz"}, laptop, false, "", false, "--province-key"},
		{"a roster file", trust.Choice{RosterFile: "r.bin"}, laptop, false, "", false, ""},
		{"open", trust.Choice{Open: true}, laptop, false, "", true, ""},
		{"anchor self at a hub", trust.Choice{AnchorSelf: true}, hubCfg, true, "", false, ""},
		{"anchor self at a laptop", trust.Choice{AnchorSelf: true}, laptop, false, "", false, "only a hub"},
		{"the province by default", trust.Choice{}, province, true, "", false, ""},
		{"two choices", trust.Choice{ProvinceKey: key, Open: true}, laptop, false, "", false, "give one of"},
		{"a roster and self", trust.Choice{RosterFile: "r.bin", AnchorSelf: true}, hubCfg, false, "", false, "give one of"},
		{"nothing", trust.Choice{}, laptop, false, "", false, "say who signs the roster"},
		{"nothing, open by default", trust.Choice{OpenByDefault: true}, laptop, false, "", true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			self, err := c.c.Check(&cfg)
			var ce *trust.ChoiceError
			if c.wantChoice != "" {
				if !errors.As(err, &ce) || !strings.Contains(ce.Msg, c.wantChoice) {
					t.Fatalf("err %v, want a choice error with %q", err, c.wantChoice)
				}
				return
			}
			if err != nil || self != c.wantSelf || cfg.ProvinceKey != c.wantKey || cfg.Open != c.wantOpen {
				t.Errorf("self %v, key %q, open %v, err %v", self, cfg.ProvinceKey, cfg.Open, err)
			}
		})
	}
}

func initDir(t *testing.T, cfg datadir.Config) *datadir.Dir {
	t.Helper()
	d, err := datadir.Init(filepath.Join(t.TempDir(), "d"), datadir.InitOptions{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestAnchorAndImport: the province becomes its own anchor; a laptop
// without one takes the bundle's signer (AnchorSet) and its config.json
// says so after a reopen; a laptop with another anchor refuses the bundle;
// Join sets the anchor it is given.
func TestAnchorAndImport(t *testing.T) {
	prov := initDir(t, datadir.Config{Role: replication.RoleHub, Tier: "province", Unit: "01", Name: "p", Open: true})
	if err := trust.MakeAnchor(prov); err != nil {
		t.Fatal(err)
	}
	anchor := roster.SignerFor(prov.Signer).PublicKey()
	if prov.Config.ProvinceKey != hex.EncodeToString(anchor) || prov.Config.Open {
		t.Fatalf("the province's config after MakeAnchor: %+v", prov.Config)
	}
	if got := trust.Line(prov.Config); !strings.Contains(got, prov.Config.ProvinceKey) {
		t.Errorf("Line: %s", got)
	}
	bundle, err := roster.Export(prov.Log, anchor)
	if err != nil {
		t.Fatal(err)
	}
	laptop := datadir.Config{Role: replication.RoleNode, Unit: "18586", Name: "l", Open: true}
	cases := []struct {
		name    string
		anchor  string // the laptop's ProvinceKey before
		join    bool
		wantSet bool
		wantErr bool
	}{
		{"no anchor: the signer becomes it", "", false, true, false},
		{"the same anchor", hex.EncodeToString(anchor), false, false, false},
		{"another anchor: refused", strings.Repeat("cd", ed25519.PublicKeySize), false, false, true},
		{"join", "", true, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := laptop
			cfg.ProvinceKey, cfg.Open = c.anchor, c.anchor == ""
			d := initDir(t, cfg)
			var res trust.Import
			var err error
			if c.join {
				res, err = trust.Join(d, bundle, anchor)
			} else {
				res, err = trust.ImportBundle(d, bundle)
			}
			if (err != nil) != c.wantErr {
				t.Fatalf("err %v", err)
			}
			if c.wantErr {
				return
			}
			if (res.AnchorSet != nil) != c.wantSet || res.Applied == 0 {
				t.Errorf("import %+v", res)
			}
			again, err := datadir.ReadConfig(d.Path)
			if err != nil || again.ProvinceKey != hex.EncodeToString(anchor) || again.Open {
				t.Errorf("config.json after: %+v, %v", again, err)
			}
		})
	}
	// Finish with a roster file imports it.
	file := filepath.Join(t.TempDir(), "roster.bin")
	if err := os.WriteFile(file, bundle, 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := trust.ReadBundle(file); err != nil || !bytes.Equal(b, bundle) {
		t.Fatalf("ReadBundle: %d bytes, %v", len(b), err)
	}
	d := initDir(t, laptop)
	res, err := trust.Choice{RosterFile: file}.Finish(d, false)
	if err != nil || res == nil || res.AnchorSet == nil {
		t.Errorf("Finish with a roster file: %+v, %v", res, err)
	}
	if err := trust.MakeAnchor(d); !errors.Is(err, trust.ErrNotHub) {
		t.Errorf("MakeAnchor at a laptop: %v", err)
	}
}
