package demo

import (
	"fmt"
	"time"

	"fieldsync/enrollment"
	"fieldsync/internal/linkemu"
)

// terrain decides a district's links: the western mountain districts sit
// on 2G with long outages, lowland ones on EDGE with occasional cuts, the
// towns on 3G (DESIGN.md §3).
type terrain int

const (
	mountain terrain = iota
	lowland
	town
)

func (t terrain) String() string { return [...]string{"mountain", "lowland", "town"}[t] }

// districtPlan is one district hub and the communes it serves.
type districtPlan struct {
	Code     string // old district code (DOMAIN.md appendix A)
	Name     string
	Terrain  terrain
	Communes []communePlan
}

// communePlan is one commune and its laptops.
type communePlan struct {
	Code    string
	Name    string
	Laptops int
	// Carried: the commune has no link to its hub; its laptop syncs only
	// with a laptop of the commune before it in the same district, which
	// carries its entries up (store-carry-forward).
	Carried bool
}

// districtOrder is the order districts are taken in: Hà Tĩnh's three
// kinds first (the default demo), then the others.
var districtOrder = []struct {
	code string
	t    terrain
}{
	{"444", mountain}, {"445", lowland}, {"436", town},
	{"439", mountain}, {"443", lowland}, {"437", town},
	{"441", mountain}, {"446", lowland}, {"449", town},
	{"440", lowland}, {"442", lowland}, {"447", lowland}, {"448", lowland},
}

// plan picks districts and communes from the embedded 2023 list.
func plan(districts, communes int) ([]districtPlan, error) {
	if districts < 1 || districts > len(districtOrder) {
		return nil, fmt.Errorf("demo: %d districts, want 1..%d", districts, len(districtOrder))
	}
	var out []districtPlan
	for _, d := range districtOrder[:districts] {
		u, ok := enrollment.UnitByCode(enrollment.CodeList2023, d.code)
		if !ok {
			return nil, fmt.Errorf("demo: district %s not in the embedded list", d.code)
		}
		dp := districtPlan{Code: d.code, Name: u.Name, Terrain: d.t}
		for _, c := range enrollment.Units(enrollment.CodeList2023) {
			if c.Parent != d.code || c.Level != "commune" {
				continue
			}
			if len(dp.Communes) == communes {
				break
			}
			// 1-2 laptops per commune: two in every other commune.
			cp := communePlan{Code: c.Code, Name: c.Name, Laptops: 1 + len(dp.Communes)%2}
			dp.Communes = append(dp.Communes, cp)
		}
		if len(dp.Communes) < communes {
			return nil, fmt.Errorf("demo: district %s has only %d communes", d.code, len(dp.Communes))
		}
		out = append(out, dp)
	}
	// The last commune of the first mountain district is reachable only
	// through a colleague's laptop.
	if len(out[0].Communes) > 1 {
		last := &out[0].Communes[len(out[0].Communes)-1]
		last.Carried, last.Laptops = true, 1
	}
	return out, nil
}

// laptopLink is the link of a laptop in terrain t, its outage schedule
// accelerated to demo time: a mountain link that in the field is up a few
// minutes every couple of hours is up 12 s of every 32 s here. Rates and
// latencies are the field's.
func laptopLink(t terrain) linkemu.Profile {
	switch t {
	case mountain:
		p := linkemu.EDGE
		p.Name, p.Schedule = "2G, cut 20 s of every 32 s", linkemu.Periodic(12*time.Second, 20*time.Second)
		return p
	case lowland:
		p := linkemu.EDGE
		p.Name, p.Schedule = "EDGE, cut 8 s of every 48 s", linkemu.Periodic(40*time.Second, 8*time.Second)
		return p
	}
	p := linkemu.ThreeG
	p.Name = "3G"
	return p
}

// lanLink is two laptops meeting on the commune office's LAN, a few
// seconds at a time.
func lanLink() linkemu.Profile {
	p := linkemu.Perfect
	p.Name, p.Schedule = "office LAN, 6 s of every 20 s", linkemu.Periodic(6*time.Second, 14*time.Second)
	return p
}

// hubLink joins a district hub to the province: a provincial WAN line.
func hubLink() linkemu.Profile {
	p := linkemu.ThreeG
	p.Name, p.RateBitsPerSec, p.UpRateBitsPerSec, p.RTT, p.Loss = "provincial WAN", 10_000_000, 10_000_000, 30*time.Millisecond, 0
	return p
}
