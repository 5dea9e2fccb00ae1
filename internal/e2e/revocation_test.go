package e2e

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"testing"
	"time"

	"fieldsync/enrollment"
	"fieldsync/hub"
	"fieldsync/hub/reconcile"
	"fieldsync/internal/linkemu"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/datadir"
	"fieldsync/replication/replicator"
	"fieldsync/replication/roster"
	"fieldsync/replication/roster/live"
)

// refreshRoster imports the province's current roster into a directory
// that is not running yet (a campaign's laptops take the export once all
// of them are on it).
func (d *deployment) refreshRoster(dir *datadir.Dir) {
	prov := d.hubs["province"].Dir
	anchor := roster.SignerFor(prov.Signer).PublicKey()
	bundle, err := roster.Export(prov.Log, anchor)
	if err != nil {
		d.t.Fatal(err)
	}
	if _, _, err := live.Import(dir.Log, bundle, anchor); err != nil {
		d.t.Fatal(err)
	}
}

// startLaptop runs a laptop dialing each target through its own link;
// with listen, it accepts colleagues on an office LAN address (returned).
func (d *deployment) startLaptop(name string, dir *datadir.Dir, listen bool, links map[string]*linkemu.Link) string {
	rc := replicator.Config{}
	for addr := range links {
		rc.Static = append(rc.Static, addr)
	}
	rc.Dial = func(ctx context.Context, addr string) (net.Conn, error) { return dialer(links[addr])(ctx, addr) }
	var addr string
	if listen {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			d.t.Fatal(err)
		}
		rc.Listener, addr = ln, ln.Addr().String()
	}
	n, err := node.NewDaemon(node.DaemonConfig{Dir: dir, Replicator: fast(rc)})
	if err != nil {
		d.t.Fatal(err)
	}
	d.nodes[name] = n
	d.run(name, n)
	return addr
}

func (d *deployment) waitHolds(hubName string, o replication.OriginID, seq uint64, what string) {
	d.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if h, _ := d.hubs[hubName].Dir.Log.Head(o); h.Seq >= seq {
			return
		}
	}
	h, _ := d.hubs[hubName].Dir.Log.Head(o)
	d.t.Fatalf("%s: %s holds seq %d, want %d", what, hubName, h.Seq, seq)
}

func captures(prefix string, from, n int) []enrollment.Enrollment {
	var out []enrollment.Enrollment
	for i := from; i < from+n; i++ {
		out = append(out, citizen(fmt.Sprintf("%s%04d", prefix, i), "Người Dân "+fmt.Sprint(i), "18586"))
	}
	return out
}

// TestStolenLaptop is revocation by sequence end to end: a laptop syncs
// its captures 1..N to the province and is stolen; the province revokes it
// from N while the district hub is cut off; the thief's later captures
// reach the district hub through the laptop itself and then through a
// colleague's laptop; once the revocation arrives, every hub quarantines
// exactly N+1.. with equal digests, and what was captured before the theft
// stays in the view.
func TestStolenLaptop(t *testing.T) {
	d := newDeployment(t)
	d.addHub("province", "province", "42", "")
	up := linkemu.NewLink(testLink, linkemu.WithSeed(1))
	d.addHubWith("thach-ha", "district", "445", "province", func(c *hub.DaemonConfig) { c.Replicator.Dial = dialer(up) })
	hubAddr := d.addrs["thach-ha"]

	stolenDir := d.initDir(datadir.Config{Role: replication.RoleNode, Unit: "18586", Name: "l-stolen"})
	colleagueDir := d.initDir(datadir.Config{Role: replication.RoleNode, Unit: "18586", Name: "l-colleague"})
	d.refreshRoster(stolenDir) // it meets its colleague, enlisted after it
	stolenLink, lan := linkemu.NewLink(testLink, linkemu.WithSeed(2)), linkemu.NewLink(testLink, linkemu.WithSeed(3))
	colleagueAddr := d.startLaptop("l-colleague", colleagueDir, true, map[string]*linkemu.Link{hubAddr: linkemu.NewLink(testLink, linkemu.WithSeed(4))})
	d.startLaptop("l-stolen", stolenDir, false, map[string]*linkemu.Link{hubAddr: stolenLink, colleagueAddr: lan})
	stolen := stolenDir.Signer.Origin()

	d.enroll("l-stolen", captures("04208510", 0, 5)...) // seqs 2..6
	const n = 6
	d.waitHolds("province", stolen, n, "before the theft")

	up.Cut()
	if _, err := d.hubs["province"].ChangeRoster(hub.RosterRequest{Op: "revoke", Device: hexKey(stolenDir), Note: "stolen"}); err != nil {
		t.Fatal(err)
	}
	d.enroll("l-stolen", captures("04299910", 0, 3)...) // 7..9, straight to the district hub
	d.waitHolds("thach-ha", stolen, n+3, "the thief through the laptop")
	stolenLink.Cut()
	d.enroll("l-stolen", captures("04299920", 0, 2)...) // 10..11, only through the colleague
	d.waitHolds("thach-ha", stolen, n+5, "the thief through the colleague")
	d.hubs["thach-ha"].View().Read(func(r *reconcile.Reconciler) {
		if !shows(t, r, "042999100000") {
			t.Fatal("before the revocation reaches it, the district shows the thief's capture")
		}
	})

	up.Heal()
	digests := d.waitConverged("province", "after the revocation", func() bool {
		for _, h := range d.hubs {
			if st, _ := h.View().Stats(); st.Quarantined["revoked"] != 5 {
				return false
			}
		}
		return true
	})
	for name, h := range d.hubs {
		var q []reconcile.Quarantined
		h.View().Read(func(r *reconcile.Reconciler) {
			q = r.Quarantine()
			for i := range 5 {
				if !shows(t, r, fmt.Sprintf("04208510%04d", i)) {
					t.Errorf("%s: capture %d of the laptop, made before the theft, left the view", name, i)
				}
			}
			for _, pid := range []string{"042999100000", "042999100001", "042999100002", "042999200000", "042999200001"} {
				if shows(t, r, pid) {
					t.Errorf("%s: the thief's capture %s is in the view", name, pid)
				}
			}
		})
		for _, e := range q {
			if e.Entry.Origin != stolen || e.Entry.Seq <= n || e.Reason != roster.ReasonRevoked {
				t.Errorf("%s quarantines %s (%s)", name, e.Entry, e.Reason)
			}
		}
	}
	if r := d.hubs["thach-ha"].View().Rebuilds(); r == 0 {
		t.Error("the district got the revocation after the entries it withdraws: its view must have been rebuilt")
	}
	t.Logf("quarantined seqs %d..%d of the stolen laptop at every hub; digests %v", n+1, n+5, digests)

	// The thief tries again: the district, now knowing, refuses the key.
	stolenLink.Heal()
	d.enroll("l-stolen", captures("04299930", 0, 1)...)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, refused := d.hubs["thach-ha"].TrustStatus()
		if refused["handshake"] > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the district did not refuse the revoked laptop's session: %v", refused)
		}
	}
}

func hexKey(d *datadir.Dir) string { return hex.EncodeToString(d.Signer.PublicKey()) }
