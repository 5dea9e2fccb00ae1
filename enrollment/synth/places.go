package synth

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"fieldsync/enrollment"
)

// oldCommune is a commune of the 2023 list: the fine unit that carries
// local weights (population, ethnicity, religion) and names the historical
// places (birth registration, hometown) of people born in Hà Tĩnh.
type oldCommune struct {
	Code, Name, District string
	Place                enrollment.Place // in CodeList2023
	Weight               float64
	Minority             float64           // share of minority households
	Mix                  *weighted[string] // which minority, nil if none
	Catholic             float64
}

// commune is a capturing commune in the configured code list.
type commune struct {
	Code  string
	Place enrollment.Place // in the configured list
	// Parts are the 2023 communes it covers (itself under CodeList2023),
	// sampled by weight when a household is placed.
	Parts  []*oldCommune
	parts  weighted[*oldCommune]
	Weight float64
	// Capture teams and their clocks.
	Devices  []string
	Officers []string
	stations []*station
	// ring holds recent adults emitted here (namesake sources).
	ring []*person
}

// geography is the set of units the generator uses.
type geography struct {
	codeList  string
	province  string // "Tỉnh Hà Tĩnh"
	old       []*oldCommune
	oldByCode map[string]*oldCommune // lookup only
	communes  []*commune             // capturing communes (all, or the configured one)
	pick      weighted[*commune]
	all       weighted[*commune] // every commune of the list, for residences
	oldPick   weighted[*oldCommune]
}

// newGeography loads Hà Tĩnh's units. only restricts capture to one
// commune code (empty = all).
func newGeography(codeList, only string, devices, officers int) (*geography, error) {
	g := &geography{codeList: codeList, oldByCode: map[string]*oldCommune{}}
	prov, ok := enrollment.UnitByCode(enrollment.CodeList2023, "42")
	if !ok {
		return nil, fmt.Errorf("synth: province 42 missing from the embedded 2023 list")
	}
	g.province = prov.Name
	g.loadOld()
	if err := g.loadCommunes(codeList, only, devices, officers); err != nil {
		return nil, err
	}
	return g, nil
}

// loadOld builds the 216 communes of the 2023 list with their weights.
func (g *geography) loadOld() {
	var rows []entry[*oldCommune]
	for _, u := range enrollment.Units(enrollment.CodeList2023) {
		if u.Level != "commune" {
			continue
		}
		d, _ := enrollment.UnitByCode(enrollment.CodeList2023, u.Parent)
		oc := &oldCommune{Code: u.Code, Name: u.Name, District: u.Parent}
		oc.Place = enrollment.Place{UnitCode: u.Code, CodeList: enrollment.CodeList2023,
			Text: u.Name + ", " + d.Name + ", " + g.province}
		oc.Weight = typeWeight(u.Name) * jitter(u.Code)
		oc.Minority, oc.Mix = minorityOf(u.Code, u.Parent)
		oc.Catholic = catholicByDistrict[u.Parent] * catholicSpread[hashString("cath"+u.Code)%uint64(len(catholicSpread))]
		g.old = append(g.old, oc)
		g.oldByCode[u.Code] = oc
		rows = append(rows, entry[*oldCommune]{oc, oc.Weight})
	}
	g.oldPick = newWeighted(rows)
}

// loadCommunes builds the capturing communes of codeList.
func (g *geography) loadCommunes(codeList, only string, devices, officers int) error {
	var rows, all []entry[*commune]
	for _, u := range enrollment.Units(codeList) {
		if u.Level != "commune" {
			continue
		}
		c := g.newCommune(u, codeList, devices, officers)
		if len(c.Parts) == 0 {
			continue
		}
		all = append(all, entry[*commune]{c, c.Weight})
		if only != "" && u.Code != only {
			continue
		}
		g.communes = append(g.communes, c)
		rows = append(rows, entry[*commune]{c, c.Weight})
	}
	if len(rows) == 0 {
		return fmt.Errorf("synth: commune %q is not a commune of code list %s", only, codeList)
	}
	g.pick, g.all = newWeighted(rows), newWeighted(all)
	return nil
}

// newCommune builds one capturing commune from a unit.
func (g *geography) newCommune(u enrollment.Unit, codeList string, devices, officers int) *commune {
	c := &commune{Code: u.Code}
	var rows []entry[*oldCommune]
	if codeList == enrollment.CodeList2023 {
		oc := g.oldByCode[u.Code]
		c.Place = oc.Place
		rows = append(rows, entry[*oldCommune]{oc, 1})
		c.Parts, c.Weight = []*oldCommune{oc}, oc.Weight
	} else {
		c.Place = enrollment.Place{UnitCode: u.Code, CodeList: codeList, Text: u.Name + ", " + g.province}
		for _, k := range u.Constituents {
			oc, ok := g.oldByCode[k.Code]
			if !ok {
				continue // e.g. 18448, not in the 2023-04 list
			}
			w := oc.Weight
			if k.Partial {
				w /= 2
			}
			c.Parts = append(c.Parts, oc)
			c.Weight += w
			rows = append(rows, entry[*oldCommune]{oc, w})
		}
	}
	if len(rows) > 0 {
		c.parts = newWeighted(rows)
	}
	c.Devices, c.Officers = teams(u.Code, devices, officers)
	return c
}

// teams returns stable device and officer IDs for a commune: device IDs in
// the 16-hex-digit form of replication.DeviceID, officer badges
// "CA<commune>-<nn>". They depend on the code only, not on the seed.
func teams(code string, devices, officers int) ([]string, []string) {
	ds := make([]string, devices)
	for i := range ds {
		ds[i] = fmt.Sprintf("%016x", hashString(fmt.Sprintf("fieldsync synth device %s/%d", code, i+1)))
	}
	offs := make([]string, officers)
	for i := range offs {
		offs[i] = fmt.Sprintf("CA%s-%02d", code, i+1)
	}
	return ds, offs
}

// typeWeight is the relative population of a unit by its type prefix.
func typeWeight(name string) float64 {
	for _, t := range communeTypeWeight {
		if strings.HasPrefix(name, t.Prefix) {
			return t.W
		}
	}
	return 1
}

// jitter is a stable per-code factor in [0.6, 1.5).
func jitter(code string) float64 {
	return 0.6 + 0.9*float64(hashString("pop"+code)%1000)/1000
}

// minorityOf returns a 2023 commune's minority share and group mix.
func minorityOf(code, district string) (float64, *weighted[string]) {
	share, ok := ethnicMinority[code]
	if !ok && (district == "439" || district == "444") {
		share = westernBackground
	}
	var mix weighted[string]
	switch {
	case share == 0:
		return 0, nil
	case district == "439":
		mix = newWeighted(minorityMixHuongSon)
	default:
		mix = newWeighted(minorityMixHuongKhe)
	}
	return share, &mix
}

// otherOld returns a random 2023 commune of the province (weighted).
func (g *geography) otherOld(r *rand.Rand) *oldCommune { return g.oldPick.pick(r) }

// provincePlace is a province-level historical place for a prefix.
func provincePlace(prefix string) enrollment.Place {
	p, _ := enrollment.ProvinceByPrefix(prefix)
	return enrollment.Place{UnitCode: p.Code, CodeList: enrollment.CodeList2023, Text: p.Name}
}
