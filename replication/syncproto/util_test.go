package syncproto_test

import (
	"encoding/base64"
	"fmt"
	"time"
)

var testTime = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

var surnames = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"}
var given = []string{"An", "Bình", "Hoa", "Lan", "Hùng", "Dũng", "Thảo", "Hương", "Minh", "Tuấn"}

// enrollPayload is a realistic ~600-byte enrollment JSON record.
func enrollPayload(origin string, i int) []byte {
	return []byte(fmt.Sprintf(`{"personal_id":"0420%02d%06d","full_name":"%s Văn %s","date_of_birth":"19%02d-%02d-%02d","sex":"Nam","ethnicity_code":"01","religion":"Không","nationality":["Việt Nam"],"birth_registration":{"unit_code":"42","code_list":"2023-04","text":"Tỉnh Hà Tĩnh"},"hometown":{"unit_code":"18586","code_list":"2023-04","text":"Xã Thạch Kênh, Huyện Thạch Hà, Tỉnh Hà Tĩnh"},"permanent_residence":{"unit_code":"18586","code_list":"2025-07","text":"Thôn %d, Xã Đông Kinh, Tỉnh Hà Tĩnh"},"occupation":"Làm ruộng","marital_status":"Đã kết hôn","capture":{"commune_code":"18586","officer":"CA-18586-0%d","device":"%s","captured_at":"2026-03-01T08:%02d:00Z","request_type":"cấp mới"}}`,
		i%90, i*7919%1000000, surnames[i%len(surnames)], given[(i/3)%len(given)], 40+i%60, 1+i%12, 1+i%28, 1+i%20, i%3, origin, i%60))
}
