//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"testing"
	"time"
)

// TestFunnelRetentionAPI sends events through /batch and reads them back
// through /api/2/funnels, /api/2/retention and /api/2/sessions/*.
func TestFunnelRetentionAPI(t *testing.T) {
	srv := startServer(t, t.TempDir())
	today := time.Now().UTC().Truncate(24 * time.Hour)
	d0 := today.AddDate(0, 0, -5)
	at := func(day, hour, min int) int64 {
		return d0.AddDate(0, 0, day).Add(time.Duration(hour)*time.Hour + time.Duration(min)*time.Minute).UnixMilli()
	}
	type ev map[string]any
	events := []ev{
		// alice: search, search, cart on day 0, back on day 1 (a 24-48 h return).
		{"event_type": "Search", "user_id": "alice-1", "device_id": "device-a", "time": at(0, 10, 0), "session_id": at(0, 10, 0)},
		{"event_type": "Search", "user_id": "alice-1", "device_id": "device-a", "time": at(0, 10, 1), "session_id": at(0, 10, 0)},
		{"event_type": "Cart", "user_id": "alice-1", "device_id": "device-a", "time": at(0, 10, 5), "session_id": at(0, 10, 0)},
		{"event_type": "Search", "user_id": "alice-1", "device_id": "device-a", "time": at(1, 11, 0), "session_id": at(1, 11, 0)},
		// bob: search on day 0, nothing else.
		{"event_type": "Search", "user_id": "bob-2", "device_id": "device-b", "time": at(0, 12, 0), "session_id": at(0, 12, 0)},
		// an anonymous device searches, its user logs in (a merge) and carts.
		{"event_type": "Open", "user_id": "carol-3", "device_id": "device-c1", "time": at(0, 8, 0), "session_id": at(0, 8, 0)},
		{"event_type": "Search", "device_id": "device-c2", "time": at(0, 13, 0), "session_id": at(0, 13, 0)},
		{"event_type": "Login", "user_id": "carol-3", "device_id": "device-c2", "time": at(0, 13, 2), "session_id": at(0, 13, 0)},
		{"event_type": "Cart", "user_id": "carol-3", "device_id": "device-c2", "time": at(0, 13, 4), "session_id": at(0, 13, 0)},
	}
	for i, e := range events {
		e["insert_id"] = fmt.Sprintf("f-%d", i)
	}
	body, err := json.Marshal(map[string]any{"api_key": testAPIKey, "events": events})
	if err != nil {
		t.Fatal(err)
	}
	if code, ans, err := post(context.Background(), srv.URL+"/batch", "application/json", body); err != nil || code != 200 {
		t.Fatalf("batch: %d %+v %v", code, ans, err)
	}
	waitApplied(t, srv.URL, time.Minute)
	start, end := d0.Format("20060102"), d0.AddDate(0, 0, 1).Format("20060102")

	var fun struct {
		Data []struct {
			Events        []string  `json:"events"`
			CumulativeRaw []int64   `json:"cumulativeRaw"`
			Cumulative    []float64 `json:"cumulative"`
			StepByStep    []float64 `json:"stepByStep"`
			DayFunnels    struct {
				Series  [][]int64 `json:"series"`
				XValues []string  `json:"xValues"`
			} `json:"dayFunnels"`
		} `json:"data"`
	}
	params := url.Values{"e": {`{"event_type":"Search"}`, `{"event_type":"Cart"}`}, "start": {start}, "end": {end}}
	if code := getAPI2(t, srv.URL, "/api/2/funnels", params, &fun); code != 200 {
		t.Fatalf("funnels: status %d", code)
	}
	// alice (once, despite two searches), bob, carol (merged: once).
	if len(fun.Data) != 1 || !reflect.DeepEqual(fun.Data[0].CumulativeRaw, []int64{3, 2}) {
		t.Fatalf("funnels = %+v, want cumulativeRaw [3 2]", fun.Data)
	}
	if got := fun.Data[0]; !reflect.DeepEqual(got.Events, []string{"Search", "Cart"}) || got.StepByStep[1] != 2.0/3 ||
		!reflect.DeepEqual(got.DayFunnels.Series, [][]int64{{3, 2}, {1, 0}}) {
		t.Errorf("funnels = %+v", got)
	}
	params.Set("mode", "sequential")
	if code := getAPI2(t, srv.URL, "/api/2/funnels", params, &fun); code != 200 || !reflect.DeepEqual(fun.Data[0].CumulativeRaw, []int64{3, 1}) {
		// Exact order: carol's Login comes between her search and cart.
		t.Errorf("sequential funnels: %d %+v, want [3 1]", code, fun.Data)
	}
	params.Set("mode", "sideways")
	if code := getAPI2(t, srv.URL, "/api/2/funnels", params, nil); code != 400 {
		t.Errorf("bad mode: status %d, want 400", code)
	}

	type cell struct {
		Count      int64 `json:"count"`
		OutOf      int64 `json:"outof"`
		Incomplete bool  `json:"incomplete"`
	}
	var ret struct {
		Data struct {
			Series []struct {
				Dates    []string          `json:"dates"`
				Values   map[string][]cell `json:"values"`
				Combined []cell            `json:"combined"`
			} `json:"series"`
			SeriesMeta []map[string]int `json:"seriesMeta"`
		} `json:"data"`
	}
	rp := url.Values{"se": {`{"event_type":"Search"}`}, "re": {`{"event_type":"Search"}`}, "start": {start}, "end": {end}}
	if code := getAPI2(t, srv.URL, "/api/2/retention", rp, &ret); code != 200 {
		t.Fatalf("retention: status %d", code)
	}
	if len(ret.Data.Series) != 1 {
		t.Fatalf("retention = %+v", ret.Data)
	}
	s := ret.Data.Series[0]
	day0, day1 := d0.Format("2006-01-02"), d0.AddDate(0, 0, 1).Format("2006-01-02")
	if !reflect.DeepEqual(s.Dates, []string{day1, day0}) {
		t.Errorf("dates = %v, want descending %v", s.Dates, []string{day1, day0})
	}
	// Day-0 cohort: alice, bob, carol; day 0 all (the start is a return),
	// day 1 alice (25 h later).
	c := s.Values[day0]
	if len(c) < 3 || c[0].Count != 3 || c[1].Count != 3 || c[2].Count != 1 || c[2].Incomplete {
		t.Errorf("day-0 cohort cells = %+v", c)
	}
	if s.Combined[2].Count != 1 || s.Combined[2].OutOf != 4 {
		t.Errorf("combined day 1 = %+v, want 1 of 4 (both cohorts complete)", s.Combined[2])
	}
	rp.Set("rm", "rolling")
	if code := getAPI2(t, srv.URL, "/api/2/retention", rp, &ret); code != 200 {
		t.Fatalf("retention rolling: status %d", code)
	}

	var sess struct {
		Data struct {
			Series  [][]float64 `json:"series"`
			XValues []string    `json:"xValues"`
		} `json:"data"`
	}
	sp := url.Values{"start": {start}, "end": {end}}
	if code := getAPI2(t, srv.URL, "/api/2/sessions/peruser", sp, &sess); code != 200 {
		t.Fatalf("sessions/peruser: status %d", code)
	}
	// Day 0: alice 1, bob 1, carol 2 sessions (c1 and c2): 4 / 3.
	if len(sess.Data.Series) != 1 || sess.Data.Series[0][0] != 4.0/3 || sess.Data.Series[0][1] != 1 {
		t.Errorf("sessions per user = %+v", sess.Data)
	}
	if code := getAPI2(t, srv.URL, "/api/2/sessions/length", sp, &sess); code != 200 || len(sess.Data.Series) != 1 || len(sess.Data.XValues) != 9 {
		t.Errorf("sessions/length: %d %+v", code, sess.Data)
	}
}
