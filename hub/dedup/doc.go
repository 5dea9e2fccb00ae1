// Package dedup finds probable duplicates among a hub's citizens: two
// citizen keys that look like the same person, each pair with its
// probability under a Fellegi–Sunter model learnt from the hub's own data,
// and the evidence, line by line with its weight, in Vietnamese and
// English. It is pure: no I/O, no clock, no goroutines, and what it returns
// is a function of the set of records it holds and of the model, whatever
// the order they came in.
//
// # The problem
//
// A hub keys a citizen by the normalized 12-digit personal ID number, or,
// for a capture without one, by a provisional key. A probable duplicate is
// two keys for one person: a re-enrollment whose ID number was mistyped,
// or that came without the card, usually with the errors of DOMAIN.md
// §5.5 — NFD, no diacritics, UPPERCASE, tone placement, hỏi/ngã, regional
// initials and finals (tr/ch, s/x, d/gi/v, n/ng, t/c), keystroke errors in
// any name part, Hoàng/Huỳnh, a middle name dropped or added, day/month
// swapped, a year-only or 01/01 date, a birth year one off, parents left
// out, a move to another household. What must stay apart: twins, siblings,
// a son named like his father, namesakes born the same year or day.
//
// # Use
//
//	ix := dedup.NewIndex(dedup.DefaultConfig())
//	ix.Put(dedup.Record{Key: key, Enrollment: e, Keys: enrollment.Keys(e), Region: district})
//	...
//	m, err := ix.Train(dedup.TrainConfig{}) // learn from these records
//	ix.SetModel(m)                           // every candidate pair decided again
//	for _, p := range ix.Pairs() {           // sorted by (A, B)
//		fmt.Println(p.A, p.B, p.Score, p.Model)
//		for _, e := range p.Evidence {
//			fmt.Printf("%+.1f %s / %s\n", e.Weight, e.VI, e.EN)
//		}
//	}
//
// Put adds or replaces a citizen, Delete removes one; both decide again
// only the pairs their blocks touch. PairsOf lists one citizen's pairs;
// Compare explains any two citizens, paired or not (the rule that holds
// them apart first). For a view that keeps its pairs elsewhere:
// EncodeProfile (a stored profile, computed outside any lock), PutProfile,
// Load (restart without comparing everyone again; the stored pairs, with
// their Extra, taken as already reported) and KeepJournal/Changes (which
// pairs to store or drop). Pair.Extra is a pair as a view stores it — the
// model, the points, each comparison's level and weight — and
// DecodeExtra renders it again (evidence in both languages) without the
// Index. Learn builds a second Index from stored profiles and learns from
// it, so a hub learns from a snapshot while its matcher goes on judging.
// An Index is not safe for concurrent use.
//
// # The model (model.go, compare.go)
//
// Twelve comparisons, each at one of a few levels (level 0, a side lacks
// the field, weighs nothing):
//
//	id              equal; one typo (a digit, or two adjacent swapped) in the random part,
//	                or in the head when one number fits both records; one typo in a head
//	                that fits neither; two typos; far apart
//	given, surname, equal NameKey; equal once folded, one record typed without diacritics;
//	middle          a tone left out or hỏi for ngã; other marks; regional variant
//	                (surname Hoàng/Huỳnh, Vũ/Võ; given name: the regional key of
//	                textsim.go; middle: one has none); middle names sharing a word;
//	                one keystroke apart where one side is no Vietnamese syllable (a
//	                typo: enrollment.IsSyllable); one letter apart between real
//	                syllables; Jaro–Winkler ≥ 0.88; different
//	dob             same full date; same partial date (year, month, 01/01); day/month
//	                swapped; same year, one knows less; year one off with the same
//	                day/month; same month; same year; year one off and partial; year
//	                one off otherwise; two or more years apart
//	sex, birth province, residence: equal / different
//	hometown        equal; same province (one gives only the province); different
//	father, mother  same (by ID number when both have one, else folded name); same
//	                given name only; different
//	household head  same; one heads their own household and the other lives in
//	                someone else's; different. Both heading their own: no evidence —
//	                two namesakes who head households "agree" on the head only
//	                because they agree on the name
//
// Names are tokenised the Vietnamese way: surname (two words for Tôn
// Thất, Nguyễn Phước, Âu Dương...), middle phrase, given name; folded with
// enrollment.FoldNameKey, the project's one accent fold (tests pin the
// blocking keys to enrollment.FoldKey).
//
// Each level has m (its chance between two records of one person) and u
// (between two people); its weight is log2(m/u), rounded to sixteenths of
// a bit so that every hub adds the same integers. Common name parts weigh
// less: a term-frequency table adds log2(u_avg/freq) for agreeing given
// names, surnames and middle names (Nguyễn, Văn, Thị, Hùng agree by
// chance far more often than Khổng or Lãm). A pair's points are the prior
// (log2 odds of a match among all pairs) plus the evidence; Score is
// 1/(1+2^-points), a probability; a pair is proposed from the model's
// threshold, 0 points (more likely than not).
//
// Evidence that says one thing counts once. The family comparisons
// (father, mother, household head) and the place comparisons (residence,
// hometown, birth province) each measure "one family", "one place" —
// which siblings and neighbours share as much as a person's two records;
// within each group only the strongest agreement and the strongest
// disagreement count (Evidence.Counted says which). The identity
// comparisons are summed.
//
// # Rules no weight overrides (rules.go)
//
//   - Two valid ID numbers (a province prefix, this or last century) more
//     than two typos apart are two people.
//   - Twins: one family (every parent both name agrees, or the same
//     household head), the same full date of birth, clearly different
//     given or middle names (Jaro–Winkler below 0.88 and not one keystroke
//     apart: "Phương Anh" and "Ngọc Anh" differ in the middle part), and no
//     ID number linking them.
//   - Parent and child: one record names the other as father, mother or
//     spouse, by ID number, or a parent by folded name when at least 14
//     years older.
//
// And one exclusion (Pairs): a pair is left out when one of its records
// has a strictly better pair with a third record that a rule holds apart
// from the other — a record of one twin matches both twins, the better
// match is kept.
//
// # Learning (train.go)
//
// Train learns a model from the records held, without labels: u from
// random pairs (records sorted by a hash of their key, each paired with
// the next ones: 2,000,000 pairs by default; the ID number's u among
// pairs of the same birth year and sex, whose head it is made of); term
// frequencies from every record; m by expectation maximisation within
// blocks, one session per blocking family, each leaving out what its key
// fixes (and taking the date's u among random pairs of the same year, or
// day and month, where the key holds those). The ID neighbours' session
// is the cleanest — a mistyped number says nothing of the rest of the
// record, and a non-match there is a random person of the same birth year
// and sex, not a clan cousin or a namesake — so its estimates are used
// for every comparison they rest on at least 100 expected matches; the
// others are averaged by the matches each session expects. m is floored
// at 1/512 (a field a generator never gets wrong, a register still does).
// The prior is the fixed point where the candidate pairs' posteriors add
// up to the matches the prior assumes. Sums run over sorted patterns,
// products are converted explicitly (no fused multiply-add), weights are
// rounded without a math library call: the same records give the same
// model on any machine (tested over 1,000 orders of arrival).
//
// A model is data (Model, JSON, ID = SHA-256 prefix of its encoding).
// DefaultModel, embedded, was learnt on 100,000 synth records
// (default_model.json, regenerated with `go test -run TestDefaultModel
// -update`). At a hub, the top tier learns from its view and publishes the
// model as a signed KindDedupModel entry; the model in force is the
// highest tier's, the newest among equals (Rule 10, a reconcile.Component
// in package hub: model.go), so weights
// travel with the data, and two hubs holding the same entries propose the
// same pairs with the same evidence. Every Pair names the model that
// judged it.
//
// # Blocking (blocking.go)
//
// Two records are compared only when they meet: ID numbers equal or one
// typo apart (found without trying all 119 neighbours: the tail's 59
// variants are looked up where the number's head keeps them together, the
// head's typos through a table by tail), or a shared block in one of six
// families, each keyed so that the errors the others cannot absorb keep
// the records together:
//
//	given-dob         folded given name + date of birth (day/month sorted)   surname errors
//	name-year         surname class + folded given name + year               date errors
//	name-daymonth     surname class + regional given name + day/month        year errors
//	surname-dob       surname class + date of birth                          given-name errors
//	parents-year      folded father's and mother's names + year              a child's name errors
//	regional-year     regional keys of surname and given name + year + sex   regional spellings
//
// A block over Config.MaxBlock (64) members is not compared as a whole:
// its members go one level down a chain of finer keys (day/month, sex,
// surname class or the given name's initial), where the same rule applies.
// Whether a block is over the limit depends only on how many records it
// holds, so the effective blocks, and the pairs, are a function of the
// set of records. Two errors in the key fields of every family (a typo in
// the given name and a year one off) escape blocking: TestBlockingRecall
// holds that to under 2% of the pairs the model would accept.
//
// # Memory
//
// A citizen is a 76-byte profile with no pointer (name parts as 4-byte
// tokens of a shared table, places as 16-bit hashes, relatives as 32-bit
// hashes), in fixed pages; blocks are sorted 8-byte entries (key, slot)
// in buckets; nothing is read from disk. Measured: 163 B of heap per
// citizen at 200,000 (the index's own estimate 154 B); BENCHMARKS.md has
// 1 M and 10 M.
//
// # Quality
//
// `fieldsync bench dedup` (internal/bench) compares, in one run, the
// learnt model, the default model, the detector before this one
// (internal/bench/legacydedup), the exact name + date of birth + sex
// match and Fellegi–Sunter with fixed textbook weights, on enrollment/synth
// and on altgen — an independent generator (another province, clan
// villages, its own name tables, households, noise kinds and rates) the
// model was not tuned on — at 100,000 records and three seeds each, with
// recall by noise kind and false positives by look-alike kind.
// BENCHMARKS.md has the figures.
package dedup
