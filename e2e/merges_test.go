//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// crest runs the binary with args against srv and returns its stdout.
func crest(t *testing.T, srv *server, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(cmd.Environ(), "CREST_URL="+srv.URL, "CREST_API_KEY="+testAPIKey, "CREST_SECRET_KEY="+testSecretKey)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("crest %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

// TestUndoMergeCommand merges an anonymous device into a user, lists the
// merge and undoes it with `crest merges`, and checks the stored state.
func TestUndoMergeCommand(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	t0 := time.Now().Add(-time.Hour).UnixMilli()
	sendEvents(t, srv,
		fmt.Sprintf(`{"event_type":"Open App","device_id":"device-phone","time":%d,"insert_id":"m1"}`, t0),
		fmt.Sprintf(`{"event_type":"Open App","user_id":"carol@example.com","device_id":"device-laptop","time":%d,"insert_id":"m2"}`, t0+1000),
		fmt.Sprintf(`{"event_type":"Play Song","user_id":"carol@example.com","device_id":"device-phone","time":%d,"insert_id":"m3"}`, t0+2000),
	)
	// Find Carol's amplitude id through the Amplitude-compatible user search.
	req, _ := http.NewRequestWithContext(context.Background(), "GET", srv.URL+"/api/2/usersearch?user=carol@example.com", nil)
	req.SetBasicAuth(testAPIKey, testSecretKey)
	var found struct {
		Matches []struct {
			AmplitudeID int64 `json:"amplitude_id"`
		} `json:"matches"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(found.Matches) == 0 && time.Now().Before(deadline) {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = json.NewDecoder(resp.Body).Decode(&found)
		resp.Body.Close()
		if len(found.Matches) == 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if len(found.Matches) != 1 {
		t.Fatalf("usersearch found %+v", found)
	}
	carol := found.Matches[0].AmplitudeID

	list := crest(t, srv, "merges", "list", fmt.Sprint(carol))
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "device-phone") || !strings.Contains(lines[1], "merged") {
		t.Fatalf("merges list:\n%s", list)
	}
	anon := strings.Fields(lines[1])[0]
	undo := crest(t, srv, "merges", "undo", anon)
	if !strings.Contains(undo, "undone") {
		t.Fatalf("merges undo:\n%s", undo)
	}
	// Undoing an id that was never merged is a clear error, not a crash.
	cmd := exec.Command(binary(t), "merges", "undo", fmt.Sprint(carol))
	cmd.Env = append(cmd.Environ(), "CREST_URL="+srv.URL, "CREST_API_KEY="+testAPIKey, "CREST_SECRET_KEY="+testSecretKey)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "never merged") {
		t.Fatalf("undo of a user id: err %v, output %s", err, out)
	}
	srv.stop()

	// The undo survived the restart: the merge is stored as undone.
	srv = startServer(t, dir)
	if list := crest(t, srv, "merges", "list", fmt.Sprint(carol)); !strings.Contains(list, "undone") {
		t.Fatalf("after restart, merges list:\n%s", list)
	}
	srv.stop()
}
