package altgen

// Name and place tables of the Nghệ An population. Weights are relative
// (per mille where it reads naturally); none is taken from synth.

type weightedName struct {
	v string
	w int
}

// provincialSurnames: Nghệ An leans to Hồ, Phan, Thái, Đặng more than the
// national table (Hồ Chí Minh's home province).
var provincialSurnames = []weightedName{
	{"Nguyễn", 260}, {"Hồ", 80}, {"Trần", 85}, {"Lê", 80}, {"Phan", 55}, {"Đặng", 35}, {"Hoàng", 30},
	{"Thái", 22}, {"Võ", 25}, {"Vũ", 10}, {"Cao", 22}, {"Đinh", 20}, {"Bùi", 20}, {"Phạm", 40},
	{"Lưu", 12}, {"Chu", 10}, {"Hà", 12}, {"Đậu", 14}, {"Nông", 4}, {"Lương", 12}, {"Tăng", 6},
	{"Dương", 14}, {"Ngô", 18}, {"Đào", 12}, {"Trương", 14}, {"Huỳnh", 6}, {"Mai", 8}, {"Kiều", 5},
	{"Tôn", 4}, {"Quế", 3}, {"Lữ", 4}, {"Văn", 3}, {"Khổng", 3}, {"Doãn", 4}, {"Hoàng Trọng", 1},
}

var maleGiven = []weightedName{
	{"Hùng", 30}, {"Dũng", 28}, {"Cường", 22}, {"Thắng", 20}, {"Hải", 22}, {"Sơn", 20}, {"Tuấn", 24},
	{"Nam", 18}, {"Long", 16}, {"Bình", 16}, {"Minh", 18}, {"Quang", 14}, {"Hoà", 10}, {"Thuỷ", 4},
	{"Lợi", 10}, {"Đức", 14}, {"Trung", 14}, {"Hưng", 14}, {"Phúc", 12}, {"Lộc", 10}, {"Thọ", 10},
	{"Kỳ", 6}, {"Toàn", 10}, {"Tài", 10}, {"Nghĩa", 10}, {"Tú", 8}, {"Khánh", 10}, {"Vinh", 14},
	{"Tiến", 12}, {"Hoàng", 10}, {"Thành", 14}, {"Việt", 10}, {"Châu", 6}, {"Giang", 8}, {"Kiên", 8},
	{"Sỹ", 6}, {"Chiến", 10}, {"Quyết", 8}, {"Thịnh", 8}, {"Bảo", 8}, {"Trường", 10}, {"Nhân", 8},
	{"Lãm", 3}, {"Cảnh", 6}, {"Diễn", 4}, {"Xuân", 6}, {"Tâm", 8}, {"Ngọc", 4}, {"Đạt", 10},
}

var femaleGiven = []weightedName{
	{"Hoa", 22}, {"Lan", 20}, {"Hương", 22}, {"Hằng", 16}, {"Nga", 14}, {"Thuỷ", 12}, {"Hà", 16},
	{"Lý", 8}, {"Tâm", 10}, {"Nhung", 12}, {"Phương", 14}, {"Thảo", 16}, {"Trang", 18}, {"Linh", 20},
	{"Huyền", 14}, {"Ngân", 10}, {"Hạnh", 12}, {"Liên", 10}, {"Loan", 8}, {"Dung", 10}, {"Vân", 10},
	{"Yến", 10}, {"Oanh", 8}, {"Quỳnh", 10}, {"Hiền", 12}, {"Xoan", 4}, {"Lài", 4}, {"Tình", 6},
	{"Mai", 12}, {"Thu", 12}, {"Nguyệt", 6}, {"Châu", 6}, {"Ngọc", 8}, {"Giang", 8}, {"Duyên", 8},
	{"Thương", 8}, {"Sen", 4}, {"Cúc", 5}, {"Đào", 4}, {"Nhàn", 6}, {"Thoa", 6}, {"Kim", 4},
}

// compoundGiven: two-syllable given names of people born from 1995.
var compoundMale = []weightedName{{"Gia Bảo", 6}, {"Minh Khôi", 5}, {"Đức Anh", 8}, {"Anh Tuấn", 5},
	{"Quốc Huy", 4}, {"Bảo Long", 4}, {"Hoàng Nam", 4}, {"Nhật Minh", 4}, {"Tuấn Kiệt", 3}}
var compoundFemale = []weightedName{{"Bảo Ngọc", 5}, {"Ngọc Anh", 7}, {"Minh Thư", 5}, {"Khánh Linh", 5},
	{"Thu Hà", 4}, {"Phương Anh", 5}, {"Hà My", 4}, {"Thảo Nguyên", 3}, {"Ngọc Ánh", 3}}

// lineageMiddles: the middle name a family's sons of a generation share.
var lineageMiddles = []weightedName{{"Văn", 40}, {"Đình", 18}, {"Hữu", 14}, {"Bá", 8}, {"Khắc", 6},
	{"Xuân", 6}, {"Công", 8}, {"Duy", 4}, {"Quốc", 5}, {"Trọng", 4}, {"Sỹ", 3}, {"Anh", 3}}

var femaleMiddles = []weightedName{{"Thị", 55}, {"Ngọc", 8}, {"Thu", 6}, {"Thanh", 6}, {"Hồng", 5},
	{"Kim", 4}, {"Minh", 4}, {"Thuý", 3}, {"Diệu", 2}, {"Thị Ngọc", 3}, {"Phương", 3}}

// districts of Nghệ An with a few commune names each (text as clerks
// write it); commune codes are made up outside Hà Tĩnh's compiled range.
var districts = []struct {
	name     string
	communes []string
}{
	{"Huyện Diễn Châu", []string{"Diễn Hải", "Diễn Kim", "Diễn Thành", "Diễn Phúc", "Diễn Ngọc", "Diễn Hùng"}},
	{"Huyện Quỳnh Lưu", []string{"Quỳnh Bá", "Quỳnh Thanh", "Quỳnh Lương", "Quỳnh Minh", "Quỳnh Nghĩa"}},
	{"Huyện Nghi Lộc", []string{"Nghi Xuân", "Nghi Thiết", "Nghi Tiến", "Nghi Yên", "Nghi Thạch"}},
	{"Huyện Hưng Nguyên", []string{"Hưng Tây", "Hưng Đạo", "Hưng Thịnh", "Hưng Lợi"}},
	{"Huyện Nam Đàn", []string{"Kim Liên", "Nam Giang", "Nam Cát", "Xuân Hoà", "Hùng Tiến"}},
	{"Huyện Thanh Chương", []string{"Thanh Ngọc", "Thanh Lương", "Thanh Hoà", "Thanh Mỹ", "Thanh Tiên"}},
	{"Huyện Đô Lương", []string{"Đà Sơn", "Lạc Sơn", "Thuận Sơn", "Yên Sơn", "Văn Sơn"}},
	{"Huyện Yên Thành", []string{"Hoa Thành", "Tăng Thành", "Công Thành", "Phúc Thành", "Mã Thành"}},
	{"Thị xã Cửa Lò", []string{"Nghi Thuỷ", "Thu Thuỷ", "Nghi Hải"}},
	{"Thành phố Vinh", []string{"Hưng Dũng", "Bến Thuỷ", "Trường Thi", "Hưng Lộc", "Nghi Phú"}},
}

// prefixes of birth registration: mostly Nghệ An; neighbours and cities.
var birthPrefixes = []weightedName{{"040", 86}, {"042", 5}, {"038", 4}, {"001", 2}, {"079", 2}, {"044", 1}}

var prefixProvince = map[string]string{"040": "Tỉnh Nghệ An", "042": "Tỉnh Hà Tĩnh", "038": "Tỉnh Thanh Hoá",
	"001": "Thành phố Hà Nội", "079": "Thành phố Hồ Chí Minh", "044": "Tỉnh Quảng Bình"}

var prefixProvinceCode = map[string]string{"040": "40", "042": "42", "038": "38", "001": "01", "079": "79", "044": "44"}

var jobs = []weightedName{{"Làm ruộng", 40}, {"Buôn bán", 12}, {"Công nhân", 14}, {"Giáo viên", 5},
	{"Lao động tự do", 16}, {"Ngư dân", 4}, {"Cán bộ", 4}, {"Thợ xây", 5}}
