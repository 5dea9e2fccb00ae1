// Package dedup finds probable duplicates among a hub's citizens: two
// citizen keys that look like the same person, each pair with a score and
// the reasons an officer reviews. It is pure: no I/O, no clock, no
// goroutines, and what it returns is a function of the set of records it
// holds, whatever the order they came in.
//
// # The problem
//
// A hub keys a citizen by the normalized 12-digit personal ID number, or,
// for a capture without one, by a provisional key. Records under one key
// are one citizen (the reconciler settles their disagreements). A
// probable duplicate is two keys for one person: a re-enrollment whose ID
// number was mistyped (two digits swapped, one digit wrong; a lost leading
// zero is already put back by enrollment.Keys), or that came without the
// card (provisional), usually with the name and date noise of DOMAIN.md
// §5.5: NFD, no diacritics, UPPERCASE, tone placement (hòa/hoà), double
// spaces, Hoàng/Huỳnh, Vũ/Võ, a dropped middle name, a day/month swap, a
// year-only date, the 01/01 default.
//
// # Use
//
//	ix := dedup.NewIndex(dedup.DefaultConfig())
//	ix.Put(dedup.Record{Key: key, Enrollment: e, Keys: enrollment.Keys(e), Region: district})
//	...
//	for _, p := range ix.Pairs() { // sorted by (A, B)
//		fmt.Println(p.A, p.B, p.Score, p.Reasons)
//	}
//
// Put adds or replaces a citizen (the view's displayed version may
// change), Delete removes one; both re-score only the pairs their blocks
// touch. PairsOf lists one citizen's pairs; Compare scores any two records
// (for tests and the review UI). An Index is not safe for concurrent use.
//
// # Blocking
//
// Records are compared only when they meet: their ID numbers are one typo
// apart, or they share a block in one of five families. Each family
// catches what the others miss:
//
//   - ID neighbours: the numbers one digit away (108) or with two adjacent
//     digits swapped (11), found without trying them all (idtable.go): a
//     typo in the random tail keeps the PPPGYY head, so the tail's 59
//     variants are looked up in that head's own small map; a typo in the
//     head keeps the tail, so the records sharing the tail (about one at a
//     province's size) are checked. This catches the typos whatever the
//     name and date noise, at one table entry per record (the deletion
//     neighbourhood would need 12). Insertions and deletions of digits
//     cannot reach it: enrollment.Keys keeps only 12-digit numbers.
//   - name-year-hometown: surname class (huỳnh→hoàng, võ→vũ, folded) +
//     folded given name + birth year + hometown. Folding absorbs NFD,
//     case, spaces, tones and lost diacritics; the class absorbs the
//     regional surnames; no middle name (it may be dropped) and no day or
//     month (they may be swapped, defaulted or missing). The hometown
//     (quê quán, a fixed legal attribute) keeps blocks small: among a
//     million records a record's block holds 1.3 records on average,
//     where name + year alone would hold 55.
//   - name-middle-year: the same name key with the folded middle name
//     instead of the hometown, for a hometown captured differently (11.9
//     on average at 1M).
//   - given-dob: folded given name + full date of birth with day and month
//     in sorted order (so a swap meets), for a misspelt or changed
//     surname or middle name.
//   - name-daymonth: folded full name + sorted day/month without the year,
//     for a mistyped birth year. The 01/01 default is no date here.
//   - parents-year: folded father's and mother's names + birth year, for a
//     child's misspelt given name.
//
// # A limit on everything: MaxBlock, order-independent
//
// A block with more than Config.MaxBlock members (default 64) is not
// compared as a whole: its members go one level down a chain of finer
// keys (the name blocks add the sorted day/month, then the sex; the
// others the sex), where the same rule applies. A record's effective
// block is the coarsest of its blocks that is within the limit; a record
// whose finest block is still too big meets no one in that family and is
// counted in Stats.Skipped. Whether a block is over the limit depends only
// on how many records it holds, so the effective blocks, and hence the
// pairs, are a function of the set of records: no "first N inserted".
// When a Put or Delete makes a block cross the limit, the pairs among its
// members (at most MaxBlock+1 of them) are re-decided: about 2,000
// comparisons at the default, the most one call can cost per family and
// level. The finer blocks exist only under an oversized one. On generated
// Hà Tĩnh data no block reaches the limit at 100,000 records; at
// 1,000,000, 418 blocks do (4.5% of the records sit in an oversized
// name-middle-year block and meet there through the day/month), and no
// record is skipped.
//
// # Determinism
//
// Pairs() is a pure function of the set of records present: the
// candidate rule (ID neighbours, or the same effective block) and the
// score read nothing else, the evidence is symmetric (tested) and a pair
// is written in key order, and every output is sorted; no map iteration
// order reaches an output. Scores are exact on every machine: points are integers and
// Score = 1/(1+2^-points) needs only Ldexp, an addition and a division,
// all correctly rounded. Tests insert the same records in 100 random
// orders with replaced versions and deletions, with the default limit and
// with MaxBlock 2, and compare Pairs() with deep equality; a quadratic
// oracle (the score of every two records) checks that blocking loses no
// pair the score accepts.
//
// # The score
//
// Evidence is added up in points, log2 odds (one point doubles the odds
// that the two records are one person), starting from a prior of -13 for
// a pair that met in a block. Weights (compare.go):
//
//	ID numbers      equal +12; one typo +9 (a digit or an adjacent swap in the random
//	                part, or in the province/century/year digits when one of the two
//	                numbers fits both records' birth year, sex and province: the other
//	                was mistyped); one typo that both records contradict +3; two typos
//	                0 (two mistyped copies of one number); missing 0; further apart -14
//	                (two cards, two people); the one number present contradicts the
//	                other record's year, sex or province -3
//	relation        one names the other as father, mother or spouse (by ID number, or by
//	                name and full date of birth) -24: the son named like his father
//	given name      equal +4; equal without diacritics, one side typed without them +3;
//	                different -16 (twins have everything else in common)
//	surname         equal +2; Hoàng/Huỳnh, Vũ/Võ 0; different -6
//	middle name     equal +1; one dropped 0; different -3
//	date of birth   equal +6 (+3 for 01/01 or year/month only); day/month swapped +4;
//	                year only or the 01/01 default against a full date +1; another day
//	                -6; another year -10
//	sex             equal +1, different -6
//	birth province  equal +1, different -2
//	parents         +2 per parent equal, -4 per parent different (by ID number when
//	                both have one, else by folded name)
//	hometown        equal +1, different -1
//	household head  equal +5, different -3
//
// The given name outweighs the family on purpose: a twin without an ID
// number agrees on everything but the given name and must stay apart
// (-8). The household head is the strongest family evidence: a namesake
// (same common name, birth year and commune) lives in another household.
// A pair is proposed when Score ≥ Config.Threshold, default 0.5: at least
// 0 points, more likely than not. Worked examples:
//
//	ID one digit off, all else equal                       +21
//	no ID, same name and date, same household              +8 (+12 with both parents)
//	no ID, year-only date, same household                  +3
//	no ID, Vũ/Võ and 01/01, same household                 +1
//	namesake without ID, same full date, other household   -2
//	twin without ID                                        -8
//	son named like his father                              below -30
//
// Reasons are stable codes (Reason*), in the fixed order of ReasonOrder:
// what agrees and what disagrees, one code per line of the table above.
//
// # Cost
//
// Put costs what its record's blocks hold, not what the Index holds:
// up to five block keys and one ID-table entry per record, a comparison per
// member met. go test -bench 'Put|Pairs' -args -dedup.1m, on a shared
// 2-core machine with other jobs running (best and typical of several
// runs):
//
//	records    ns per Put       comparisons per Put   pairs    Pairs()
//	10,000     3,600 - 9,000    0.09                  189      0.08 ms
//	100,000    6,600 - 12,000   0.76                  1,930    0.8 ms
//	1,000,000  15,000 - 25,000  5.75                  19,797   17-35 ms
//
// Per Put: about 10 allocations, 1.45 kB allocated; the Index holds about
// 1.1 kB per record. The growth from 10,000 to 1,000,000 is the blocks of
// the commonest names filling up towards MaxBlock (which bounds it) and
// the tables outgrowing the caches, not a scan of the population.
//
// # Quality
//
// `fieldsync bench dedup --n 100000 --noise 0.05 --seed S` generates a
// population with synth, drops what enrollment.Validate rejects, keys the
// rest into citizens as a hub does and compares Pairs() with the truth.
// On seeds 1, 2 and 3: precision 1.0000, 1.0000, 1.0000; recall 0.9995,
// 1.0000, 1.0000 (1,931, 1,941 and 2,063 true pairs), against 0.92/0.63
// for the exact name + date of birth + sex match. The one pair missed is
// not findable here: a mistyped ID number that is another person's real
// number, so the re-enrollment sits under that person's key (a conflict
// for the reconciler). synth keeps parents, household head and hometown
// exact across re-enrollments, which real data will not always do: with
// those fields blanked the detector still has precision 0.998 and recall
// 0.948.
package dedup
