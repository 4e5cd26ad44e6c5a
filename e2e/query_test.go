//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// getAPI2 calls a Dashboard API endpoint with HTTP Basic (API key and
// secret key) and decodes the JSON answer into v.
func getAPI2(tb testing.TB, base, path string, params url.Values, v any) int {
	tb.Helper()
	req, err := http.NewRequest("GET", base+path+"?"+params.Encode(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.SetBasicAuth(testAPIKey, testSecretKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			tb.Fatalf("%s: answer %d is not JSON: %q", path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode
}

// waitApplied waits up to limit until everything durable in the WAL is
// in the store.
func waitApplied(tb testing.TB, base string, limit time.Duration) {
	tb.Helper()
	target := getReadyz(tb, base).WALDurable
	deadline := time.Now().Add(limit)
	for getReadyz(tb, base).Applied < target {
		if time.Now().After(deadline) {
			tb.Fatalf("events not applied within %s", limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestQueryAPI sends events through /batch and reads them back through
// /api/2/events/segmentation, /api/2/usersearch and /api/2/useractivity.
func TestQueryAPI(t *testing.T) {
	srv := startServer(t, t.TempDir())
	// Three days ending yesterday (UTC, the default project's zone).
	today := time.Now().UTC().Truncate(24 * time.Hour)
	d0 := today.AddDate(0, 0, -3)
	at := func(day, hour, min int) int64 {
		return d0.AddDate(0, 0, day).Add(time.Duration(hour)*time.Hour + time.Duration(min)*time.Minute).UnixMilli()
	}
	type ev map[string]any
	events := []ev{
		// alice on d1; an anonymous device d2 that alice later logs in on (a merge).
		{"event_type": "Play", "user_id": "alice-1", "device_id": "device-1", "time": at(0, 10, 0), "session_id": at(0, 10, 0), "event_properties": ev{"genre": "rock"}},
		{"event_type": "Play", "device_id": "device-2", "time": at(0, 11, 0), "session_id": at(0, 11, 0), "event_properties": ev{"genre": "jazz"}},
		{"event_type": "Play", "user_id": "bob-12", "device_id": "device-3", "time": at(0, 12, 0), "session_id": at(0, 12, 0)},
		{"event_type": "Play", "device_id": "device-2", "time": at(1, 9, 0), "session_id": at(1, 9, 0), "event_properties": ev{"genre": "rock"}},
		{"event_type": "Login", "user_id": "alice-1", "device_id": "device-2", "time": at(1, 9, 5), "session_id": at(1, 9, 0)},
		{"event_type": "Play", "user_id": "alice-1", "device_id": "device-2", "time": at(2, 8, 0), "session_id": at(2, 8, 0), "event_properties": ev{"genre": "rock"}},
	}
	for i, e := range events {
		e["insert_id"] = fmt.Sprintf("q-%d", i)
	}
	body, err := json.Marshal(map[string]any{"api_key": testAPIKey, "events": events})
	if err != nil {
		t.Fatal(err)
	}
	code, ans, err := post(context.Background(), srv.URL+"/batch", "application/json", body)
	if err != nil || code != 200 {
		t.Fatalf("batch: %d %+v %v", code, ans, err)
	}
	waitApplied(t, srv.URL, time.Minute)

	start, end := d0.Format("20060102"), d0.AddDate(0, 0, 2).Format("20060102")
	xs := []string{d0.Format("2006-01-02"), d0.AddDate(0, 0, 1).Format("2006-01-02"), d0.AddDate(0, 0, 2).Format("2006-01-02")}
	type segData struct {
		Data struct {
			Series          [][]float64 `json:"series"`
			SeriesLabels    []any       `json:"seriesLabels"`
			SeriesCollapsed [][]struct {
				Value float64 `json:"value"`
			} `json:"seriesCollapsed"`
			XValues []string `json:"xValues"`
		} `json:"data"`
	}
	seg := func(params url.Values) segData {
		t.Helper()
		params.Set("start", start)
		params.Set("end", end)
		var d segData
		if code := getAPI2(t, srv.URL, "/api/2/events/segmentation", params, &d); code != 200 {
			t.Fatalf("segmentation %v: status %d", params, code)
		}
		if !reflect.DeepEqual(d.Data.XValues, xs) {
			t.Errorf("xValues = %v, want %v", d.Data.XValues, xs)
		}
		return d
	}
	// Uniques: day 0 alice, anonymous d2 (merged into alice), bob → 2;
	// day 1 d2 → alice → 1; day 2 alice → 1; range {alice, bob} → 2.
	d := seg(url.Values{"e": {`{"event_type":"Play"}`}})
	if want := [][]float64{{2, 1, 1}}; !reflect.DeepEqual(d.Data.Series, want) {
		t.Errorf("uniques series = %v, want %v", d.Data.Series, want)
	}
	if len(d.Data.SeriesCollapsed) != 1 || d.Data.SeriesCollapsed[0][0].Value != 2 {
		t.Errorf("uniques collapsed = %+v, want 2", d.Data.SeriesCollapsed)
	}
	// Totals grouped by genre: rock 1,1,1; jazz 1,0,0; (none) 1,0,0.
	d = seg(url.Values{"e": {`{"event_type":"Play","group_by":[{"type":"event","value":"genre"}]}`}, "m": {"totals"}})
	got := map[string][]float64{}
	for i, l := range d.Data.SeriesLabels {
		got[fmt.Sprint(l)] = d.Data.Series[i]
	}
	want := map[string][]float64{"[0 rock]": {1, 1, 1}, "[0 jazz]": {1, 0, 0}, "[0 (none)]": {1, 0, 0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("totals by genre = %v, want %v", got, want)
	}
	// A bad parameter is a 400 that says what is wrong.
	var env struct {
		Error struct{ Message string } `json:"error"`
	}
	if code := getAPI2(t, srv.URL, "/api/2/events/segmentation", url.Values{"e": {`{"event_type":"Play"}`}, "start": {start}, "end": {end}, "m": {"bogus"}}, &env); code != 400 || !strings.Contains(env.Error.Message, "bogus") {
		t.Errorf("bad metric: status %d, %+v", code, env)
	}

	var search struct {
		Matches []struct {
			UserID      string `json:"user_id"`
			AmplitudeID int64  `json:"amplitude_id"`
		} `json:"matches"`
		Type string `json:"type"`
	}
	if code := getAPI2(t, srv.URL, "/api/2/usersearch", url.Values{"user": {"device-2"}}, &search); code != 200 || len(search.Matches) != 1 || search.Matches[0].UserID != "alice-1" {
		t.Fatalf("usersearch device-2: status %d, %+v", code, search)
	}
	var act struct {
		UserData struct {
			UserID      string   `json:"user_id"`
			Canonical   int64    `json:"canonical_amplitude_id"`
			Merged      []int64  `json:"merged_amplitude_ids"`
			NumEvents   int64    `json:"num_events"`
			NumSessions int64    `json:"num_sessions"`
			DeviceIDs   []string `json:"device_ids"`
		} `json:"userData"`
		Events []struct {
			EventType string `json:"event_type"`
			EventTime string `json:"event_time"`
			SessionID int64  `json:"session_id"`
		} `json:"events"`
	}
	if code := getAPI2(t, srv.URL, "/api/2/useractivity", url.Values{"user": {fmt.Sprint(search.Matches[0].AmplitudeID)}}, &act); code != 200 {
		t.Fatalf("useractivity: status %d", code)
	}
	u := act.UserData
	if u.UserID != "alice-1" || u.Canonical != search.Matches[0].AmplitudeID || len(u.Merged) != 1 || u.NumEvents != 5 || u.NumSessions != 4 {
		t.Errorf("userData = %+v, want alice with one merged id, 5 events in 4 sessions", u)
	}
	var types []string
	for _, e := range act.Events {
		types = append(types, e.EventType)
	}
	// Newest first: day 2 Play, day 1 Login, day 1 Play (anonymous, merged), day 0 Play (d2), day 0 Play (d1).
	if want := []string{"Play", "Login", "Play", "Play", "Play"}; !reflect.DeepEqual(types, want) {
		t.Errorf("activity types = %v, want %v", types, want)
	}
	if len(act.Events) > 0 && act.Events[0].EventTime != time.UnixMilli(at(2, 8, 0)).UTC().Format("2006-01-02 15:04:05.000000") {
		t.Errorf("first event time = %s", act.Events[0].EventTime)
	}
	// Active users per day (merged anonymous id counted as alice).
	var users struct {
		Data struct {
			Series  [][]float64 `json:"series"`
			XValues []string    `json:"xValues"`
		} `json:"data"`
	}
	if code := getAPI2(t, srv.URL, "/api/2/users", url.Values{"start": {start}, "end": {end}}, &users); code != 200 ||
		!reflect.DeepEqual(users.Data.Series, [][]float64{{2, 1, 1}}) || !reflect.DeepEqual(users.Data.XValues, xs) {
		t.Errorf("users: status %d, %+v", code, users)
	}
	var list struct {
		Data []struct {
			Value     string `json:"value"`
			NonActive bool   `json:"non_active"`
		} `json:"data"`
	}
	if code := getAPI2(t, srv.URL, "/api/2/events/list", nil, &list); code != 200 || len(list.Data) != 2 || list.Data[0].Value != "Play" || list.Data[1].Value != "Login" {
		t.Errorf("events/list: status %d, %+v", code, list)
	}

	// Without credentials the Dashboard API answers 401.
	resp, err := http.Get(srv.URL + "/api/2/useractivity?user=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no credentials: status %d, want 401", resp.StatusCode)
	}
}
