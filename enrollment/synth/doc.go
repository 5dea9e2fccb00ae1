// Package synth generates deterministic synthetic enrollments of a
// simulated Hà Tĩnh province, with ground truth, for imports, the demo,
// benchmarks and the evaluation of the hubs' duplicate detection.
//
// # Use
//
//	stats, err := synth.Generate(os.Stdout, truthFile, synth.Config{
//		Count: 20000, Seed: 42, Noise: 0.05,
//	})
//
// writes 20,000 JSON lines (one enrollment.Enrollment each) and, line for
// line, a TruthRecord per record. For streaming use New and Next; Next
// holds constant memory in Count apart from bounded state (the current
// household, 2,048 re-enrollment candidates, 8 recent adults per commune,
// one counter per ID-number bucket). The same Seed and Config give
// byte-identical output: all randomness comes from math/rand/v2 PCG
// sources seeded from Seed, tables are ordered slices, and maps are only
// looked up, never iterated into the output.
//
// # Config
//
// Count records in total, of which round(Noise×Count) are re-enrollments
// (Noise ≤ 0.5). CodeList defaults to enrollment.CodeList2025 (69
// communes; capture times from 2025-07-01, the list's first day, which is
// also the default Start); enrollment.CodeList2023 gives the 216 communes
// of the 2021–2023 chip-ID campaign, with Start (default 2023-03-01, the
// last push before Hà Tĩnh finished on 10 May 2023) in
// [2021-01-01, 2025-01-01): New rejects a Start, or a Count so large that
// the campaign would run, outside that window. Commune restricts capture to
// one commune (a code of either list; a 2023-only code selects the 2023
// list). Devices and Officers per commune default to 2 and 6.
//
// # Realism (DOMAIN.md sections cited next to each table in tables.go)
//
//   - Households (household.go): nuclear families, three generations,
//     a grandparent living in, elderly couples, widows alone, single adults
//     and single mothers; ≈3.4 members on average (§7 item 4: ≈3.5).
//     Relations, household head, spouse and parents (with their ID numbers
//     and dates of birth) are consistent; children carry the father's
//     surname, wives keep theirs, parents are 18–45 years older.
//     Everyone has an ID number, enrolled or not; people under 14 are not
//     enrolled (a few 6–13 year-olds are, from 2024-07-01); about 5.7% of
//     eligible people are absent (§6.1: 5.6% in Thạch Kênh), mostly young
//     adults working away, and simply never appear.
//   - Names (§5.1–§5.4): surnames ≈34% Nguyễn with both Hoàng/Huỳnh and
//     Vũ/Võ; Văn/Thị by birth cohort (≈85% before 1960, 16–18% for the
//     2000s); 2/3/4 syllables; compound given names and the mother's
//     surname as a middle name for younger people; siblings often share a
//     middle name; ≈15% of names with an oa/oe/uy tone use the "new" style.
//   - Ethnicity (§3.1): ≈99.4% Kinh; Chứt, Thái and Lào households only in
//     the western mountain communes of Hương Sơn and Hương Khê, with their
//     own surnames (§5.2). Religion (§3.2): mostly "Không"; Catholics
//     concentrated in coastal and southern parishes (≈10% there, 0–28% by
//     commune), a few Buddhists and Protestants.
//   - ID numbers (§1.1–§1.5): prefix of the birth-registration province
//     (≈90% 042, the rest neighbours and the cities migrants come from),
//     century/sex digit, year, and six digits from a keyed permutation, so
//     numbers are unique in the universe by construction. 0.8% encode
//     another year or sex (Decree 70/2024): validators warn on them.
//   - Places: birth registration and hometown in the historical 2023 list
//     (commune level in Hà Tĩnh, province level elsewhere); residences and
//     capture communes in the configured list, text exactly as published
//     ("Xã Đông Kinh, Tỉnh Hà Tĩnh"; "Xã Thạch Kênh, Huyện Thạch Hà, Tỉnh
//     Hà Tĩnh"). 01/01 dates of birth for ≈4% of people born before 1960.
//   - Capture (§6.1–§6.2, §6.4; schedule.go): each device has a clock that
//     fills station-days: peak weeks (the first, then ≈30%) run 7 days on
//     2–3 shifts plus night sessions with 250–400 captures a day; normal
//     days run day shifts (evenings on a quarter of them, some weekends)
//     with 60–120. Officers "CA<commune>-NN", devices 16 hex digits (as
//     replication.DeviceID), both stable across seeds. Biometrics are a
//     dossier per capture (Record.Blobs, blobs.go): portrait, 10 rolled
//     prints, 3 slaps, irises from 2024-07-01 and a signature, at the
//     sizes of §6.4, each file's bytes made on demand (BlobSpec.Bytes:
//     noise inside a real JPEG, JPEG 2000, WSQ or PNG container, no
//     identity signal); a finger that could not be taken has an exception
//     code. The records themselves carry no biometric references: a
//     capture computes them from the files.
//
// # Noise
//
// A re-enrollment (noise.go) is a recent original's person enrolled again
// 1–45 days later on another device, or, for 20% of them, in another
// commune after moving (current residence, sometimes permanent too). It
// carries 1–3 defects, drawn so that it always differs from its original in
// the name, ID number or date of birth:
//
//   - ID (half of re-enrollments): id_missing (no card: provisional
//     record), id_transposed, id_digit_mistyped (both in digits 4–12, so
//     the prefix stays valid), id_lost_zero (a spreadsheet stripped the
//     leading zero: 11 digits, which the validator reads back 0-padded
//     with a warning; only for prefixes 010–096) and id_digit_dropped (11
//     digits starting with 0: the one defect the validator rejects, as an
//     unvalidated import would be; 3% of ID defects). About 50% of
//     re-enrollments keep their ID number (same-key conflicts at the hub),
//     ≈58% counting the lost zeros.
//   - Name: nfd, no_diacritics, tone_style, spaces, uppercase,
//     surname_variant (Hoàng↔Huỳnh, Vũ↔Võ), middle_dropped, middle_added
//     (Văn/Thị or another middle name), keystroke errors (given_typo,
//     middle_typo, surname_typo: a letter dropped, doubled, swapped or
//     replaced by a QWERTY neighbour), hoi_nga (hỏi and ngã exchanged:
//     Dũng/Dủng) and regional_spelling (an initial or final heard another
//     way: tr/ch, s/x, d/gi/v, n/ng, t/c), DOMAIN.md §5.5 items 9–10.
//   - Date of birth: dob_day_month_swapped (both ≤ 12),
//     dob_year_only, dob_default_0101, dob_year_off (±1: lunar age).
//   - Family: parents_omitted (father, mother or both left out),
//     household_moved (the person now heads a household in another
//     commune).
//
// A matcher on the normalized ID or on folded name + date of birth finds
// ≈90% of re-enrollments; the rest need fuzzier evidence (relatives,
// hometown, a transposed ID). Originals also carry the §5.5 base rates of
// surface variation (NFD 4%, spaces 2%, no diacritics 1.5%, uppercase 2%,
// no ID 0.3%), listed as quirks, so that "has a defect" is no duplicate
// signal. Hard negatives are built in: namesakes (≈0.4% of records: the
// name and birth year of a recent neighbour of the same sex, born within 4
// years; a quarter of them born the very same day: namesake_same_day),
// twins (same parents and date of birth) and sons named exactly like
// their fathers; SimilarTo names the earlier look-alike. Common names
// add their own: among 95,000 originals, ≈1,200 pairs of different people
// share a folded name, birth year and commune, and ≈130 a folded name and
// full date of birth.
//
// # Truth
//
// The truth file has one JSON object per output line:
//
//	{"line":7,"person":"p0000006","household":"h0000003","duplicate_of":2,
//	 "noise":["id_transposed","nfd"],"quirks":["moved"],"similar_to":0}
//
// Records with the same person are the same citizen; duplicate_of is the
// line of the person's first record (0 for an original). Quirks are natural
// variation (nfd, spaces, no_diacritics, uppercase, tone_style, id_missing,
// dob_default_0101, dob_year_only), Decree 70 IDs (decree70_year,
// decree70_sex), hard negatives (namesake, namesake_same_day, twin,
// junior), under_14,
// current_elsewhere, and for re-enrollments moved and moved_permanent.
package synth
