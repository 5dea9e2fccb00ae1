package main

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"fieldsync/replication/datadir"
	"fieldsync/replication/gossip"
	"fieldsync/replication/replicator"
)

// poolSpecs is a repeatable --pool flag: each value is
// "name=POOL,listen=HOST:PORT,key=FILE[,seed=NAME/HOST:PORT]...[,profile=field|lan][,advertise=HOST:PORT]".
type poolSpecs []datadir.PoolConfig

func (p *poolSpecs) String() string { return fmt.Sprint(len(*p), " pools") }

func (p *poolSpecs) Set(v string) error {
	var pc datadir.PoolConfig
	for _, part := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return fmt.Errorf("--pool %q: %q is not key=value", v, part)
		}
		switch k {
		case "name":
			pc.Name = val
		case "listen":
			pc.Listen = val
		case "advertise":
			pc.Advertise = val
		case "key":
			pc.KeyFile = val
		case "seed":
			pc.Seeds = append(pc.Seeds, val)
		case "profile":
			pc.Profile = val
		default:
			return fmt.Errorf("--pool %q: unknown key %q (name, listen, advertise, key, seed, profile)", v, k)
		}
	}
	*p = append(*p, pc)
	return nil
}

// startPools joins the gossip pools of the config; stop leaves them.
func startPools(d *datadir.Dir, syncAdvertise string, logger *slog.Logger) ([]replicator.Pool, func(), error) {
	var pools []replicator.Pool
	var started []*gossip.Pool
	stop := func() {
		for _, p := range started {
			p.Leave(2 * time.Second)
			p.Shutdown()
		}
	}
	for _, pc := range d.Config.Pools {
		p, meta, err := startPool(d, pc, syncAdvertise, logger)
		if err != nil {
			stop()
			return nil, nil, fmt.Errorf("pool %s: %w", pc.Name, err)
		}
		started = append(started, p)
		pools = append(pools, replicator.GossipPool(p, meta))
	}
	return pools, stop, nil
}

func startPool(d *datadir.Dir, pc datadir.PoolConfig, syncAdvertise string, logger *slog.Logger) (*gossip.Pool, gossip.Meta, error) {
	key, err := datadir.ReadKey(pc.KeyFile, datadir.PoolKeySize)
	if err != nil {
		return nil, gossip.Meta{}, err
	}
	host, port, err := splitHostPort(pc.Listen)
	if err != nil {
		return nil, gossip.Meta{}, err
	}
	cfg := gossip.Config{Name: d.Config.Name, Pool: pc.Name, BindAddr: host, BindPort: port, SecretKey: key,
		Profile: poolProfile(pc.Profile), Seeds: pc.Seeds, Peers: replicator.MetaPeerStore(d.Log, pc.Name), Logger: logger}
	if pc.Advertise != "" {
		if cfg.AdvertiseAddr, cfg.AdvertisePort, err = splitHostPort(pc.Advertise); err != nil {
			return nil, gossip.Meta{}, err
		}
	}
	cfg.Meta = gossip.Meta{Role: d.Config.Role, Tier: d.Config.Tier, Unit: d.Config.Unit, SyncAddr: syncAdvertise, Origin: d.Signer.Origin()}
	p, err := gossip.Start(cfg)
	return p, cfg.Meta, err
}

// poolProfile: "field" unless the pool says "lan". A pool with laptops in
// it must run the field profile on every member, the hub included, since
// the hub's probes cross the laptops' metered links; only a pool of hubs
// alone (the province's) should say lan.
func poolProfile(name string) gossip.Profile {
	if name == "lan" {
		return gossip.ProfileLAN
	}
	return gossip.ProfileField
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: bad port", addr)
	}
	return host, port, nil
}
