package sim

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/blob/needs"
	"fieldsync/replication/epoch"
	"fieldsync/replication/oplog"
)

// simEpoch is tick 0's wall time: the start of a campaign morning.
var simEpoch = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// rtcReset is where a laptop's clock lands when its CMOS battery dies.
var rtcReset = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// replica is one writer and holder of logs: a field laptop or a hub. Its
// Mem store is its disk and survives crashes; everything else in the
// struct that a crash must forget is reset by restart.
type replica struct {
	name string
	role replication.Role
	tier string // hubs: "district" or "province"
	unit string
	log  *oplog.Mem
	// key is the device key (on the disk image, as config.json and the
	// sealed key are); signer is it in the current epoch, which the disk
	// records too (metaEpoch), so a restored image writes its old origin.
	key      *replication.KeySigner
	signer   *replication.KeySigner
	device   string // the laptop the key was made for (a clone shares it)
	district int    // laptops: index of their district hub in Sim.hubs
	clock    *simClock
	hlc      replication.HLCState // in memory: rebuilt from the log at restart
	// watch is a hub's fork-notice bookkeeping (epoch.Watch, as
	// hub/forks.go keeps it), rebuilt from the log at restart.
	watch *epoch.Watch

	alive bool
	ends  []*end // live session ends, in link order
	dirty bool   // the log changed: its sessions may have more to send
	// rolling: a new epoch is requested (metaRollover) and the restart
	// that starts it is due; the laptop captures nothing meanwhile.
	rolling bool
	// left is, per origin a rollover left, the first seq it re-issued:
	// below, a hub had acknowledged the entries.
	left map[replication.OriginID]uint64

	// applied counts, per entry, how often this replica wrote it (Append
	// or Ingest's Applied) across the whole run, crashes included.
	applied map[replication.EntryID]int

	// blobs is the replica's blob store (on its disk, like log), needs its
	// index of incomplete dossiers (in memory: rebuilt at restart).
	blobs *blob.Mem
	needs *needs.Index
}

// simClock is a replica's wall clock: the simulated time plus an offset
// that clock faults move. It is the hook through which wall time reaches
// HLC timestamps; nothing else reads it.
type simClock struct {
	s      *Sim
	offset time.Duration
}

// Now returns the replica's idea of the wall time.
func (c *simClock) Now() time.Time {
	return simEpoch.Add(time.Duration(c.s.now)*TickDuration + c.offset)
}

// NewTimer is never used inside the simulation, which is one goroutine
// driven by ticks; it returns a channel that never fires.
func (c *simClock) NewTimer(time.Duration) (<-chan time.Time, func() bool) {
	return nil, func() bool { return false }
}

var _ replication.Clock = (*simClock)(nil)

// newSigner derives a replica's device key from the run's generator.
func newSigner(r *rand.Rand) *replication.KeySigner {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(r.Uint32())
	}
	return replication.NewKeySigner(ed25519.NewKeyFromSeed(seed), 1)
}

// genesisDraft is the replica's seq 1.
func (r *replica) genesisDraft() replication.Draft {
	p, err := json.Marshal(replication.NewGenesis(r.signer, r.role, r.tier, r.unit))
	if err != nil {
		panic(err)
	}
	return replication.Draft{Kind: replication.KindGenesis, Schema: replication.GenesisSchema, Payload: p, HLC: r.hlc.Next(r.clock.Now())}
}

// restartHLC rebuilds the in-memory HLC state after a restart from the
// replica's own head entry, as a real shell does: the next timestamp
// orders after everything this origin wrote, whatever the wall clock says.
func (r *replica) restartHLC() error {
	r.hlc = replication.HLCState{}
	h, err := r.log.Head(r.signer.Origin())
	if err != nil || h.Seq == 0 {
		return err
	}
	e, err := r.log.Get(replication.EntryID{Origin: r.signer.Origin(), Seq: h.Seq})
	if err != nil {
		return err
	}
	r.hlc.Observe(e.HLC)
	return nil
}

// Realistic small enrollment payloads, about 600 bytes of JSON: names and
// places repeat the way they do in one commune, which is what zstd sees.
var (
	surnames = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"}
	middles  = []string{"Văn", "Thị", "Đức", "Ngọc", "Minh", "Hữu", "Thanh"}
	givens   = []string{"An", "Bình", "Hoa", "Lan", "Hùng", "Dũng", "Thảo", "Hương", "Minh", "Tuấn", "Nga", "Sơn"}
	villages = []string{"Thôn 1", "Thôn 2", "Thôn Đông", "Thôn Trung", "Xóm Bắc", "Bản Nà"}
	jobs     = []string{"Làm ruộng", "Học sinh", "Buôn bán", "Công nhân", "Giáo viên", "Nội trợ"}
)

// enrollPayload builds one capture's JSON from the run's generator, with
// the references to its blobs.
func enrollPayload(r *rand.Rand, unit, device string, n int, captured time.Time, refs []blobRef) []byte {
	sex, century := "Nam", 0
	if r.IntN(2) == 0 {
		sex, century = "Nữ", 1
	}
	year := 1940 + r.IntN(70)
	return fmt.Appendf(nil, `{"personal_id":"042%d%02d%06d","full_name":"%s %s %s","date_of_birth":"%04d-%02d-%02d","sex":"%s",`+
		`"ethnicity_code":"01","religion":"Không","nationality":["Việt Nam"],"birth_registration":{"unit_code":"42","code_list":"2023-04","text":"Tỉnh Hà Tĩnh"},`+
		`"permanent_residence":{"unit_code":"%s","code_list":"2025-07","text":"%s, Xã %s, Tỉnh Hà Tĩnh"},"occupation":"%s",`+
		`"capture":{"commune_code":"%s","officer":"CA-%s-%02d","device":"%s","seq_hint":%d,"captured_at":"%s"},"biometrics":%s}`,
		century, year%100, r.IntN(1_000_000), pick(r, surnames...), pick(r, middles...), pick(r, givens...), year, 1+r.IntN(12), 1+r.IntN(28), sex,
		unit, pick(r, villages...), unit, pick(r, jobs...), unit, unit, 1+r.IntN(4), device, n, captured.Format(time.RFC3339), biometricsJSON(refs))
}
