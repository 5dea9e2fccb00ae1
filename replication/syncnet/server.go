package syncnet

import (
	"context"
	"errors"
	"net"
	"sync"
)

// MaxSessions bounds concurrent sessions a listener serves (a hub with
// hundreds of laptops reconnecting at once queues them in the backlog).
const MaxSessions = 64

// Serve accepts connections on ln and runs a session on each, at most
// MaxSessions at a time, until ctx ends. optsFor builds each session's
// options; done, if set, receives each result.
func Serve(ctx context.Context, ln net.Listener, optsFor func(net.Conn) Options, done func(Result, error)) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, MaxSessions)
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return ctx.Err()
			}
			return err
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			conn.Close()
			return ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res, err := Run(ctx, conn, optsFor(conn))
			if done != nil {
				done(res, err)
			}
		}()
	}
}
