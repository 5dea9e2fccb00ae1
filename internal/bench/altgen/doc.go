// Package altgen is a second generator of enrollments with ground truth,
// written apart from enrollment/synth so that the duplicate detector is
// judged on data it was not tuned on. It shares nothing with synth but the
// enrollment types: its own population model, name tables, household
// structure, noise model and rates, as another team would have written
// it. It lives in the bench harness, not in the shipped generator.
//
// # What differs from synth
//
//   - Province: Nghệ An (ID prefix 040), 48 communes with clan villages:
//     each commune has two or three dominant lineages (dòng họ) holding
//     about half its people, so local namesakes are far commoner than the
//     provincial name table says. Places are mostly text ("Xã Diễn Hải,
//     Huyện Diễn Châu, Tỉnh Nghệ An"), a hometown often only a province;
//     residences carry commune codes outside Hà Tĩnh's compiled list.
//   - Names: Nguyễn 26%, Hồ 8% (a Nghệ An name), Trần, Lê, Phan, Đặng,
//     Thái, Cao...; sons of a generation share a lineage middle name
//     (Đình, Hữu, Bá, Khắc, Văn) in most families; compound given names
//     for the young; its own given-name lists and weights.
//   - Households: three generations in a third of them (grandparents, a
//     married son with his wife and children), 4–5 people on average;
//     twins at 2% of births; sons named like their father or grandfather.
//   - Noise (a re-enrollment, 6% of records by default, drawn from anyone
//     enrolled so far, not only recent people): each kind independently
//     with its own rate — ID absent 18%, one digit 9%, two adjacent digits
//     swapped 6%; a vowel's quality mark lost (ư→u, ơ→o, â→a: old paper
//     registers) 7%, one syllable's tone lost 6%, hỏi/ngã 5%, the given name
//     misspelt (a vowel or consonant heard or typed another way) 8%, the
//     middle name missing 6% or extra 3%, Hoàng/Huỳnh and Vũ/Võ 2%, all
//     marks lost 4%, UPPERCASE 10%; the birth year ±1 4%, day/month
//     swapped 3%, only year and month 2%, 01/01 2%; the parents left out
//     25% or typed without marks 10%; a move (another residence and
//     household head) 12%; the hometown given as the province only 15%;
//     the sex keyed wrong 0.5%. At least one of name, ID number and date
//     of birth differs from the first record.
//   - Hard negatives built on purpose: twins (same parents and date,
//     different given names), siblings, sons named exactly like their
//     father, unrelated namesakes born the same day and namesakes born
//     the same year (0.3% of people each), in the same commune or not.
//
// # Use
//
//	recs, err := altgen.Generate(altgen.Config{Records: 100000, Seed: 1})
//
// Each Record carries the Enrollment, the Person it is of (records with
// the same Person are one citizen), the noise kinds of a re-enrollment
// and, for a look-alike, its kind and the Person it was built after. The
// same Config gives the same records (math/rand/v2 PCG, ordered tables).
package altgen
