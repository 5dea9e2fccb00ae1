package gossip

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"
)

// TestBulkTransferChoice is the measurement behind doc.go's choice of a
// dedicated sync stream over memberlist for bulk data: a 60 KiB
// incompressible payload over an emulated 128 kbit/s, 300 ms RTT link.
// SendReliable with memberlist's Local TCPTimeout (1 s, less than the
// transfer takes) returns nil and the receiver never gets the message;
// with the field value it arrives but the sender cannot know; the stream
// with an application ack is confirmed.
func TestBulkTransferChoice(t *testing.T) {
	t.Parallel()
	cases := []BulkOptions{
		{Method: BulkSendReliable, TCPTimeout: time.Second, Wait: 6 * time.Second},
		{Method: BulkSendReliable, TCPTimeout: fieldTCPTimeout},
		{Method: BulkStream},
	}
	reports := runBulk(t, cases)
	for _, r := range reports {
		t.Log(r)
	}
	if r := reports[0]; !r.SilentLoss() {
		t.Errorf("SendReliable with a 1 s TCPTimeout: want a silent loss, got %v", r)
	}
	if r := reports[1]; !r.Delivered || r.Confirmed || r.SendErr != nil {
		t.Errorf("SendReliable with the field TCPTimeout: %v", r)
	}
	if r := reports[2]; !r.Delivered || !r.Confirmed {
		t.Errorf("stream: %v", r)
	}
	// The serialisation alone takes 60 KiB × 8 / 128 kbit/s = 3.84 s.
	for _, r := range reports[1:] {
		if r.DeliveredAfter < 3800*time.Millisecond {
			t.Errorf("%s delivered after %v: faster than the link", r.Method, r.DeliveredAfter)
		}
	}
}

// TestBulkTransferMatrix measures more timeouts and a day's backlog
// (600 KiB); run with GOSSIP_BULK_ALL=1 (about a minute).
func TestBulkTransferMatrix(t *testing.T) {
	if os.Getenv("GOSSIP_BULK_ALL") == "" {
		t.Skip("set GOSSIP_BULK_ALL=1 for the full bulk-transfer matrix")
	}
	var cases []BulkOptions
	for _, size := range []int{60 << 10, 600 << 10} {
		for _, to := range []time.Duration{time.Second, 10 * time.Second, 30 * time.Second, fieldTCPTimeout} {
			cases = append(cases, BulkOptions{Method: BulkSendReliable, Size: size, TCPTimeout: to})
		}
		cases = append(cases, BulkOptions{Method: BulkStream, Size: size})
	}
	for _, r := range runBulk(t, cases) {
		t.Log(r)
	}
}

// runBulk runs the cases side by side (each on its own link).
func runBulk(t *testing.T, cases []BulkOptions) []BulkReport {
	t.Helper()
	out := make([]BulkReport, len(cases))
	var wg sync.WaitGroup
	for i, o := range cases {
		wg.Go(func() {
			r, err := MeasureBulk(context.Background(), o)
			if err != nil {
				t.Error(err)
			}
			out[i] = r
		})
	}
	wg.Wait()
	return out
}
