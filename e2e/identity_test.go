//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/storage/duckdb"
)

// sendEvents posts events (JSON objects without api_key) to /2/httpapi and
// fails the test unless they are acknowledged.
func sendEvents(t *testing.T, srv *server, events ...string) {
	t.Helper()
	body := fmt.Sprintf(`{"api_key":%q,"events":[%s]}`, testAPIKey, strings.Join(events, ","))
	code, ans, err := post(context.Background(), srv.URL+"/2/httpapi", "application/json", []byte(body))
	if err != nil || code != 200 || ans.Code != 200 {
		t.Fatalf("send: %d %+v %v", code, ans, err)
	}
}

// postForm posts form values to path and fails unless the answer is 200 "success".
func postForm(t *testing.T, srv *server, path string, form url.Values) {
	t.Helper()
	resp, err := http.PostForm(srv.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "success" {
		t.Fatalf("%s: %d %q", path, resp.StatusCode, body)
	}
}

// TestIdentityEndToEnd follows one person through anonymous use, a login,
// a second device, identify operations and a group, with a restart in the
// middle, and checks the stored canonical ids and properties.
func TestIdentityEndToEnd(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Now().Add(-2 * time.Hour).UnixMilli()
	ev := func(offset int, typ, user, device string, extra string) string {
		s := fmt.Sprintf(`{"event_type":%q,"device_id":%q,"time":%d,"insert_id":"ins-%d"`, typ, device, t0+int64(offset)*1000, offset)
		if user != "" {
			s += fmt.Sprintf(`,"user_id":%q`, user)
		}
		if extra != "" {
			s += "," + extra
		}
		return s + "}"
	}

	srv := startServer(t, dir)
	// Anonymous use on the web, then a login on that device.
	sendEvents(t, srv,
		ev(1, "Open App", "", "device-web-1", `"session_id":1,"user_properties":{"plan":"free"}`),
		ev(2, "Search", "", "device-web-1", `"session_id":1`),
	)
	sendEvents(t, srv, ev(3, "Play Song", "alice@example.com", "device-web-1", `"session_id":1`))
	// A second device, anonymous at first.
	sendEvents(t, srv, ev(4, "Open App", "", "device-ios-2", `"platform":"iOS"`))
	srv.stop()

	srv = startServer(t, dir)
	// Alice logs in on the second device: its anonymous id merges into hers.
	sendEvents(t, srv, ev(5, "Play Song", "alice@example.com", "device-ios-2", ""))
	// Anonymous events after the login belong to Alice.
	sendEvents(t, srv, ev(6, "Pause Song", "", "device-ios-2", ""))
	// Identify operations through the Identify API and an $identify event.
	postForm(t, srv, "/identify", url.Values{"api_key": {testAPIKey}, "identification": {
		`{"user_id":"alice@example.com","user_properties":{"$set":{"plan":"paid"},"$add":{"logins":2},"$append":{"tags":"beta"}}}`}})
	sendEvents(t, srv, ev(7, "$identify", "alice@example.com", "device-ios-2",
		`"user_properties":{"$setOnce":{"plan":"ignored","first_song":"jazz"},"$add":{"logins":1},"$unset":{"tags":"-"}},"groups":{"org":"acme"}`))
	postForm(t, srv, "/groupidentify", url.Values{"api_key": {testAPIKey}, "identification": {
		`{"group_type":"org","group_value":"acme","group_properties":{"$set":{"tier":"enterprise"}}}`}})
	sendEvents(t, srv, ev(8, "Share Song", "alice@example.com", "device-web-1", `"groups":{"org":"acme"}`))
	// Bob on Alice's web device: a second person on a shared device.
	sendEvents(t, srv, ev(9, "Open App", "bob@example.com", "device-web-1", ""))
	srv.stop()

	db, err := duckdb.Open(context.Background(), dir+"/events.duckdb", duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	query := func(q string, args ...any) [][]any {
		t.Helper()
		rows, err := db.QueryContext(context.Background(), q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var out [][]any
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out = append(out, vals)
		}
		return out
	}

	// Canonical id per stored event, in order.
	rows := query(`SELECT e.insert_id, e.event_type, coalesce(m.into_id, e.amplitude_id), e.user_properties
		FROM events e LEFT JOIN merges m ON m.project_id = e.project_id AND m.from_id = e.amplitude_id AND NOT m.undone
		ORDER BY e.seq`)
	canon := map[string]int64{}
	snap := map[string]string{}
	for _, r := range rows {
		id := fmt.Sprint(r[0])
		canon[id] = r[2].(int64)
		if r[3] != nil {
			snap[id] = fmt.Sprint(r[3])
		}
	}
	alice := canon["ins-3"]
	for _, id := range []string{"ins-1", "ins-2", "ins-3", "ins-4", "ins-5", "ins-6", "ins-7", "ins-8"} {
		if canon[id] != alice {
			t.Errorf("event %s has canonical id %d, want Alice's %d (all: %v)", id, canon[id], alice, canon)
		}
	}
	if canon["ins-9"] == alice || canon["ins-9"] == 0 {
		t.Errorf("Bob's event has canonical id %d: want a new id, not Alice's %d", canon["ins-9"], alice)
	}
	if len(rows) != 9 {
		t.Errorf("stored %d events, want 9 (the Identify API calls store none)", len(rows))
	}

	merges := query(`SELECT from_id, into_id, device_id FROM merges`)
	if len(merges) != 1 || merges[0][1].(int64) != alice || merges[0][2] != "device-ios-2" {
		t.Errorf("merges = %v, want one merge of device-ios-2's anonymous id into %d", merges, alice)
	}

	// Snapshots: the property as of each event, not today's value.
	wantSnap := map[string]map[string]any{
		"ins-1": {"plan": "free"},
		"ins-3": {"plan": "free"},
		"ins-8": {"plan": "paid", "logins": float64(3), "first_song": "jazz", "org": "acme"},
	}
	for id, want := range wantSnap {
		var got map[string]any
		if err := json.Unmarshal([]byte(snap[id]), &got); err != nil {
			t.Fatalf("snapshot of %s: %q: %v", id, snap[id], err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("snapshot of %s = %v, want %v", id, got, want)
		}
	}

	users := query(`SELECT properties FROM users WHERE user_id = 'alice@example.com'`)
	if len(users) != 1 {
		t.Fatalf("users rows for alice: %v", users)
	}
	var props map[string]any
	if err := json.Unmarshal([]byte(fmt.Sprint(users[0][0])), &props); err != nil {
		t.Fatal(err)
	}
	if want := (map[string]any{"plan": "paid", "logins": float64(3), "first_song": "jazz", "org": "acme"}); fmt.Sprint(props) != fmt.Sprint(want) {
		t.Errorf("alice's current properties = %v, want %v", props, want)
	}
	groups := query(`SELECT properties FROM groups WHERE group_type = 'org' AND group_value = 'acme'`)
	if len(groups) != 1 || !strings.Contains(fmt.Sprint(groups[0][0]), `"tier":"enterprise"`) {
		t.Errorf("group acme = %v, want tier enterprise", groups)
	}
}
