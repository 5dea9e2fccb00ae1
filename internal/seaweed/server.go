package seaweed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"fieldsync/replication/blob/s3"
)

// Server is a running SeaweedFS (`weed server -s3`) on loopback.
type Server struct {
	Bin     string
	Dir     string // its data: master, volumes, filer store
	Creds   s3.Credentials
	Log     string // its log file
	ports   []int  // master, volume, filer, s3 and their gRPC ports
	sockDir string

	mu  sync.Mutex
	cmd *exec.Cmd
	out *os.File
}

// Options configure Start.
type Options struct {
	// Dir holds the server's data (default: a new temporary directory).
	Dir string
}

// portNames name the ports Start takes, in order.
var portNames = []string{"master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc", "s3", "s3.grpc"}

// StartBin starts the server binary bin and waits until its S3 gateway
// takes a signed write.
func StartBin(ctx context.Context, bin string, opts Options) (*Server, error) {
	dir := opts.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "seaweedfs-")
		if err != nil {
			return nil, err
		}
		dir = d
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	sock, err := os.MkdirTemp("", "sw") // unix sockets need a short path
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(len(portNames))
	if err != nil {
		return nil, err
	}
	s := &Server{Bin: bin, Dir: dir, ports: ports, sockDir: sock, Log: filepath.Join(dir, "weed.log"),
		Creds: s3.Credentials{AccessKey: "fieldsync-" + randHex(4), SecretKey: randHex(20)}}
	if err := s.writeConfig(); err != nil {
		return nil, err
	}
	if err := s.start(ctx); err != nil {
		s.Kill()
		return nil, err
	}
	return s, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// freePorts asks the kernel for n free loopback ports.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	out := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

// writeConfig writes the S3 gateway's identities: one admin with the
// server's credentials, so unsigned or wrongly signed requests are refused.
func (s *Server) writeConfig() error {
	cfg := map[string]any{"identities": []any{map[string]any{
		"name":        "fieldsync",
		"credentials": []any{map[string]string{"accessKey": s.Creds.AccessKey, "secretKey": s.Creds.SecretKey}},
		"actions":     []string{"Admin", "Read", "List", "Tagging", "Write"},
	}}}
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(s.Dir, "s3.json"), b, 0o600)
}

// Endpoint is the S3 gateway's base URL.
func (s *Server) Endpoint() string { return "http://127.0.0.1:" + strconv.Itoa(s.ports[6]) }

func (s *Server) args() []string {
	p := func(i int) string { return strconv.Itoa(s.ports[i]) }
	return []string{"server",
		"-dir=" + s.Dir, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port=" + p(0), "-master.port.grpc=" + p(1),
		"-master.telemetry=false", "-master.volumeSizeLimitMB=64", "-master.volumePreallocate=false",
		"-volume.port=" + p(2), "-volume.port.grpc=" + p(3), "-volume.max=64",
		"-filer", "-filer.port=" + p(4), "-filer.port.grpc=" + p(5),
		"-filer.localSocket=" + filepath.Join(s.sockDir, "f.sock"),
		"-s3", "-s3.port=" + p(6), "-s3.port.grpc=" + p(7),
		"-s3.port.iceberg=0", "-s3.port.lance=0",
		"-s3.config=" + filepath.Join(s.Dir, "s3.json"),
		"-s3.localSocket=" + filepath.Join(s.sockDir, "s.sock"),
	}
}

// start runs the process and waits until the gateway takes a signed PUT.
func (s *Server) start(ctx context.Context) error {
	out, err := os.OpenFile(s.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.Bin, s.args()...)
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=")
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("seaweed: start %s: %w", s.Bin, err)
	}
	s.mu.Lock()
	s.cmd, s.out = cmd, out
	s.mu.Unlock()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	c, err := s.Client("fieldsync-probe")
	if err != nil {
		return err
	}
	deadline := time.Now().Add(90 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("seaweed: the server exited while starting (%v); its log: %s", err, s.Log)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		last = c.CreateBucket(pctx)
		if last == nil {
			_, last = c.Put(pctx, "probe", []byte("ready"))
		}
		cancel()
		if last == nil {
			go func() { // reap without blocking Stop and Kill
				<-exited
				out.Close()
			}()
			return nil
		}
	}
	return fmt.Errorf("seaweed: the S3 gateway did not take a write in 90 s (%v); its log: %s", last, s.Log)
}

// Client returns a client of bucket on this server.
func (s *Server) Client(bucket string) (*s3.Client, error) {
	return s3.NewClient(s3.Config{Endpoint: s.Endpoint(), Bucket: bucket, Creds: s.Creds})
}

// Bucket returns a client of a new bucket, made.
func (s *Server) Bucket(ctx context.Context, name string) (*s3.Client, error) {
	c, err := s.Client(name)
	if err != nil {
		return nil, err
	}
	return c, c.CreateBucket(ctx)
}

// Kill ends the server with SIGKILL (its whole process group), as a
// crash would, and waits until its ports are free.
func (s *Server) Kill() error { return s.stop(syscall.SIGKILL) }

// Stop ends the server with SIGTERM.
func (s *Server) Stop() error { return s.stop(syscall.SIGTERM) }

func (s *Server) stop(sig syscall.Signal) error {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return nil
	}
	syscall.Kill(-cmd.Process.Pid, sig)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(cmd.Process.Pid, 0); errors.Is(err, syscall.ESRCH) {
			break
		}
		time.Sleep(50 * time.Millisecond)
		if time.Until(deadline) < 20*time.Second && sig != syscall.SIGKILL {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}
	// The reaper goroutine collects the process; wait for the ports.
	for time.Now().Before(deadline) {
		if portsFree(s.ports) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("seaweed: the server's ports are still taken 30 s after it was stopped")
}

func portsFree(ports []int) bool {
	for _, p := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

// Restart starts the server again on the same data and ports (after Kill
// or Stop).
func (s *Server) Restart(ctx context.Context) error {
	return s.start(ctx)
}

// Close stops the server and removes its sockets (not its data).
func (s *Server) Close() error {
	err := s.Stop()
	os.RemoveAll(s.sockDir)
	return err
}

// Mode is how tests find SeaweedFS (FIELDSYNC_SEAWEEDFS): "" (use the
// cached binary, skip without it), "require" (fail without it: CI) or
// "build" (build it when missing).
func Mode() string { return os.Getenv("FIELDSYNC_SEAWEEDFS") }

// Binary returns the binary for a test, skipping or failing as Mode says.
func Binary(t testing.TB) string {
	t.Helper()
	if bin, ok := Cached(); ok {
		return bin
	}
	switch Mode() {
	case "build":
		bin, err := Build(context.Background(), os.Stderr)
		if err != nil {
			t.Fatal(err)
		}
		return bin
	case "require":
		t.Fatalf("SeaweedFS is required (FIELDSYNC_SEAWEEDFS=require) but not built: run `go run ./internal/seaweed/build`")
	}
	t.Skip("SeaweedFS is not built, so the object-store tests skip: run `go run ./internal/seaweed/build` once (several minutes on 2 cores; cached), or set FIELDSYNC_SEAWEEDFS=build")
	return ""
}

// Start starts a server for a test in t.TempDir and stops it when the test
// ends (skipping the test when SeaweedFS is not built; see Binary).
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary(t)
	dir, err := os.MkdirTemp("", "seaweedfs-test-")
	if err != nil {
		t.Fatal(err)
	}
	s, err := StartBin(context.Background(), bin, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Kill() // its data is thrown away: no need to wait for a clean stop
		os.RemoveAll(s.sockDir)
		if !t.Failed() {
			os.RemoveAll(dir)
		} else {
			t.Logf("SeaweedFS data and log kept in %s", dir)
		}
	})
	return s
}

var shared struct {
	sync.Mutex
	srv *Server
	dir string
	err error
}

// Shared returns one server for all the tests of a package (started at
// the first call; skipping as Binary says). The package's TestMain calls
// StopShared after m.Run. Tests sharing it use their own bucket or prefix.
func Shared(t testing.TB) *Server {
	t.Helper()
	bin := Binary(t)
	shared.Lock()
	defer shared.Unlock()
	if shared.srv == nil && shared.err == nil {
		shared.dir, shared.err = os.MkdirTemp("", "seaweedfs-shared-")
		if shared.err == nil {
			shared.srv, shared.err = StartBin(context.Background(), bin, Options{Dir: shared.dir})
		}
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.srv
}

// StopShared stops the shared server, if one was started, and removes
// its data.
func StopShared() {
	shared.Lock()
	defer shared.Unlock()
	if shared.srv != nil {
		shared.srv.Kill()
		os.RemoveAll(shared.srv.sockDir)
		os.RemoveAll(shared.dir)
		shared.srv = nil
	}
}
