package synth

// Weight tables. Every table cites the DOMAIN.md section it comes from and
// the claim marker there: [C] confirmed, [T] third-party data, [M] memory,
// [E] estimate. Weights are relative; rows are in a fixed order so draws are
// reproducible.

// surnameTable: Kinh surnames for Hà Tĩnh. DOMAIN.md §5.2: the
// "forebears-style 2022" column [T] (Nguyễn 31.5%, Trần 10.9%, …) nudged
// towards the classic figures [C] (Nguyễn ≈38%), giving ≈34% Nguyễn; the
// North-Central mixing of §5.2 keeps both Hoàng and Huỳnh, Vũ and Võ, with
// the Central forms Võ and Hoàng ahead [E]; Phan, Hồ and Thái raised for
// Nghệ-Tĩnh [E]. The long tail is the UIT sample of §5.2 [T] plus a few
// rarer surnames [M].
var surnameTable = []entry[string]{
	{"Nguyễn", 33}, {"Trần", 11}, {"Lê", 9}, {"Phạm", 5.5},
	{"Hoàng", 3.2}, {"Huỳnh", 0.9}, {"Võ", 3.4}, {"Vũ", 1.0},
	{"Phan", 4}, {"Trương", 2}, {"Bùi", 2}, {"Đặng", 2}, {"Đỗ", 1.5},
	{"Ngô", 1.5}, {"Hồ", 2.2}, {"Dương", 1.3}, {"Lý", 0.6},
	// UIT long tail, §5.2 [T]
	{"Đoàn", 1.2}, {"Đinh", 1.2}, {"Trịnh", 0.8}, {"Cao", 0.9}, {"Đào", 0.8},
	{"Mai", 0.8}, {"Lương", 0.7}, {"Lưu", 0.6}, {"Lâm", 0.4}, {"Hà", 0.6},
	{"Thái", 0.8}, {"Phùng", 0.4}, {"Tạ", 0.4},
	// rarer [M]
	{"Chu", 0.3}, {"Kiều", 0.2}, {"Tôn", 0.2}, {"Nghiêm", 0.2}, {"Văn", 0.2},
	{"Mạc", 0.1}, {"Lã", 0.1}, {"Từ", 0.2}, {"Khổng", 0.1}, {"Âu", 0.1},
	{"Doãn", 0.2}, {"Lục", 0.1}, {"Quách", 0.1},
}

// minoritySurnames by ethnicity code. DOMAIN.md §5.2 ethnic-minority
// surnames [T] for Thái ("03"); Lào ("37") shares the Tai surnames plus Vi
// [M]; Chứt ("44") in Hà Tĩnh mostly carry Kinh surnames given at
// resettlement, chiefly Hồ [M].
var minoritySurnames = map[string][]entry[string]{
	"03": {{"Lò", 3}, {"Lường", 2}, {"Quàng", 1}, {"Tòng", 1}, {"Cà", 1}, {"Lù", 1}, {"Lèm", 1}, {"Ngần", 1}},
	"37": {{"Lò", 2}, {"Vi", 2}, {"Lường", 1}, {"Ngần", 1}},
	"44": {{"Hồ", 5}, {"Đinh", 2}, {"Cao", 1}, {"Trần", 1}},
}

// cohortRow gives name-structure rates for people born up to Until.
type cohortRow struct {
	Until int     // last birth year of the cohort
	Van   float64 // share of men whose (first) middle name is Văn
	Thi   float64 // share of women whose (first) middle name is Thị
	Four  float64 // share of 4-syllable names
	Trad  float64 // share of given names drawn from the traditional list
}

// cohorts: DOMAIN.md §5.3 [T] gives Văn/Thị at 80–90% before 1945, falling
// to ~18% (Văn) and ~16% (Thị) for 2000s births; values between are
// interpolated [E]. 4-syllable names: §5.1 [T] measured 15.9% on a young
// sample; older cohorts get fewer [E]. Trad: older cohorts draw more from
// the traditional given-name lists below [E].
var cohorts = []cohortRow{
	{1944, 0.88, 0.90, 0.03, 0.85},
	{1959, 0.82, 0.86, 0.04, 0.75},
	{1969, 0.74, 0.80, 0.06, 0.60},
	{1979, 0.62, 0.68, 0.09, 0.40},
	{1989, 0.45, 0.50, 0.13, 0.20},
	{1999, 0.30, 0.32, 0.18, 0.10},
	{2009, 0.18, 0.16, 0.24, 0.05},
	{9999, 0.12, 0.10, 0.28, 0.03},
}

// twoSyllableShare: DOMAIN.md §5.1 [T], 1.2% of names have no middle name.
const twoSyllableShare = 0.012

// maleMiddles (other than Văn): DOMAIN.md §5.3 UIT sample [T] weights,
// with the Central flavour (Đức, Công, Thanh) raised [T]; Viết and Sỹ are
// Nghệ-Tĩnh middles [M].
var maleMiddles = []entry[string]{
	{"Minh", 5.5}, {"Hoàng", 4.3}, {"Ngọc", 2}, {"Thanh", 5}, {"Đức", 5},
	{"Quốc", 2.9}, {"Quang", 2.6}, {"Hữu", 3}, {"Đình", 3}, {"Xuân", 2.1},
	{"Thành", 2}, {"Duy", 1.9}, {"Anh", 1.9}, {"Trung", 1.8}, {"Công", 4},
	{"Tuấn", 1.4}, {"Trọng", 1.3}, {"Thế", 1.2}, {"Tiến", 1.1}, {"Mạnh", 0.9},
	{"Nhật", 0.8}, {"Việt", 0.8}, {"Huy", 0.8}, {"Chí", 0.7}, {"Hải", 0.6},
	{"Đăng", 0.6}, {"Bá", 0.6}, {"Viết", 1.2}, {"Sỹ", 1}, {"Khắc", 0.5},
}

// femaleMiddles (other than Thị): DOMAIN.md §5.3 [T] (Ngọc, Thanh, Hồng,
// Kim; Central Mỹ, Diệu) plus common female middles [M]; Thùy and Thúy
// carry the uy+tone that §5.5(3) is about.
var femaleMiddles = []entry[string]{
	{"Ngọc", 6}, {"Mỹ", 4}, {"Thu", 5}, {"Thanh", 4}, {"Hồng", 4}, {"Kim", 3},
	{"Minh", 3}, {"Phương", 3}, {"Diệu", 1}, {"Thùy", 3}, {"Thúy", 2}, {"Bảo", 2},
	{"Khánh", 2}, {"Hoài", 2}, {"Quỳnh", 2}, {"Hải", 2}, {"Như", 2}, {"Tuyết", 1},
	{"Bích", 2}, {"Lan", 1}, {"Hà", 2}, {"Huyền", 1}, {"Mai", 2}, {"Ánh", 1}, {"Cẩm", 1},
}

// maleGiven: DOMAIN.md §5.4 UIT sample, top given names with their
// percentages [T] (a young, mostly male sample), plus a few names [M].
var maleGiven = []entry[string]{
	{"Anh", 2.3}, {"Huy", 2.2}, {"Tuấn", 2.0}, {"Duy", 1.7}, {"Hoàng", 1.6},
	{"Nam", 1.6}, {"Minh", 1.4}, {"Hiếu", 1.4}, {"Dũng", 1.4}, {"Đạt", 1.4},
	{"Cường", 1.3}, {"Hùng", 1.3}, {"Tùng", 1.3}, {"Sơn", 1.3}, {"Thành", 1.2},
	{"Trung", 1.2}, {"Hải", 1.2}, {"Long", 1.2}, {"Vũ", 1.1}, {"Linh", 1.1},
	{"Nguyên", 1.1}, {"Đức", 1.1}, {"Tâm", 1.1}, {"Tiến", 1.1}, {"Phương", 1.0},
	{"Phúc", 1.0}, {"Thắng", 1.0}, {"Thịnh", 1.0}, {"Khoa", 1.0}, {"Vinh", 0.9},
	{"Hưng", 0.9}, {"Khánh", 0.9}, {"Quân", 0.8}, {"Tài", 0.8}, {"Trí", 0.8},
	{"An", 0.8}, {"Bảo", 0.8}, {"Phong", 0.8}, {"Toàn", 0.8}, {"Quang", 0.8},
	{"Nghĩa", 0.8}, {"Nhân", 0.8}, {"Việt", 0.7}, {"Thanh", 0.7}, {"Bình", 0.7},
	{"Lâm", 0.7}, {"Tú", 0.7}, {"Trường", 0.7},
	{"Hòa", 0.6}, {"Khang", 0.5}, {"Phát", 0.4}, {"Kiên", 0.5}, {"Lộc", 0.5},
}

// maleGivenTraditional: given names of older men in the North Central
// region [M]; weights decrease with rank (no frequency source, §5.4).
var maleGivenTraditional = zipf([]string{
	"Hùng", "Sơn", "Hải", "Dũng", "Bình", "Thắng", "Hòa", "Lợi", "Thanh",
	"Tâm", "Thành", "Đông", "Chiến", "Tiến", "Hưng", "Minh", "Long", "Quang",
	"Lương", "Hoan", "Toàn", "Phúc", "Đức", "Cường", "Nam", "Vinh", "Tuấn",
	"Kỳ", "Lộc", "Phú", "Quý", "Tình", "Luận", "Thủy",
}, 3)

// femaleGiven: the female list of DOMAIN.md §5.4 [T/M], which has no
// frequencies: weights decrease with rank (1/(rank+3)) as the brief asks.
var femaleGiven = zipf([]string{
	"Linh", "Anh", "Hương", "Trang", "Thảo", "Hà", "Lan", "Hoa", "Mai", "Ngọc",
	"Nhung", "Phương", "Thủy", "Hằng", "Huyền", "Hạnh", "Loan", "Yến", "Nga",
	"Hồng", "Dung", "Vân", "Oanh", "Thúy", "Quỳnh", "Nhi", "Vy", "Hiền", "Tâm",
	"Liên", "Xuân", "Nguyệt",
}, 3)

// femaleGivenTraditional: older rural women of Nghệ An/Hà Tĩnh, "Thị + one
// syllable" (DOMAIN.md §5.4 [M/E], e.g. Nguyễn Thị Hoa, Trần Thị Lài).
var femaleGivenTraditional = zipf([]string{
	"Hoa", "Lan", "Hương", "Hồng", "Hà", "Mai", "Lài", "Thủy", "Nga", "Hạnh",
	"Liên", "Cúc", "Đào", "Hường", "Tuyết", "Sen", "Hòa", "Lý", "Thơm", "Huệ",
	"Loan", "Xuân", "Dung", "Vân", "Nhung", "Tâm", "Yến", "Thúy", "Hằng",
	"Oanh", "Nguyệt", "Thanh",
}, 3)

// Compound given names for young cohorts: DOMAIN.md §5.3 modern examples
// [T] (Gia Huy, Minh Khang, Bảo Ngọc, An Nhiên) and similar [M].
var (
	maleCompound = zipf([]string{"Gia Huy", "Minh Khang", "Gia Bảo", "Minh Quân",
		"Anh Khoa", "Đức Anh", "Minh Đức", "Bảo Long", "Quốc Bảo", "Hoàng Nam"}, 2)
	femaleCompound = zipf([]string{"Bảo Ngọc", "An Nhiên", "Khánh Linh", "Ngọc Anh",
		"Bảo Anh", "Gia Hân", "Minh Anh", "Phương Anh", "Thùy Linh", "Hà My"}, 2)
)

// compoundFrom: compound given names appear for births from this year [E].
const compoundFrom = 1995

// prefixTable: ID-number prefix = birth-registration province. DOMAIN.md
// §1.5 [E]: mostly 042 for a Hà Tĩnh commune, with a 5–15% tail from the
// neighbours 040 Nghệ An and 044 Quảng Bình and the big cities 001 and 079;
// other rows are plausible migration sources [E]. Expected 042 share ≈ 0.89.
var prefixTable = []entry[string]{
	{"042", 89}, {"040", 4.2}, {"044", 1.3}, {"038", 0.8}, {"045", 0.4},
	{"046", 0.4}, {"048", 0.4}, {"001", 1.2}, {"079", 1.2}, {"074", 0.6},
	{"075", 0.3}, {"031", 0.3}, {"036", 0.2}, {"066", 0.2},
}

// bornAwayTable: where children were born when their parents were working
// away (the migrant-worker destinations) [E].
var bornAwayTable = []entry[string]{
	{"079", 4}, {"074", 3}, {"001", 2}, {"075", 1}, {"040", 2}, {"048", 1},
}

// bornAwayShare: share of households whose children were registered at
// birth outside Hà Tĩnh [E].
const bornAwayShare = 0.05

// decree70Share: originals whose ID number encodes another year or sex,
// DOMAIN.md §0.3 and §1.5 [E]: 0.5–1%. Split 3:1 between year and sex.
const (
	decree70YearShare = 0.006
	decree70SexShare  = 0.002
)

// default0101Share: DOMAIN.md §2.4 [C] (unknown birth dates default to
// 01/01) and §5.5 [E] (3–5% among people born before 1960).
const (
	default0101Share  = 0.04
	default0101Before = 1960
	yearOnlyShare     = 0.005 // partial DOBs among the elderly, §2.6 [E]
	yearOnlyBefore    = 1950
)

// Natural surface variation in originals, at the base rates of the
// DOMAIN.md §5.5 noise mix [E]. These change no identity (the truth file
// lists them as quirks), so a detector cannot use "has a defect" as a
// duplicate signal.
const (
	quirkNFDShare        = 0.04  // §5.5: NFD instead of NFC 3–5%
	quirkSpacesShare     = 0.02  // §5.5: double or trailing spaces 2%
	quirkNoDiacritics    = 0.015 // §5.5: missing diacritics 1–2%
	quirkUppercaseShare  = 0.02  // §5.5(7): typed from the UPPERCASE card [E]
	quirkNewToneShare    = 0.15  // §5.5(3): 10–20% of oa/oe/uy+tone names use "new" style
	quirkMissingIDShare  = 0.003 // came without card or notification [E]
	quirkCurrentElsewher = 0.03  // current residence in another commune [E]
)

// ethnicMinority gives, per 2023-list commune code, the share of households
// of an ethnic minority and the mix of groups. DOMAIN.md §3.1 [E]: Hà Tĩnh
// ≈99.5% Kinh with a small tail of Chứt/Lào/Thái in the western mountain
// communes of Hương Khê (444) and Hương Sơn (439). Which communes: the
// border communes Sơn Kim 1/2 and Sơn Hồng (Thái, Lào) and Hương Liên,
// home of the Chứt (Rục) [M]. 2025 units take the mean over constituents.
var ethnicMinority = map[string]float64{
	"18196": 0.45, "18199": 0.30, "18139": 0.05, // Hương Sơn: Sơn Kim 1, Sơn Kim 2, Sơn Hồng
	"18559": 0.40, "18547": 0.08, "18541": 0.05, "18556": 0.08, // Hương Khê: Hương Liên, Phúc Trạch, Hương Vĩnh, Hương Lâm
}

// minorityMixHuongSon / minorityMixHuongKhe: which group a minority
// household belongs to [E]; codes of DOMAIN.md §3.1.
var (
	minorityMixHuongSon = []entry[string]{{"03", 5}, {"37", 4}, {"44", 1}}
	minorityMixHuongKhe = []entry[string]{{"44", 17}, {"03", 2}, {"37", 1}}
)

// westernBackground: other communes of the old districts 439 and 444 have a
// trace of minority households [E].
const westernBackground = 0.005

// catholicByDistrict: share of Catholic households by old (2023) district.
// DOMAIN.md §3.2 [M/E]: ≈10% in the coastal and southern communes, not
// uniform. Coastal/southern: Nghi Xuân 442, Thạch Hà 445, Cẩm Xuyên 446,
// Kỳ Anh 447, Lộc Hà 448, TX Kỳ Anh 449. A per-commune multiplier
// (catholicSpread) concentrates them in parish communes.
var catholicByDistrict = map[string]float64{
	"436": 0.04, "437": 0.03, "439": 0.03, "440": 0.03, "441": 0.02, "443": 0.04, "444": 0.06,
	"442": 0.12, "445": 0.10, "446": 0.12, "447": 0.10, "448": 0.12, "449": 0.10,
}

// catholicSpread: multipliers (mean 1) picked per commune by a hash of its
// code, so parishes are concentrated [E].
var catholicSpread = []float64{0.2, 0.5, 0.8, 1.0, 1.3, 2.2}

// Other religions, household level [E]: Hà Tĩnh has fewer Buddhists than
// the 4.8% national figure of §3.2 [C]; Protestants are rare.
const (
	buddhistShare   = 0.018
	protestantShare = 0.001
)

// communeTypeWeight: relative population by unit type (urban wards and
// townships are denser) [E]; each commune also gets a stable jitter.
var communeTypeWeight = []struct {
	Prefix string
	W      float64
}{{"Phường", 1.5}, {"Thị trấn", 1.4}, {"Xã", 1.0}, {"Đặc khu", 0.8}}

// bloodTypes: recorded only on request with a test result (DOMAIN.md
// §2.6 [C]); Vietnamese ABO mix [M].
var bloodTypes = []entry[string]{{"O", 42}, {"B", 30}, {"A", 21}, {"AB", 7}}

const bloodTypeShare = 0.05

// requestTypes: DOMAIN.md §2.4 item 22 [M]; mostly cấp mới (brief).
var requestTypes = []entry[string]{{"cấp mới", 85}, {"cấp đổi", 12}, {"cấp lại", 3}}

// Occupations by age [E] (the form's item 15, DOMAIN.md §2.4).
var (
	jobsYoung = []entry[string]{{"Sinh viên", 45}, {"Công nhân", 25}, {"Lao động tự do", 20}, {"Nông dân", 10}}
	jobsAdult = []entry[string]{{"Nông dân", 45}, {"Công nhân", 12}, {"Buôn bán", 10}, {"Lao động tự do", 14},
		{"Cán bộ, công chức", 6}, {"Giáo viên", 4}, {"Nội trợ", 5}, {"Lực lượng vũ trang", 1}}
	jobsOld = []entry[string]{{"Nông dân", 50}, {"Hưu trí", 25}, {"Nội trợ", 10}, {"Không", 15}}
)

// coastal marks the old districts on the sea [M] (fishing communes).
var coastal = map[string]bool{"442": true, "445": true, "446": true, "447": true, "448": true, "449": true}
