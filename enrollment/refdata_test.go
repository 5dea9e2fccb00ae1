package enrollment

import "testing"

func TestDistrictOf(t *testing.T) {
	cases := []struct{ list, commune, want string }{
		{CodeList2023, "18586", "445"}, // Xã Thạch Kênh, Huyện Thạch Hà
		{CodeList2025, "18586", "448"}, // Xã Đông Kinh: first constituent 18457 Ích Hậu, of Lộc Hà
		{CodeList2025, "18073", "436"}, // Phường Thành Sen, of Thành phố Hà Tĩnh
		{CodeList2023, "99999", ""},
	}
	for _, c := range cases {
		if got := DistrictOf(c.list, c.commune); got != c.want {
			t.Errorf("DistrictOf(%s, %s) = %q, want %q", c.list, c.commune, got, c.want)
		}
	}
}
