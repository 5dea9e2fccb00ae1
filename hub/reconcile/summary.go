package reconcile

import (
	"encoding/json"
	"errors"
	"fmt"

	"fieldsync/storage/kv"
)

// ReadSummary reads what a stored view shows — its counts and its digest —
// and calls meta with each key (under metaPrefix) and value the caller
// wrote with its rounds (a hub's watermark), without opening the
// reconciler: nothing is loaded into memory (no origins, no matcher) and
// nothing is written. It is what Open would publish as Stats and Digest.
// A store cut in the middle of a round is ErrTorn; a damaged counts row
// or bucket, ErrDamaged.
func ReadSummary(db kv.DB, metaPrefix string, meta func(key string, value []byte)) (Stats, string, error) {
	var c counts
	d := newDigest()
	err := db.View(func(s kv.Reader) error {
		if _, err := s.Get(tornKey); err == nil {
			return ErrTorn
		} else if !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		if v, err := s.Get(countsKey); err == nil {
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("%w: counts: %v", ErrDamaged, err)
			}
		} else if !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		var err error
		serr := s.Scan([]byte{tBucket, '/'}, nil, func(k, v []byte) bool {
			err = d.load(k[2:], v)
			return err == nil
		})
		if err != nil || serr != nil {
			return errors.Join(err, serr)
		}
		p := strKey(tMeta, "caller", metaPrefix)
		n := len(strKey(tMeta, "caller", ""))
		return s.Scan(p, nil, func(k, v []byte) bool {
			meta(string(k[n:]), append([]byte(nil), v...))
			return true
		})
	})
	if err != nil {
		return Stats{}, "", err
	}
	return c.stats(), d.hex(), nil
}
