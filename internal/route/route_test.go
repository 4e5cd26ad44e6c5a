package route

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// node is a fake ingestion handler that records the device_ids it got.
type node struct {
	mu      sync.Mutex
	devices []string
	code    int
}

func (n *node) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Events []struct {
			DeviceID string `json:"device_id"`
		} `json:"events"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &b); err != nil {
		w.WriteHeader(400)
		return
	}
	n.mu.Lock()
	for _, e := range b.Events {
		n.devices = append(n.devices, e.DeviceID)
	}
	n.mu.Unlock()
	code := n.code
	if code == 0 {
		code = 200
	}
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"code":%d}`, code)
}

func setup(t *testing.T) (*Router, *node, *node) {
	t.Helper()
	local, remote := &node{}, &node{}
	srv := httptest.NewServer(remote) // the peer serves forwarded parts only
	t.Cleanup(srv.Close)
	r, err := New("a", map[string]string{"a": "http://unused", "b": srv.URL}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return r, local, remote
}

func post(t *testing.T, h http.Handler, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", "/2/httpapi", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// devicesOf returns n device ids owned by owner.
func devicesOf(r *Router, owner string, n int) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		d := fmt.Sprintf("device-%d", i)
		if r.Owner("d:"+d) == owner {
			out = append(out, d)
		}
	}
	return out
}

func TestSplitBatch(t *testing.T) {
	r, local, remote := setup(t)
	mine, theirs := devicesOf(r, "a", 2), devicesOf(r, "b", 2)
	body := fmt.Sprintf(`{"api_key":"k","events":[{"device_id":%q},{"device_id":%q},{"device_id":%q},{"device_id":%q}]}`,
		mine[0], theirs[0], mine[1], theirs[1])
	w := post(t, r.Wrap(local), body)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"events_ingested":4`) {
		t.Fatalf("answer %d %s", w.Code, w.Body)
	}
	if fmt.Sprint(local.devices) != fmt.Sprint(mine) || fmt.Sprint(remote.devices) != fmt.Sprint(theirs) {
		t.Errorf("local got %v (want %v), remote got %v (want %v)", local.devices, mine, remote.devices, theirs)
	}
}

func TestAllLocalPassesThrough(t *testing.T) {
	r, local, remote := setup(t)
	mine := devicesOf(r, "a", 1)
	w := post(t, r.Wrap(local), fmt.Sprintf(`{"api_key":"k","events":[{"device_id":%q}]}`, mine[0]))
	if w.Code != 200 || w.Body.String() != `{"code":200}` || len(remote.devices) != 0 {
		t.Fatalf("answer %d %s, remote %v", w.Code, w.Body, remote.devices)
	}
}

func TestForwardedIsServedHere(t *testing.T) {
	r, local, _ := setup(t)
	theirs := devicesOf(r, "b", 1)
	req := httptest.NewRequest("POST", "/2/httpapi", strings.NewReader(fmt.Sprintf(`{"events":[{"device_id":%q}]}`, theirs[0])))
	req.Header.Set(Header, "b")
	w := httptest.NewRecorder()
	r.Wrap(local).ServeHTTP(w, req)
	if w.Code != 200 || len(local.devices) != 1 {
		t.Fatalf("answer %d, local %v", w.Code, local.devices)
	}
}

func TestPeerFailureStoresNothingHere(t *testing.T) {
	r, local, remote := setup(t)
	remote.code = 500
	mine, theirs := devicesOf(r, "a", 1), devicesOf(r, "b", 1)
	w := post(t, r.Wrap(local), fmt.Sprintf(`{"events":[{"device_id":%q},{"device_id":%q}]}`, mine[0], theirs[0]))
	if w.Code != 500 || len(local.devices) != 0 {
		t.Fatalf("answer %d %s, local %v", w.Code, w.Body, local.devices)
	}
}

func TestOwnerSpreads(t *testing.T) {
	r, err := New("a", map[string]string{"a": "", "b": "", "c": ""}, nil)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for i := range 3000 {
		count[r.Owner(fmt.Sprintf("d:%d", i))]++
	}
	for _, n := range []string{"a", "b", "c"} {
		if count[n] < 800 || count[n] > 1200 {
			t.Errorf("node %s owns %d of 3000 keys", n, count[n])
		}
	}
	if r.Index("a") != 0 || r.Index("c") != 2 {
		t.Errorf("Index = %d, %d", r.Index("a"), r.Index("c"))
	}
}

func TestParsePeers(t *testing.T) {
	p, err := ParsePeers("a=http://h:1, b=http://h:2")
	if err != nil || len(p) != 2 || p["b"] != "http://h:2" {
		t.Fatalf("ParsePeers = %v, %v", p, err)
	}
	if _, err := ParsePeers("a"); err == nil {
		t.Error("ParsePeers(a) succeeded")
	}
}
