//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"github.com/crest-analytics/crest/internal/route"
	"github.com/crest-analytics/crest/internal/storage/clickhouse"
)

// scaleOutEnv returns the ClickHouse and PostgreSQL URLs of
// scripts/ci-services.sh, each pointing at a fresh database (schema)
// dropped when t ends.
func scaleOutEnv(t *testing.T) (chURL, pgURL string) {
	t.Helper()
	chDSN, pgDSN := os.Getenv("CREST_TEST_CLICKHOUSE"), os.Getenv("CREST_TEST_POSTGRES")
	if chDSN == "" || pgDSN == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CREST_TEST_CLICKHOUSE and CREST_TEST_POSTGRES must be set; scripts/ci-services.sh starts the servers")
		}
		t.Skip("CREST_TEST_CLICKHOUSE or CREST_TEST_POSTGRES is not set; run scripts/ci-services.sh and source /tmp/crest-ci-services.env")
	}
	var b [6]byte
	rand.Read(b[:])
	name := "crest_scaleout_" + hex.EncodeToString(b[:])
	o, err := clickhouse.ParseDSN(chDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c := ch.OpenDB(&ch.Options{Addr: []string{o.Addr}})
		c.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name) //nolint:errcheck // best effort
		c.Close()
	})
	pg, err := sql.Open("pgx", pgDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if _, err := pg.ExecContext(t.Context(), "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pg, err := sql.Open("pgx", pgDSN)
		if err == nil {
			pg.ExecContext(context.Background(), "DROP SCHEMA "+name+" CASCADE") //nolint:errcheck // best effort
			pg.Close()
		}
	})
	u, err := url.Parse(pgDSN)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return fmt.Sprintf("clickhouse://%s/%s", o.Addr, name), u.String()
}

// startAt starts crest serve on a chosen port (startServer picks its
// own; the nodes must know each other's addresses before they start).
func startAt(t testing.TB, port int, dataDir string, extraArgs ...string) *server {
	t.Helper()
	args := append([]string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--data", dataDir}, extraArgs...)
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), "CREST_API_KEY="+testAPIKey, "CREST_SECRET_KEY="+testSecretKey)
	s := &server{t: t, cmd: cmd, URL: fmt.Sprintf("http://127.0.0.1:%d", port), Data: dataDir, logs: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
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
			t.Logf("server %s output:\n%s", s.URL, s.logs.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(s.URL + "/readyz"); err == nil {
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

// startScaleOut starts nodes a and b sharing ClickHouse and PostgreSQL,
// and a single embedded node; it returns them and the pair's peer list.
func startScaleOut(t *testing.T) (nodeA, nodeB, single *server, peers string) {
	t.Helper()
	chURL, pgURL := scaleOutEnv(t)
	pa, pb := freePort(t), freePort(t)
	peers = fmt.Sprintf("a=http://127.0.0.1:%d,b=http://127.0.0.1:%d", pa, pb)
	nodeA = startAt(t, pa, t.TempDir(), "--storage", chURL, "--meta", pgURL, "--node", "a", "--peers", peers)
	nodeB = startAt(t, pb, t.TempDir(), "--storage", chURL, "--meta", pgURL, "--node", "b", "--peers", peers)
	single = startServer(t, t.TempDir())
	return nodeA, nodeB, single, peers
}

// TestScaleOutTwoNodes sends one event stream to two nodes sharing
// ClickHouse and PostgreSQL — a user's anonymous events to one, the
// login to the other, retried batches to both — and to a single
// embedded node, and demands the same analysis answers from all three.
func TestScaleOutTwoNodes(t *testing.T) {
	nodeA, nodeB, single, _ := startScaleOut(t)

	today := time.Now().UTC().Truncate(24 * time.Hour)
	d0 := today.AddDate(0, 0, -3)
	at := func(day, hour, min int) int64 {
		return d0.AddDate(0, 0, day).Add(time.Duration(hour)*time.Hour + time.Duration(min)*time.Minute).UnixMilli()
	}
	type ev = map[string]any
	n := 0
	e := func(typ, user, device string, ts int64, genre string) ev {
		n++
		x := ev{"event_type": typ, "device_id": device, "time": ts, "session_id": ts - ts%3600000, "insert_id": fmt.Sprintf("so-%d", n)}
		if user != "" {
			x["user_id"] = user
		}
		if genre != "" {
			x["event_properties"] = ev{"genre": genre}
		}
		return x
	}
	type batch struct {
		to     []*server // the two-node side: where this batch is sent (in order)
		events []ev
	}
	var batches []batch
	// alice: anonymous on device-alice (to a), logs in there (to b), plays on.
	batches = append(batches,
		batch{[]*server{nodeA}, []ev{e("Play", "", "device-alice", at(0, 9, 0), "rock"), e("Play", "", "device-alice", at(0, 9, 5), "jazz")}},
		batch{[]*server{nodeB}, []ev{e("Login", "alice-01", "device-alice", at(0, 9, 10), "")}},
		batch{[]*server{nodeA}, []ev{e("Play", "alice-01", "device-alice", at(1, 8, 0), "rock")}},
	)
	// Many devices, some identified, in mixed batches to either node; a
	// batch retried to both nodes, and again to the first.
	for i := range 12 {
		dev, user := fmt.Sprintf("device-%02d", i), ""
		if i%3 == 0 {
			user = fmt.Sprintf("user-%02d", i)
		}
		to := []*server{nodeA}
		if i%2 == 1 {
			to = []*server{nodeB}
		}
		if i%4 == 0 {
			to = []*server{nodeA, nodeB, nodeA}
		}
		genres := []string{"rock", "jazz", "pop"}
		batches = append(batches, batch{to, []ev{
			e("Play", "", dev, at(i%3, 10, i), genres[i%3]),
			e("Play", user, dev, at((i+1)%3, 11, i), genres[(i+1)%3]),
			e("Buy", user, dev, at(2, 12, i), ""),
		}})
	}
	for _, b := range batches {
		body, err := json.Marshal(ev{"api_key": testAPIKey, "events": b.events})
		if err != nil {
			t.Fatal(err)
		}
		for _, srv := range b.to {
			if code, ans, err := post(context.Background(), srv.URL+"/2/httpapi", "application/json", body); err != nil || code != 200 {
				t.Fatalf("send to %s: %d %+v %v", srv.URL, code, ans, err)
			}
		}
		for range b.to { // the single node gets the retries too
			if code, ans, err := post(context.Background(), single.URL+"/2/httpapi", "application/json", body); err != nil || code != 200 {
				t.Fatalf("send to single: %d %+v %v", code, ans, err)
			}
		}
	}
	for _, srv := range []*server{nodeA, nodeB, single} {
		waitApplied(t, srv.URL, time.Minute)
	}

	start, end := d0.Format("20060102"), d0.AddDate(0, 0, 2).Format("20060102")
	queries := []url.Values{
		{"e": {`{"event_type":"Play"}`}},
		{"e": {`{"event_type":"Play"}`}, "m": {"totals"}},
		{"e": {`{"event_type":"Play","group_by":[{"type":"event","value":"genre"}]}`}, "m": {"totals"}},
		{"e": {`{"event_type":"Play","group_by":[{"type":"event","value":"genre"}]}`}},
		{"e": {`{"event_type":"Login"}`}},
		{"e": {`{"event_type":"Buy"}`}, "m": {"totals"}},
		{"e": {`{"event_type":"_active"}`}},
	}
	for _, q := range queries {
		q.Set("start", start)
		q.Set("end", end)
		var want, gotA, gotB map[string]any
		if code := getAPI2(t, single.URL, "/api/2/events/segmentation", q, &want); code != 200 {
			t.Fatalf("single %v: status %d %v", q, code, want)
		}
		if code := getAPI2(t, nodeA.URL, "/api/2/events/segmentation", q, &gotA); code != 200 {
			t.Fatalf("node a %v: status %d %v", q, code, gotA)
		}
		if code := getAPI2(t, nodeB.URL, "/api/2/events/segmentation", q, &gotB); code != 200 {
			t.Fatalf("node b %v: status %d %v", q, code, gotB)
		}
		if !reflect.DeepEqual(gotA, want) || !reflect.DeepEqual(gotB, want) {
			t.Errorf("%v:\nsingle %v\nnode a %v\nnode b %v", q, want, gotA, gotB)
		}
	}
}

// TestScaleOutUserAcrossNodes: bob is anonymous on a device owned by node
// a and on one owned by node b, logs in on a's, then on b's, and uses
// both, with user property operations on every step. The pair must give
// the single node's answers: uniques, a group-by on a user property, and
// one user in /api/2/usersearch and /api/2/useractivity (one amplitude_id
// with the other device's anonymous id merged, both devices, the same
// current properties and the same events with the same snapshots). Each
// step is applied before the next is sent: the order in which the two
// nodes see bob's operations is then the order they were sent in, which
// is what docs/scale-out.md guarantees.
func TestScaleOutUserAcrossNodes(t *testing.T) {
	nodeA, nodeB, single, peers := startScaleOut(t)
	nodes, err := route.ParsePeers(peers)
	if err != nil {
		t.Fatal(err)
	}
	router, err := route.New("a", nodes, nil)
	if err != nil {
		t.Fatal(err)
	}
	owned := map[string]string{}
	for i := 0; len(owned) < 2; i++ {
		d := fmt.Sprintf("bob-device-%d", i)
		if o := router.Owner("d:" + d); owned[o] == "" { // route keys an event by "d:" + device_id
			owned[o] = d
		}
	}
	devA, devB := owned["a"], owned["b"]

	today := time.Now().UTC().Truncate(24 * time.Hour)
	d0 := today.AddDate(0, 0, -3)
	at := func(day, hour int) int64 {
		return d0.AddDate(0, 0, day).Add(time.Duration(hour) * time.Hour).UnixMilli()
	}
	type ev = map[string]any
	n := 0
	e := func(typ, user, device string, ts int64, props string) ev {
		n++
		x := ev{"event_type": typ, "device_id": device, "time": ts, "session_id": ts, "insert_id": fmt.Sprintf("bob-%d", n)}
		if user != "" {
			x["user_id"] = user
		}
		if props != "" {
			x["user_properties"] = json.RawMessage(props)
		}
		return x
	}
	steps := []struct {
		to  *server // the pair's entry node: not always the owner, so forwarding is used too
		evs []ev
	}{
		{nodeB, []ev{e("Play", "", devA, at(0, 9), `{"$set":{"plan":"free","src":"ad"}}`)}},
		{nodeA, []ev{e("Play", "", devB, at(0, 10), `{"$set":{"theme":"dark"},"$add":{"plays":1}}`)}},
		{nodeA, []ev{e("Login", "bob-01", devA, at(0, 11), `{"$add":{"logins":1,"plays":1}}`)}},
		{nodeA, []ev{e("Login", "bob-01", devB, at(1, 9), `{"$add":{"logins":1},"$set":{"plan":"pro"}}`)}},
		{nodeB, []ev{e("Play", "bob-01", devA, at(1, 10), `{"$append":{"tags":"a"},"$add":{"plays":1}}`)}},
		{nodeA, []ev{e("Play", "", devB, at(2, 9), `{"$append":{"tags":"b"},"$add":{"plays":1}}`)}},
		{nodeB, []ev{e("Play", "", devA, at(2, 10), `{"$unset":{"src":"-"}}`)}},
		{nodeB, []ev{e("Buy", "bob-01", devB, at(2, 11), "")}},
	}
	for _, st := range steps {
		body, err := json.Marshal(ev{"api_key": testAPIKey, "events": st.evs})
		if err != nil {
			t.Fatal(err)
		}
		for _, srv := range []*server{st.to, single} {
			if code, ans, err := post(context.Background(), srv.URL+"/2/httpapi", "application/json", body); err != nil || code != 200 {
				t.Fatalf("send to %s: %d %+v %v", srv.URL, code, ans, err)
			}
		}
		for _, srv := range []*server{nodeA, nodeB, single} {
			waitApplied(t, srv.URL, time.Minute)
		}
	}

	start, end := d0.Format("20060102"), d0.AddDate(0, 0, 2).Format("20060102")
	for _, q := range []url.Values{
		{"e": {`{"event_type":"Play"}`}},
		{"e": {`{"event_type":"_active"}`}},
		{"e": {`{"event_type":"_active"}`}, "m": {"totals"}},
		{"e": {`{"event_type":"Play","group_by":[{"type":"user","value":"plan"}]}`}},
		{"e": {`{"event_type":"_active","group_by":[{"type":"user","value":"theme"}]}`}, "m": {"totals"}},
	} {
		q.Set("start", start)
		q.Set("end", end)
		var want, gotA, gotB map[string]any
		getAPI2(t, single.URL, "/api/2/events/segmentation", q, &want)
		getAPI2(t, nodeA.URL, "/api/2/events/segmentation", q, &gotA)
		getAPI2(t, nodeB.URL, "/api/2/events/segmentation", q, &gotB)
		if want["data"] == nil || !reflect.DeepEqual(gotA, want) || !reflect.DeepEqual(gotB, want) {
			t.Errorf("%v:\nsingle %v\nnode a %v\nnode b %v", q, want, gotA, gotB)
		}
	}

	// usersearch finds one bob; useractivity shows the same user, ids aside.
	type match struct {
		UserID      string `json:"user_id"`
		AmplitudeID int64  `json:"amplitude_id"`
	}
	lookup := func(srv *server) (userData map[string]any, events []map[string]any) {
		var found struct{ Matches []match }
		if code := getAPI2(t, srv.URL, "/api/2/usersearch", url.Values{"user": {"bob-01"}}, &found); code != 200 || len(found.Matches) != 1 || found.Matches[0].UserID != "bob-01" {
			t.Fatalf("%s usersearch bob-01: status %d, %+v", srv.URL, code, found)
		}
		for _, d := range []string{devA, devB} {
			var byDevice struct{ Matches []match }
			getAPI2(t, srv.URL, "/api/2/usersearch", url.Values{"user": {d}}, &byDevice)
			if len(byDevice.Matches) != 1 || byDevice.Matches[0] != found.Matches[0] {
				t.Errorf("%s usersearch %s: %+v, want %+v", srv.URL, d, byDevice.Matches, found.Matches[0])
			}
		}
		var act struct {
			UserData map[string]any   `json:"userData"`
			Events   []map[string]any `json:"events"`
		}
		if code := getAPI2(t, srv.URL, "/api/2/useractivity", url.Values{"user": {fmt.Sprint(found.Matches[0].AmplitudeID)}}, &act); code != 200 {
			t.Fatalf("%s useractivity: status %d", srv.URL, code)
		}
		u := act.UserData
		if u["canonical_amplitude_id"] != float64(found.Matches[0].AmplitudeID) {
			t.Errorf("%s: canonical id %v, usersearch %d", srv.URL, u["canonical_amplitude_id"], found.Matches[0].AmplitudeID)
		}
		delete(u, "canonical_amplitude_id")
		u["merged_amplitude_ids"] = len(u["merged_amplitude_ids"].([]any))
		u["merge_times"] = len(u["merge_times"].([]any))
		// The profile lists the devices of the users rows in the order the
		// backend returns the rows (query.profileUsers): compare the set.
		devs := fmt.Sprint(u["device_ids"])
		if devs != fmt.Sprintf("[%s %s]", devA, devB) && devs != fmt.Sprintf("[%s %s]", devB, devA) {
			t.Errorf("%s: device_ids %s, want %s and %s", srv.URL, devs, devA, devB)
		}
		delete(u, "device_ids")
		for _, x := range act.Events {
			for k := range x {
				switch k {
				case "event_type", "event_time", "user_id", "device_id", "user_properties", "session_id", "$insert_id", "insert_id":
				default:
					delete(x, k)
				}
			}
		}
		return u, act.Events
	}
	wantU, wantE := lookup(single)
	if wantU["merged_amplitude_ids"] != 1 || len(wantE) != 8 {
		t.Fatalf("single node: bob %v with %d events, want one merged id and 8 events", wantU, len(wantE))
	}
	for _, srv := range []*server{nodeA, nodeB} {
		gotU, gotE := lookup(srv)
		if !reflect.DeepEqual(gotU, wantU) {
			t.Errorf("%s userData:\n%v\nsingle node:\n%v", srv.URL, gotU, wantU)
		}
		if !reflect.DeepEqual(gotE, wantE) {
			t.Errorf("%s events:\n%v\nsingle node:\n%v", srv.URL, gotE, wantE)
		}
	}
}
