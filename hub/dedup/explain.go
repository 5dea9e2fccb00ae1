package dedup

// What an officer reads: each comparison level and each rule has a stable
// code and a sentence in Vietnamese and English.

// text is a code with its Vietnamese and English sentences.
type text struct{ code, vi, en string }

// comparisonNames name the comparisons in a Model and in Evidence.
var comparisonNames = [numCmp]string{"id", "given", "surname", "middle", "dob", "sex", "birth_province",
	"hometown", "residence", "father", "mother", "household_head"}

// levelTexts[c][l] explains level l of comparison c ("" code: the level
// does not exist for c, or is "unknown", which weighs nothing).
var levelTexts = [numCmp][maxLevels]text{
	cmpID: {
		idEqual:       {"id-equal", "Cùng số định danh", "Same ID number"},
		idOneTypo:     {"id-one-typo", "Số định danh lệch một chữ số hoặc hai chữ số liền kề đảo chỗ", "ID numbers one digit or one adjacent swap apart"},
		idOneTypoHead: {"id-one-typo-head", "Số định danh lệch một lỗi ở phần tỉnh/thế kỷ/năm, không khớp cả hai bản ghi", "ID numbers one typo apart in the province/century/year digits, which fit neither record"},
		idTwoTypos:    {"id-two-typos", "Số định danh lệch hai lỗi gõ", "ID numbers two typos apart"},
		idFar:         {"id-far", "Hai số định danh khác hẳn nhau", "ID numbers far apart"},
	},
	cmpGiven: {
		nameEqual:    {"given-equal", "Tên trùng nhau", "Same given name"},
		nameBareFold: {"given-no-diacritics", "Tên giống nhau khi bỏ dấu (một bản ghi gõ không dấu)", "Same given name without diacritics (one record typed without them)"},
		nameTone:     {"given-tone", "Tên chỉ khác thanh hỏi/ngã hoặc thiếu dấu thanh", "Given names differ only by hỏi/ngã or a missing tone mark"},
		nameMarks:    {"given-marks", "Tên giống nhau khi bỏ dấu nhưng khác dấu", "Given names alike without diacritics, with other marks"},
		nameVariant:  {"given-regional", "Tên khác nhau theo cách viết vùng miền (tr/ch, s/x, d/gi/v, n/ng, t/c, i/y)", "Given names differ by a regional spelling (tr/ch, s/x, d/gi/v, n/ng, t/c, i/y)"},
		nameTypo:     {"given-typo", "Tên lệch một lỗi gõ, một bên không phải âm tiết tiếng Việt", "Given names one keystroke apart, one of them no Vietnamese syllable: a typo"},
		nameOneEdit:  {"given-one-edit", "Tên lệch một chữ cái, cả hai đều là tên có thật", "Given names one letter apart, both real names"},
		nameSimilar:  {"given-similar", "Tên gần giống nhau", "Given names similar"},
		nameDiffers:  {"given-differs", "Tên khác nhau", "Different given names"},
	},
	cmpSurname: {
		nameEqual:    {"surname-equal", "Họ trùng nhau", "Same surname"},
		nameBareFold: {"surname-no-diacritics", "Họ giống nhau khi bỏ dấu (một bản ghi gõ không dấu)", "Same surname without diacritics (one record typed without them)"},
		nameTone:     {"surname-tone", "Họ chỉ khác thanh hỏi/ngã hoặc thiếu dấu thanh", "Surnames differ only by hỏi/ngã or a missing tone mark"},
		nameMarks:    {"surname-marks", "Họ giống nhau khi bỏ dấu nhưng khác dấu", "Surnames alike without diacritics, with other marks"},
		nameVariant:  {"surname-variant", "Họ tương đương theo vùng miền (Hoàng/Huỳnh, Vũ/Võ)", "Regional surname variants (Hoàng/Huỳnh, Vũ/Võ)"},
		nameTypo:     {"surname-typo", "Họ lệch một lỗi gõ, một bên không phải âm tiết tiếng Việt", "Surnames one keystroke apart, one of them no Vietnamese syllable: a typo"},
		nameOneEdit:  {"surname-one-edit", "Họ lệch một chữ cái hoặc theo cách viết vùng miền", "Surnames one letter apart, or a regional spelling"},
		nameDiffers:  {"surname-differs", "Họ khác nhau", "Different surnames"},
	},
	cmpMiddle: {
		nameEqual:    {"middle-equal", "Tên đệm trùng nhau", "Same middle name"},
		nameBareFold: {"middle-no-diacritics", "Tên đệm giống nhau khi bỏ dấu", "Same middle name without diacritics"},
		nameTone:     {"middle-tone", "Tên đệm chỉ khác dấu thanh", "Middle names differ only by a tone mark"},
		nameMarks:    {"middle-marks", "Tên đệm giống nhau khi bỏ dấu nhưng khác dấu", "Middle names alike without diacritics, with other marks"},
		nameVariant:  {"middle-missing", "Một bản ghi không có tên đệm", "One record has no middle name"},
		nameSubset:   {"middle-shares-word", "Tên đệm có chung một chữ (một bên thiếu hoặc thêm chữ)", "Middle names share a word (one lacks or adds words)"},
		nameTypo:     {"middle-typo", "Tên đệm lệch một lỗi gõ, một bên không phải âm tiết tiếng Việt", "Middle names one keystroke apart, one of them no Vietnamese syllable: a typo"},
		nameOneEdit:  {"middle-one-edit", "Tên đệm lệch một chữ cái hoặc theo cách viết vùng miền", "Middle names one letter apart, or a regional spelling"},
		nameDiffers:  {"middle-differs", "Tên đệm khác nhau", "Different middle names"},
	},
	cmpDOB: {
		dobExact:        {"dob-equal", "Cùng ngày sinh", "Same date of birth"},
		dobExactWeak:    {"dob-equal-partial", "Cùng ngày sinh nhưng chỉ có năm, tháng hoặc ngày mặc định 01/01", "Same date of birth, but only a year, a month or the 01/01 default"},
		dobSwapped:      {"dob-day-month-swapped", "Ngày và tháng sinh đảo chỗ", "Day and month of birth swapped"},
		dobCompatible:   {"dob-compatible", "Cùng năm sinh; một bản ghi biết ít hơn (chỉ năm, chỉ tháng, 01/01)", "Same birth year; one record knows less (year, month or 01/01 only)"},
		dobYearOff:      {"dob-year-off", "Cùng ngày tháng, năm sinh lệch một năm", "Same day and month, birth year one off"},
		dobSameMonth:    {"dob-same-month", "Cùng tháng năm sinh, khác ngày", "Same month and year of birth, another day"},
		dobSameYear:     {"dob-same-year", "Cùng năm sinh, khác ngày tháng", "Same birth year, another day and month"},
		dobYearOffWeak:  {"dob-year-off-partial", "Năm sinh lệch một năm; một bên chỉ có năm (hoặc tháng, hoặc 01/01)", "Birth year one off; one side knows only the year (or month, or 01/01)"},
		dobYearOffOther: {"dob-year-off-other", "Năm sinh lệch một năm, khác ngày tháng", "Birth year one off, another day or month"},
		dobDiffers:      {"dob-differs", "Năm sinh cách nhau từ hai năm", "Birth years two or more apart"},
	},
	cmpSex: {
		eqEqual:   {"sex-equal", "Cùng giới tính", "Same sex"},
		eqDiffers: {"sex-differs", "Khác giới tính", "Different sex"},
	},
	cmpBirthProv: {
		eqEqual:   {"birth-province-equal", "Cùng tỉnh đăng ký khai sinh", "Same province of birth registration"},
		eqDiffers: {"birth-province-differs", "Khác tỉnh đăng ký khai sinh", "Different province of birth registration"},
	},
	cmpHometown: {
		eqEqual:      {"hometown-equal", "Cùng quê quán", "Same hometown"},
		eqCompatible: {"hometown-same-province", "Quê quán cùng tỉnh (một bản ghi chỉ ghi tỉnh)", "Hometowns in the same province (one gives the province only)"},
		eqDiffers:    {"hometown-differs", "Khác quê quán", "Different hometowns"},
	},
	cmpResidence: {
		eqEqual:   {"residence-equal", "Cùng nơi thường trú", "Same permanent residence"},
		eqDiffers: {"residence-differs", "Khác nơi thường trú", "Different permanent residences"},
	},
	cmpFather: {
		parEqual:   {"father-equal", "Cùng cha", "Same father"},
		parGiven:   {"father-same-given-name", "Tên cha giống nhau, họ hoặc tên đệm khác", "Fathers with the same given name, other surname or middle name"},
		parDiffers: {"father-differs", "Khác cha", "Different fathers"},
	},
	cmpMother: {
		parEqual:   {"mother-equal", "Cùng mẹ", "Same mother"},
		parGiven:   {"mother-same-given-name", "Tên mẹ giống nhau, họ hoặc tên đệm khác", "Mothers with the same given name, other surname or middle name"},
		parDiffers: {"mother-differs", "Khác mẹ", "Different mothers"},
	},
	cmpHead: {
		eqEqual:      {"household-head-equal", "Cùng chủ hộ", "Same household head"},
		eqCompatible: {"household-head-one-self", "Một người là chủ hộ, người kia ở hộ của người khác", "One heads their own household, the other lives in someone else's"},
		eqDiffers:    {"household-head-differs", "Khác chủ hộ", "Different household heads"},
	},
}

// ruleTexts explain the hard rules; ruleBetterMatch is the exclusion of
// Index.Pairs.
var ruleTexts = [numRules]text{
	ruleDistinctIDs: {"rule-distinct-ids", "Luật: hai số định danh hợp lệ khác hẳn nhau là hai người", "Rule: two valid ID numbers far apart are two people"},
	ruleTwins:       {"rule-twins", "Luật: cùng cha mẹ (hoặc cùng hộ), cùng ngày sinh, khác tên là anh chị em sinh đôi", "Rule: same parents (or household), same date of birth, different given names: twins"},
	ruleParentChild: {"rule-parent-child", "Luật: một bản ghi ghi người kia là cha, mẹ hoặc vợ/chồng", "Rule: one record names the other as father, mother or spouse"},
}

var betterMatchText = text{"rule-better-match", "Bản ghi này khớp hơn với một người khác, mà luật cho biết không phải người kia", "A record matches someone else better, whom a rule says is not the other"}

// Evidence is one line of a pair's explanation: what agrees or disagrees,
// and how much it weighs.
type Evidence struct {
	Code string `json:"code"`
	// Weight is the evidence in bits (log2 of the likelihood ratio): +1
	// doubles the odds that the records are one person. 0 for a rule.
	Weight float64 `json:"weight"`
	// Counted is false for family and place evidence that a stronger line
	// of its group already says (parents and household head; residence,
	// hometown and birth province): only the strongest agreement and
	// disagreement of a group count, so that one fact counts once.
	Counted bool   `json:"counted"`
	VI      string `json:"vi"`
	EN      string `json:"en"`
}
