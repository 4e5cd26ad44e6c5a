//go:build e2e

// Package e2e holds end-to-end tests that build-and-start the real crest
// binary (CREST_BIN) and talk to it over HTTP.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	testAPIKey    = "e2e-api-key-0123456789abcdef"
	testSecretKey = "e2e-secret-key-0123456789abcdef"
)

// server is a running crest binary.
type server struct {
	t    testing.TB
	cmd  *exec.Cmd
	URL  string
	Data string
	logs *syncBuffer
	done chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func binary(t testing.TB) string {
	bin := os.Getenv("CREST_BIN")
	if bin == "" {
		t.Fatal("CREST_BIN is not set: run the end-to-end tests with `make test-e2e`")
	}
	return bin
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServer starts crest serve on dataDir and waits until it is ready.
func startServer(t testing.TB, dataDir string, extraArgs ...string) *server {
	t.Helper()
	port := freePort(t)
	args := append([]string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--data", dataDir}, extraArgs...)
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), "CREST_API_KEY="+testAPIKey, "CREST_SECRET_KEY="+testSecretKey)
	s := &server{t: t, cmd: cmd, URL: fmt.Sprintf("http://127.0.0.1:%d", port), Data: dataDir, logs: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout = s.logs
	cmd.Stderr = s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("server output:\n%s", s.logs.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		select {
		case err := <-s.done:
			t.Fatalf("server exited before it was ready: %v\n%s", err, s.logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("server not ready within 60s\n%s", s.logs.String())
	return nil
}

// kill stops the server with SIGKILL, as a crash would.
func (s *server) kill() {
	s.t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// stop stops the server gracefully and checks that it exited cleanly.
func (s *server) stop() {
	s.t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Fatalf("server exited with %v\n%s", err, s.logs.String())
		}
	case <-time.After(120 * time.Second):
		s.t.Fatalf("server did not stop within 120s\n%s", s.logs.String())
	}
}

// ingestAnswer is Amplitude's answer body.
type ingestAnswer struct {
	Code           int    `json:"code"`
	Error          string `json:"error"`
	EventsIngested int    `json:"events_ingested"`
}

// post sends body to path and decodes the answer; a transport error is returned.
func post(ctx context.Context, url, contentType string, body []byte) (int, ingestAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return 0, ingestAnswer{}, err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, ingestAnswer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, ingestAnswer{}, err
	}
	var a ingestAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		return resp.StatusCode, a, fmt.Errorf("answer %d is not JSON: %q", resp.StatusCode, raw)
	}
	return resp.StatusCode, a, nil
}
