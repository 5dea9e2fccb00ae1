package enrollment

import "testing"

func TestSlots(t *testing.T) {
	kinds := map[string]int{}
	for _, s := range Slots {
		kinds[s.Kind]++
		if got, ok := SlotByName(s.Name); !ok || got.Name != s.Name {
			t.Fatalf("SlotByName(%q)", s.Name)
		}
		if len(s.Formats) == 0 || s.MaxBytes <= 0 || s.Label == "" || s.VI == "" {
			t.Fatalf("slot %+v incomplete", s)
		}
	}
	// DOMAIN.md §2.5: 13 finger slots (10 rolled, 3 slaps), a face, 2 irises.
	if kinds[SlotFinger] != 10 || kinds[SlotSlap] != 3 || kinds[SlotFace] != 1 || kinds[SlotIris] != 2 || kinds[SlotSignature] != 1 {
		t.Fatalf("slot kinds %v", kinds)
	}
	if len(Slots) > MaxBiometrics {
		t.Fatalf("%d slots, MaxBiometrics %d", len(Slots), MaxBiometrics)
	}
	for name, rank := range map[string]uint8{"face": 0, "finger_r2": 1, "finger_l2": 1, "finger_r1": 2, "slap_thumbs": 2, "iris_l": 3, "nose": 255} {
		if SlotRank(name) != rank {
			t.Fatalf("rank of %s = %d, want %d", name, SlotRank(name), rank)
		}
	}
}

func TestParseException(t *testing.T) {
	for in, want := range map[string]string{
		"amputated": ExceptionAmputated, " Cụt ngón ": ExceptionAmputated, "cut ngon": ExceptionAmputated,
		"băng bó": ExceptionBandaged, "UNABLE": ExceptionUnable, "not_due": ExceptionNotDue,
	} {
		if got, ok := ParseException(in); !ok || got != want {
			t.Fatalf("%q: %q %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "lost", "ok"} {
		if _, ok := ParseException(in); ok {
			t.Fatalf("%q accepted", in)
		}
	}
	for _, c := range ExceptionCodes {
		if got, ok := ParseException(c); !ok || got != c {
			t.Fatalf("code %q does not parse to itself", c)
		}
	}
}
