package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"fieldsync/enrollment/synth"
	"fieldsync/node"
)

func init() {
	register(&command{
		name:     "gen",
		synopsis: "generate realistic synthetic enrollments (JSON lines)",
		usage: `Usage: fieldsync gen --count N [--seed S] [--commune CODE] [--noise RATE] [--truth FILE] [--dossiers FOLDER]

Writes N synthetic enrollments as JSON lines to standard output:
deterministic by seed, realistic for Hà Tĩnh (names by sex and cohort,
households with consistent relations, ethnic minorities in the western
mountain communes, campaign timestamps). With --noise RATE, that fraction
of the records are re-enrollments of people already generated, with the
errors real data has (NFD text, missing diacritics, Hoàng/Huỳnh, Vũ/Võ, tone
placement, keystroke errors in any name part, hỏi/ngã and regional
spellings, dropped or added middle names, transposed, mistyped or missing
ID numbers, a lost leading zero, swapped day/month, year-only and 01/01
dates, a birth year one off, parents left out, a move to another commune
and household). Twins, sons named like their fathers and namesakes (some
born the same day) are built in as look-alikes. --truth writes which
records are the same person (JSON lines: line, person, duplicate_of,
noise, quirks, similar_to).

With --dossiers FOLDER, each capture is written as a person's folder
instead (FOLDER/000001/record.json and its biometric files: a portrait,
10 rolled prints, 3 slaps, irises from 2024-07-01 and a signature, at the
sizes of DOMAIN.md §6.4 — incompressible bytes inside real JPEG, JPEG 2000,
WSQ and PNG containers — and the exception code of a finger that could
not be taken), ready for 'fieldsync import --dir DIR FOLDER'. The same
seed gives the same bytes.

Examples:
  fieldsync gen --count 1000 --seed 7 > enrollments.jsonl
  fieldsync gen --count 100000 --seed 1 --noise 0.05 --truth truth.jsonl > data.jsonl
  fieldsync gen --count 100000 --seed 1 | fieldsync import --dir /var/lib/fieldsync -
  fieldsync gen --count 300 --seed 1 --dossiers /tmp/day && fieldsync import --dir /var/lib/fieldsync /tmp/day
`,
		run: runGen,
	})
}

func runGen(e *env, args []string) error {
	fs := newFlags(e, commands["gen"])
	count := fs.Int("count", 1000, "records to write")
	seed := fs.Uint64("seed", 1, "random seed (same seed, same output)")
	commune := fs.String("commune", "", "5-digit commune code (default: all of Hà Tĩnh)")
	noise := fs.Float64("noise", 0, "fraction of records that are noisy re-enrollments (0..0.5)")
	truthPath := fs.String("truth", "", "write the ground truth (same-person links) to this file")
	dossiers := fs.String("dossiers", "", "write person folders with biometric files here instead of JSON lines")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg := synth.Config{Count: *count, Seed: *seed, Commune: *commune, Noise: *noise}
	if *dossiers != "" {
		return genDossiers(e, cfg, *dossiers, *truthPath)
	}
	out := bufio.NewWriterSize(e.stdout, 256<<10)
	var truth *bufio.Writer
	if *truthPath != "" {
		f, err := os.OpenFile(*truthPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		truth = bufio.NewWriter(f)
	}
	var st synth.Stats
	var err error
	if truth != nil {
		st, err = synth.Generate(out, truth, cfg)
	} else {
		st, err = synth.Generate(out, nil, cfg)
	}
	if err != nil {
		return usagef("%v", err)
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if truth != nil {
		if err := truth.Flush(); err != nil {
			return err
		}
	}
	if isTerminal(e.stderr) {
		fmt.Fprintf(e.stderr, "generated %d records\n", *count)
	}
	_ = st
	return nil
}

// genDossiers writes each generated capture as a person's folder.
func genDossiers(e *env, cfg synth.Config, root, truthPath string) error {
	g, err := synth.New(cfg)
	if err != nil {
		return usagef("%v", err)
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return err
	}
	var truth *bufio.Writer
	if truthPath != "" {
		f, err := os.OpenFile(truthPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		truth = bufio.NewWriter(f)
		defer truth.Flush()
	}
	var files, bytes int64
	for {
		rec, ok := g.Next()
		if !ok {
			break
		}
		dir := filepath.Join(root, fmt.Sprintf("%06d", rec.Line))
		if err := os.Mkdir(dir, 0o700); err != nil {
			return fmt.Errorf("gen: %w (give an empty or new --dossiers folder)", err)
		}
		top, err := recordObject(&rec.Enrollment)
		if err != nil {
			return err
		}
		exceptions := map[string]any{}
		for _, f := range rec.Files() {
			if f.Data == nil {
				exceptions[f.Slot] = map[string]string{"exception": f.Exception}
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o600); err != nil {
				return err
			}
			files++
			bytes += int64(len(f.Data))
		}
		if len(exceptions) > 0 {
			top["files"] = exceptions
		}
		b, err := json.MarshalIndent(top, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, node.RecordFile), append(b, '\n'), 0o600); err != nil {
			return err
		}
		if truth != nil {
			if err := synth.WriteJSONLine(truth, rec.Truth()); err != nil {
				return err
			}
		}
	}
	if err := g.Err(); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %d dossiers to %s: %d files, %.1f MB\n", cfg.Count, root, files, float64(bytes)/1e6)
	return nil
}

// recordObject is a record as a JSON object, to add "files" to.
func recordObject(e any) (map[string]any, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	var top map[string]any
	return top, json.Unmarshal(b, &top)
}
