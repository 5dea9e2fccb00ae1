package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"fieldsync/enrollment"
	"fieldsync/enrollment/pii"
	"fieldsync/replication"
)

func init() {
	register(&command{
		name:     "log",
		synopsis: "list the entries of a data directory",
		usage: `Usage: fieldsync log --dir DIR [--origin HEX] [--from SEQ] [--limit N] [--json]

Lists entries, origin by origin in seq order (this device's own origin
first unless --origin is given). --json prints one entry per line with its
payload. Personal data is masked unless the output is a terminal or
--show-pii is given (docs/keys.md).

Examples:
  fieldsync log --dir /var/lib/fieldsync --limit 20
  fieldsync log --dir /var/lib/fieldsync --json | jq .kind
`,
		run: runLog,
	})
}

// logLine is the JSON form of one entry.
type logLine struct {
	ID      replication.EntryID `json:"id"`
	Kind    replication.Kind    `json:"kind"`
	HLC     string              `json:"hlc"`
	Hash    replication.Hash    `json:"hash"`
	Signed  bool                `json:"signed"`
	Payload json.RawMessage     `json:"payload"`
}

func runLog(e *env, args []string) error {
	fs := newFlags(e, commands["log"])
	dir := fs.String("dir", "", "data directory")
	originHex := fs.String("origin", "", "only this origin (hex)")
	from := fs.Uint64("from", 1, "first seq")
	limit := fs.Int("limit", 0, "stop after N entries (0 = all)")
	asJSON := fs.Bool("json", false, "one JSON object per entry")
	keys := addKeyFlags(fs)
	showPII := addShowPII(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	m := newMasker(e, *showPII)
	d, err := openDirKeys(*dir, keys)
	if err != nil {
		return err
	}
	defer d.Close()
	origins, err := logOrigins(d.Log, d.Signer.Origin(), *originHex)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	if !*asJSON {
		fmt.Fprintln(tw, "ENTRY\tKIND\tHLC\tSUMMARY")
	}
	n := 0
	for _, o := range origins {
		var werr error
		err := d.Log.Scan(o, *from, func(en replication.Entry) bool {
			if *limit > 0 && n >= *limit {
				return false
			}
			n++
			if *asJSON {
				werr = writeLogLine(e, m, en)
			} else {
				fmt.Fprintf(tw, "%s:%d\t%s\t%s\t%s\n", o.Short(), en.Seq, en.Kind, en.HLC, summarize(en, m))
			}
			return werr == nil
		})
		if err != nil {
			return err
		}
		if werr != nil {
			return werr
		}
	}
	return tw.Flush()
}

func logOrigins(l interface {
	Vector() (replication.Vector, error)
}, own replication.OriginID, only string) ([]replication.OriginID, error) {
	if only != "" {
		o, err := replication.ParseOriginID(only)
		if err != nil {
			return nil, usagef("--origin: %v", err)
		}
		return []replication.OriginID{o}, nil
	}
	v, err := l.Vector()
	if err != nil {
		return nil, err
	}
	out := []replication.OriginID{own}
	for _, o := range v.Origins() {
		if o != own {
			out = append(out, o)
		}
	}
	return out, nil
}

func jsonPayload(p []byte) json.RawMessage {
	if json.Valid(p) {
		return p
	}
	b, _ := json.Marshal(p) // not JSON: base64
	return b
}

// writeLogLine prints one entry as JSON, its payload masked unless shown
// (a genesis carries no personal data and is printed as is).
func writeLogLine(e *env, m pii.Masker, en replication.Entry) error {
	payload := jsonPayload(en.Payload)
	if !m.Show && en.Kind != replication.KindGenesis {
		var v any
		if json.Unmarshal(payload, &v) == nil {
			masked, err := m.JSON(v)
			if err != nil {
				return err
			}
			if payload, err = json.Marshal(masked); err != nil {
				return err
			}
		} else {
			payload = json.RawMessage(`null`)
		}
	}
	return writeJSON(e.stdout, logLine{en.ID(), en.Kind, en.HLC.String(), en.Hash(), en.Sig != nil, payload})
}

// summarize renders one entry in a line for the table.
func summarize(en replication.Entry, m pii.Masker) string {
	switch en.Kind {
	case replication.KindEnroll:
		var r enrollment.Enrollment
		if json.Unmarshal(en.Payload, &r) == nil {
			return fmt.Sprintf("%s %s %s", m.Text(r.PersonalID), m.Text(r.FullName), m.Text(r.DateOfBirth.String()))
		}
	case replication.KindAmend:
		var a enrollment.Amendment
		if json.Unmarshal(en.Payload, &a) == nil {
			return "amends " + a.Target + ": " + m.Text(a.Record.FullName)
		}
	case replication.KindVoid:
		var v enrollment.Voiding
		if json.Unmarshal(en.Payload, &v) == nil {
			return "voids " + v.Target + ": " + m.Text(v.Reason)
		}
	case replication.KindGenesis:
		if g, err := replication.DecodeGenesis(en.Payload); err == nil {
			return fmt.Sprintf("%s %s unit %s device %s", g.Role, g.Tier, g.Unit, replication.DeviceIDOf(g.PublicKey))
		}
	}
	return fmt.Sprintf("%d bytes", len(en.Payload))
}
