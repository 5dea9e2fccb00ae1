package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"fieldsync/hub"
	"fieldsync/hub/dedup"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/runtime/localapi"
)

func init() {
	register(&command{
		name:     "model",
		synopsis: "show the duplicate model judging this hub's pairs, or learn and publish one (--train)",
		usage: `Usage: fieldsync model --dir DIR [--train] [--weights] [--json]

Shows the probable-duplicate model this hub's view judges pairs with: the
published entry it came from (or the built-in default, learnt on
generated data), its ID (every pair shows the ID of the model that judged
it), and what it was learnt from. --weights prints every comparison level
with m, u and its weight in bits.

--train learns a model from this hub's citizens now (u from random pairs,
m by expectation maximisation within blocks, term frequencies) and
publishes it as a signed entry: it replicates like a decision, and every
hub uses the model of the highest tier, the newest among equals. A
province hub does this by itself when its citizens have grown by a
quarter since the model in force was learnt (checked hourly).

Examples:
  fieldsync model --dir /srv/fs-province --weights
  fieldsync model --dir /srv/fs-province --train
`,
		run: runModel,
	})
}

func runModel(e *env, args []string) error {
	fs := newFlags(e, commands["model"])
	dir := fs.String("dir", "", "hub data directory")
	train := fs.Bool("train", false, "learn a model from this hub's citizens and publish it")
	weights := fs.Bool("weights", false, "print every comparison level's m, u and weight")
	asJSON := fs.Bool("json", false, "print JSON")
	keys := addKeyFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var info hub.ModelInfo
	var err error
	if *train {
		info, err = trainModel(*dir, keys)
	} else {
		err = withView(*dir, keys, "/api/model", &info, func(v *hub.View) error {
			var err error
			info, err = v.Model()
			return err
		})
	}
	var ae *localapi.Error
	if errors.Is(err, dedup.ErrTooFewRecords) || errors.As(err, &ae) && ae.Status == 409 {
		return rejectedError{err}
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, info)
	}
	printModel(e.stdout, &info, *weights)
	return nil
}

// trainModel asks the running hub to learn and publish, or does it on
// the directory when none runs.
func trainModel(dir string, keys *keyFlags) (hub.ModelInfo, error) {
	var info hub.ModelInfo
	err := withHub(dir, keys, func(c *localapi.Client) error {
		return c.Do("POST", "/api/model/train", nil, &info)
	}, func(d *datadir.Dir, view *hub.View) error {
		a, err := hub.NewAuthor(d)
		if err != nil {
			return err
		}
		if _, _, err := a.PublishModel(view, replication.MakeHLC(time.Now().UnixMilli(), 0)); err != nil {
			return err
		}
		if err := view.CatchUp(context.Background()); err != nil { // the view applies the entry from the log
			return err
		}
		info, err = view.Model()
		return err
	})
	return info, err
}

func printModel(w io.Writer, info *hub.ModelInfo, weights bool) {
	from := "the built-in default (learnt on generated data)"
	if info.Entry != "" {
		from = "entry " + info.Entry
	}
	fmt.Fprintf(w, "duplicate model %s, %s; the view holds %d citizens\n", info.ID, from, info.Citizens)
	if t := info.Trained; t != nil {
		fmt.Fprintf(w, "  learnt from %d records: %d random pairs, %d candidate pairs, %.0f matches expected, %d EM iterations\n",
			t.Records, t.RandomPairs, t.CandidatePairs, t.ExpectedMatches, t.EMIterations)
	}
	m := info.Model
	if m == nil {
		return
	}
	fmt.Fprintf(w, "  prior %+.2f bits, threshold %+.2f bits\n", float64(m.PriorW16)/16, float64(m.ThresholdW16)/16)
	if !weights {
		return
	}
	for _, c := range m.Comparisons {
		for _, l := range c.Levels {
			fmt.Fprintf(w, "  %-15s %-30s m %-10.4g u %-10.4g %+6.2f bits\n", c.Name, l.Code, l.M, l.U, float64(l.W16)/16)
		}
	}
	for _, t := range m.TF {
		shown := t.Values[:min(len(t.Values), 8)]
		fmt.Fprintf(w, "  term frequencies, %s (%d values; rarer %+.2f bits):", t.Field, len(t.Values), float64(t.RareW16)/16)
		for _, v := range shown {
			fmt.Fprintf(w, " %s %.4f (%+.2f)", v.Fold, v.Freq, float64(v.AdjW16)/16)
		}
		fmt.Fprintln(w)
	}
}
