package review

import (
	"fieldsync/hub/reconcile"
)

// Queue filters review items by level: a district hub reviews its own
// district's items ("district:445"); the province reviews cross-district
// ones ("province"). All shows every item.
type Queue struct {
	Level    string
	All      bool
	Resolved bool // include settled items
	// After and Limit page through a queue (reconcile.QueueQuery).
	After string
	Limit int
}

// QueueFor returns the queue a hub of this tier and unit reviews.
func QueueFor(tier, unit string) Queue {
	if tier == "district" {
		return Queue{Level: "district:" + unit}
	}
	return Queue{Level: "province"}
}

// Query is the reconciler's query for q.
func (q Queue) Query() reconcile.QueueQuery {
	level := q.Level
	if q.All {
		level = ""
	}
	return reconcile.QueueQuery{Level: level, Resolved: q.Resolved, After: q.After, Limit: q.Limit}
}

// PairItem is a probable duplicate with both citizens side by side.
type PairItem struct {
	reconcile.Pair
	Citizens []*reconcile.Citizen `json:"citizens"`
}

// Conflicts returns a page of the citizens in conflict that q admits, and
// the cursor of the next page ("" at the end).
func Conflicts(r *reconcile.Reconciler, q Queue) ([]*reconcile.Citizen, string, error) {
	return r.ConflictQueue(q.Query())
}

// Pairs returns a page of the probable duplicates q admits, with both
// citizens, and the cursor of the next page.
func Pairs(r *reconcile.Reconciler, q Queue) ([]PairItem, string, error) {
	ps, next, err := r.PairQueue(q.Query())
	if err != nil {
		return nil, "", err
	}
	out := make([]PairItem, 0, len(ps))
	for _, p := range ps {
		a, err := r.Citizen(p.A)
		if err != nil {
			return nil, "", err
		}
		b, err := r.Citizen(p.B)
		if err != nil {
			return nil, "", err
		}
		out = append(out, PairItem{Pair: p, Citizens: []*reconcile.Citizen{a, b}})
	}
	return out, next, nil
}

// All lists a whole queue page by page (reconcile.MaxQueueLimit items a
// page): page returns a page's items and the next page's cursor.
func All[T any](q Queue, page func(Queue) ([]T, string, error)) ([]T, error) {
	var out []T
	q.Limit = reconcile.MaxQueueLimit
	for {
		items, next, err := page(q)
		out = append(out, items...)
		if err != nil || next == "" {
			return out, err
		}
		q.After = next
	}
}
