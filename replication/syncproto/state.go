package syncproto

import (
	"fmt"

	"fieldsync/replication"
	"fieldsync/replication/wire"
)

// StateType is where a session stands with its peer, in the manner of etcd
// raft's StateType: one state at a time, one step function per state (Step
// calls the current one), and every transition in become, below.
//
//	             Hello                 Summary
//	WaitHello ─────────▶ WaitSummary ─────────▶ Syncing ◀─┐ Hello, Summary again
//	    │                     │                    │  └────┘ (the peer went back)
//	    │ out of order        │ out of order       │ a malformed message,
//	    │ (ordered link)      │ (ordered link)     │ a failed persist
//	    └─────────────────────┴────────────────────┴──────▶ Failed
//
// What each state does with each message kind (the table tests in
// state_test.go check every cell):
//
//	state        Hello          Summary        Batch, Ack, Blob*
//	WaitHello    → WaitSummary  out of order   out of order
//	WaitSummary  answered       → Syncing      out of order
//	Syncing      answered       go back        taken
//	Failed       the error      the error      the error
//
// "Out of order" is a protocol violation (ErrProtocol, → Failed) on an
// ordered transport — TCP, a bundle file — where an honest peer's first
// two messages are always its Hello and its Summary (Start queues them
// together, and every version so far sends them first: the keepalive, an
// empty Ack, goes only once the sender holds our Hello, after its own
// Summary). On a lossy transport (Config.Lossy: the simulation, the
// scenario harness) the Hello or the Summary may be lost or overtaken, so
// before the Hello a message is dropped (the peer sends its Hello again
// after RetransmitTicks) and before the Summary it is taken as in Syncing
// (the peer already holds our Summary and may be sending batches).
//
// Besides the state, a session keeps per-origin sender state (what the
// peer holds and what was sent of each origin): peerHeads, cursor, sent,
// blocked, retryIn, forkThrough — see Session — and the receive pipeline
// pending → persisting → ack (Ready, Persisted).
type StateType uint8

const (
	// StateWaitHello: the peer's Hello has not arrived. This side's Hello
	// and Summary are queued (Start); nothing else is sent.
	StateWaitHello StateType = iota
	// StateWaitSummary: the peer's Hello is held, its Summary is not: what
	// the peer holds is unknown, so no batch is built.
	StateWaitSummary
	// StateSyncing: both arrived. Batches, acks and the blob lane go both
	// ways; a repeated Hello or Summary (the peer went back after a
	// silence) is answered, never a reason to leave.
	StateSyncing
	// StateFailed: the peer broke the protocol, or a persist failed. Step,
	// Ready and Persisted return the error that ended the session; the
	// shell closes the connection. Nothing was written for the message that
	// failed it.
	StateFailed
)

var stateNames = [...]string{StateWaitHello: "wait-hello", StateWaitSummary: "wait-summary", StateSyncing: "syncing", StateFailed: "failed"}

func (st StateType) String() string {
	if int(st) < len(stateNames) {
		return stateNames[st]
	}
	return fmt.Sprintf("state(%d)", int(st))
}

// stepFunc handles one message in one state.
type stepFunc func(s *Session, m wire.Message) error

// State returns the session's state.
func (s *Session) State() StateType { return s.state }

// become is the one place a session changes state.
func (s *Session) become(st StateType, err error) {
	s.state = st
	switch st {
	case StateWaitHello:
		s.step = stepWaitHello
	case StateWaitSummary:
		s.step = stepWaitSummary
	case StateSyncing:
		s.step = stepSyncing
	case StateFailed:
		s.step = stepFailed
		s.failure = err
	}
}

// Step feeds one message received from the peer. An error wrapping
// ErrProtocol ends the session (StateFailed).
func (s *Session) Step(m wire.Message) error {
	err := s.step(s, m)
	if err != nil && s.state != StateFailed && isViolation(err) {
		s.become(StateFailed, err)
	}
	return err
}

func stepWaitHello(s *Session, m wire.Message) error {
	if h, ok := m.(*wire.Hello); ok {
		if err := checkHello(h); err != nil {
			return err
		}
		c := *h
		s.peer = &c
		s.become(StateWaitSummary, nil)
		return nil
	}
	if s.cfg.Lossy {
		s.stats.MessagesDropped++ // the Hello was lost or overtaken; the peer sends it again
		return nil
	}
	return s.outOfOrder(m)
}

func stepWaitSummary(s *Session, m wire.Message) error {
	switch m := m.(type) {
	case *wire.Hello:
		return s.handleHello(m)
	case *wire.Summary:
		s.become(StateSyncing, nil)
		return s.handleSummary(m)
	}
	if s.cfg.Lossy {
		return s.stepExchange(m) // the Summary was lost or overtaken; the peer holds ours
	}
	return s.outOfOrder(m)
}

func stepSyncing(s *Session, m wire.Message) error {
	switch m := m.(type) {
	case *wire.Hello:
		return s.handleHello(m)
	case *wire.Summary:
		return s.handleSummary(m)
	}
	return s.stepExchange(m)
}

func stepFailed(s *Session, _ wire.Message) error { return s.failure }

// stepExchange takes the messages of the exchange proper: batches, acks
// and the blob lane.
func (s *Session) stepExchange(m wire.Message) error {
	switch m := m.(type) {
	case *wire.Batch:
		return s.handleBatch(m)
	case *wire.Ack:
		return s.handleAck(m)
	case *wire.BlobStatus, *wire.BlobOffer, *wire.BlobChunk, *wire.BlobAck:
		return s.stepBlob(m)
	}
	return fmt.Errorf("%w: unexpected message %T", ErrProtocol, m)
}

// outOfOrder is the error for a message the state does not take.
func (s *Session) outOfOrder(m wire.Message) error {
	if !isKnown(m) {
		return fmt.Errorf("%w: unexpected message %T", ErrProtocol, m)
	}
	return fmt.Errorf("%w: %s before the peer's %s", ErrProtocol, m.Type(), map[StateType]string{StateWaitHello: "hello", StateWaitSummary: "summary"}[s.state])
}

// isKnown reports whether m is a message of the protocol.
func isKnown(m wire.Message) bool {
	switch m.(type) {
	case *wire.Hello, *wire.Summary, *wire.Batch, *wire.Ack, *wire.BlobStatus, *wire.BlobOffer, *wire.BlobChunk, *wire.BlobAck:
		return true
	}
	return false
}

// checkHello refuses a Hello no version of the protocol sends.
func checkHello(h *wire.Hello) error {
	if h.Version < 1 {
		return fmt.Errorf("%w: hello version %d", ErrProtocol, h.Version)
	}
	if h.Role != string(replication.RoleNode) && h.Role != string(replication.RoleHub) {
		return fmt.Errorf("%w: hello role %q", ErrProtocol, h.Role)
	}
	return nil
}
