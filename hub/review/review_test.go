package review_test

import (
	"errors"
	"testing"

	"fieldsync/hub"
	"fieldsync/hub/reconcile"
	"fieldsync/hub/review"
	"fieldsync/hub/review/reviewtest"
)

// fixture is a view with one conflict (one citizen captured twice with
// different names, on two laptops) and one probable duplicate (the same
// person under a mistyped ID number).
type fixture struct {
	r        *reconcile.Reconciler
	conflict *reconcile.Citizen
	pair     reconcile.Pair
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	r := reconcile.New(reconcile.Config{Matcher: hub.NewMatcher()})
	if err := r.Apply(reviewtest.Entries(t)...); err != nil {
		t.Fatal(err)
	}
	f := fixture{r: r}
	cs, _, err := review.Conflicts(r, review.Queue{All: true})
	if err != nil || len(cs) != 1 {
		t.Fatalf("conflicts: %d, %v; want 1", len(cs), err)
	}
	f.conflict = cs[0]
	ps, _, err := review.Pairs(r, review.Queue{All: true})
	if err != nil || len(ps) != 1 || len(ps[0].Citizens) != 2 || ps[0].Citizens[0] == nil || ps[0].Citizens[1] == nil {
		t.Fatalf("pairs: %+v, %v; want 1 with both citizens", ps, err)
	}
	f.pair = ps[0].Pair
	return f
}

func TestResolution(t *testing.T) {
	f := newFixture(t)
	version := f.conflict.Versions[0].ID.String()
	cases := []struct {
		name    string
		req     review.Request
		wantErr error
		check   func(t *testing.T, res reconcile.Resolution)
	}{
		{"a version chosen", review.Request{ID: "conflict:" + f.conflict.Key, Choose: version, Officer: "CA-1"}, nil,
			func(t *testing.T, res reconcile.Resolution) {
				if res.Subject != f.conflict.Conflict.ID || res.Choose != version || len(res.Versions) != 2 || res.Officer != "CA-1" {
					t.Errorf("resolution %+v", res)
				}
			}},
		{"the bare citizen key", review.Request{ID: f.conflict.Key, Choose: version, Officer: "CA-1"}, nil, nil},
		{"a version that is not one", review.Request{ID: f.conflict.Key, Choose: "00:1", Officer: "CA-1"}, review.ErrBadDecision, nil},
		{"a verdict on a conflict", review.Request{ID: f.conflict.Key, SamePerson: true, Officer: "CA-1"}, review.ErrBadDecision, nil},
		{"no officer", review.Request{ID: f.conflict.Key, Choose: version}, review.ErrBadDecision, nil},
		{"no such citizen", review.Request{ID: "conflict:001099999999", Choose: version, Officer: "CA-1"}, review.ErrNoSuchItem, nil},
		{"same person", review.Request{ID: f.pair.ID, SamePerson: true, Officer: "PC06"}, nil,
			func(t *testing.T, res reconcile.Resolution) {
				if res.Subject != f.pair.ID || res.Verdict != reconcile.VerdictSamePerson {
					t.Errorf("resolution %+v", res)
				}
			}},
		{"distinct", review.Request{ID: f.pair.ID, Distinct: true, Officer: "PC06"}, nil,
			func(t *testing.T, res reconcile.Resolution) {
				if res.Verdict != reconcile.VerdictDistinct {
					t.Errorf("verdict %q", res.Verdict)
				}
			}},
		{"both verdicts", review.Request{ID: f.pair.ID, SamePerson: true, Distinct: true, Officer: "PC06"}, review.ErrBadDecision, nil},
		{"no verdict", review.Request{ID: f.pair.ID, Officer: "PC06"}, review.ErrBadDecision, nil},
		{"a choice on a pair", review.Request{ID: f.pair.ID, Choose: version, Distinct: true, Officer: "PC06"}, review.ErrBadDecision, nil},
		{"no such pair", review.Request{ID: "pair:a|b", SamePerson: true, Officer: "PC06"}, review.ErrNoSuchItem, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := review.Resolution(f.r, c.req)
			if !errors.Is(err, c.wantErr) || (err == nil) != (c.wantErr == nil) {
				t.Fatalf("err %v, want %v", err, c.wantErr)
			}
			if review.Rejected(err) != (c.wantErr != nil) {
				t.Errorf("Rejected(%v) = %v", err, review.Rejected(err))
			}
			if c.check != nil {
				c.check(t, res)
			}
		})
	}
}

func TestQueueFor(t *testing.T) {
	cases := []struct {
		tier, unit string
		q          review.Queue
		want       reconcile.QueueQuery
	}{
		{"district", "445", review.Queue{}, reconcile.QueueQuery{Level: "district:445"}},
		{"province", "01", review.Queue{}, reconcile.QueueQuery{Level: "province"}},
		{"district", "445", review.Queue{All: true, Resolved: true, After: "k", Limit: 7}, reconcile.QueueQuery{Resolved: true, After: "k", Limit: 7}},
	}
	for _, c := range cases {
		q := review.QueueFor(c.tier, c.unit)
		q.All, q.Resolved, q.After, q.Limit = c.q.All, c.q.Resolved, c.q.After, c.q.Limit
		if got := q.Query(); got != c.want {
			t.Errorf("%s %s %+v: query %+v, want %+v", c.tier, c.unit, c.q, got, c.want)
		}
	}
}

// TestAllPages: All follows the cursor to the end and keeps every item.
func TestAllPages(t *testing.T) {
	pages := map[string][]int{"": {1, 2}, "a": {3}, "b": {4, 5}}
	next := map[string]string{"": "a", "a": "b", "b": ""}
	var limits []int
	got, err := review.All(review.Queue{}, func(q review.Queue) ([]int, string, error) {
		limits = append(limits, q.Limit)
		return pages[q.After], next[q.After], nil
	})
	if err != nil || len(got) != 5 || got[4] != 5 || len(limits) != 3 || limits[0] != reconcile.MaxQueueLimit {
		t.Errorf("All: %v, %v (limits %v)", got, err, limits)
	}
	boom := errors.New("boom")
	if _, err := review.All(review.Queue{}, func(review.Queue) ([]int, string, error) { return nil, "x", boom }); !errors.Is(err, boom) {
		t.Errorf("a page's error: %v", err)
	}
}
