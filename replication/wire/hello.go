package wire

import (
	"encoding/binary"
)

// Hello body: version(u16 BE) origin(16) then role, tier, unit, node as
// uvarint length + UTF-8 bytes.

type helloField struct {
	name string
	max  int
}

var helloFields = [4]helloField{
	{"hello role", MaxRoleBytes},
	{"hello tier", MaxTierBytes},
	{"hello unit", MaxUnitBytes},
	{"hello node", MaxNodeBytes},
}

func (h *Hello) strings() [4]*string { return [4]*string{&h.Role, &h.Tier, &h.Unit, &h.Node} }

func appendHello(dst []byte, h *Hello) ([]byte, error) {
	if h.Version == 0 {
		return dst, invalid("hello version is 0")
	}
	for i, s := range h.strings() {
		if err := checkString(helloFields[i].name, *s, helloFields[i].max); err != nil {
			return dst, err
		}
	}
	dst = binary.BigEndian.AppendUint16(dst, h.Version)
	dst = append(dst, h.Origin[:]...)
	for _, s := range h.strings() {
		dst = AppendString(dst, *s)
	}
	return dst, nil
}

func decodeHello(b []byte) (*Hello, error) {
	r := Reader{b: b}
	h := new(Hello)
	if v := r.Take(2, "hello version"); v != nil {
		h.Version = binary.BigEndian.Uint16(v)
	}
	if r.err == nil && h.Version == 0 {
		r.Fail(malformed("hello version is 0"))
	}
	h.Origin = r.origin("hello origin")
	for i, s := range h.strings() {
		*s = r.Str(helloFields[i].name, helloFields[i].max)
	}
	if err := r.End("hello"); err != nil {
		return nil, err
	}
	return h, nil
}
