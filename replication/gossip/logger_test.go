package gossip

import "testing"

func TestCauseFoldsAddressesAndNumbers(t *testing.T) {
	a := causeOf([]byte("memberlist: failed to decrypt packet from=10.77.0.5:51234: no installed keys could decrypt the message"))
	b := causeOf([]byte("memberlist: failed to decrypt packet from=192.168.1.200:7946: no installed keys could decrypt the message"))
	c := causeOf([]byte("memberlist: failed to decrypt packet from=[fe80::1]:7946: no installed keys could decrypt the message"))
	if a != b || len(a) > maxCauseLen {
		t.Fatalf("%q vs %q", a, b)
	}
	if c != a || causeOf([]byte("memberlist: stream error")) == a {
		t.Fatalf("causes: %q %q", a, c)
	}
	l1 := causeOf([]byte(`memberlist: discarding packet with unacceptable label "o6]\x8a~": from=127.0.0.1:41200`))
	l2 := causeOf([]byte(`memberlist: discarding packet with unacceptable label "zz": from=10.0.0.1:1`))
	if l1 != l2 || l1 != "discarding packet with unacceptable label" {
		t.Fatalf("labels: %q %q", l1, l2)
	}
}
