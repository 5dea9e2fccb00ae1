package syncnet_test

import (
	"encoding/base64"
	"fmt"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

var family = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"}
var middle = []string{"Văn", "Thị", "Đức", "Minh", "Ngọc", "Thanh", "Hữu", "Xuân", "Quốc", "Hồng"}
var given = []string{"An", "Bình", "Hoa", "Lan", "Hùng", "Dũng", "Thảo", "Hương", "Minh", "Tuấn", "Nga", "Trang", "Sơn", "Hải", "Long", "Nam", "Phúc", "Quân"}

// record returns a varied enrollment record: a pseudo-random but
// deterministic mix, so that it compresses like real data.
func record(origin string, i int) []byte {
	x := uint64(i)*0x9e3779b97f4a7c15 + 12345
	next := func(n int) int { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return int(x % uint64(n)) }
	return []byte(fmt.Sprintf(`{"personal_id":"042%d%02d%06d","full_name":"%s %s %s","date_of_birth":"%d-%02d-%02d","sex":"%s","ethnicity_code":"01","religion":"Không","nationality":["Việt Nam"],"birth_registration":{"unit_code":"42","code_list":"2023-04","text":"Tỉnh Hà Tĩnh"},"hometown":{"unit_code":"%d","code_list":"2023-04","text":"Xã %s %s, Tỉnh Hà Tĩnh"},"permanent_residence":{"unit_code":"18586","code_list":"2025-07","text":"Thôn %d, Xã Đông Kinh, Tỉnh Hà Tĩnh"},"occupation":"Làm ruộng","capture":{"commune_code":"18586","officer":"CA-18586-%02d","device":"%s","captured_at":"2026-03-%02dT%02d:%02d:%02dZ","request_type":"cấp mới"}}`,
		next(4), next(100), next(1000000), family[next(len(family))], middle[next(len(middle))], given[next(len(given))], 1940+next(70), 1+next(12), 1+next(28), []string{"Nam", "Nữ"}[next(2)],
		18000+next(900), family[next(len(family))], given[next(len(given))], 1+next(30), next(8), origin, 1+next(28), next(24), next(60), next(60)))
}
