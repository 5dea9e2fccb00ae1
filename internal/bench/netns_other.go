//go:build !linux

package bench

import "fmt"

func netnsAvailable() string { return "needs Linux (network namespaces, tc, nft)" }

func newNetnsLink(DossierConfig, DossierScenario) (benchLink, error) {
	return nil, fmt.Errorf("bench: the real link %s", netnsAvailable())
}
