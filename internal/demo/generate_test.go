package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var testNow = time.Date(2026, 5, 1, 12, 34, 56, 789_000_000, time.UTC)

// generateAll returns the concatenated events of a run, one per line.
func generateAll(t testing.TB, opts Options, batch int) []byte {
	t.Helper()
	var out bytes.Buffer
	err := Generate(t.Context(), opts, batch, func(events []json.RawMessage) error {
		if len(events) == 0 || len(events) > batch {
			t.Fatalf("batch of %d events, want 1..%d", len(events), batch)
		}
		for _, e := range events {
			out.Write(e)
			out.WriteByte('\n')
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestGenerateDeterministic(t *testing.T) {
	opts := Options{Events: 20_000, Seed: 7, Days: 30, Now: testNow}
	a := generateAll(t, opts, 1000)
	b := generateAll(t, opts, 333)
	if sha256.Sum256(a) != sha256.Sum256(b) {
		t.Fatal("same seed, different batch sizes: the events differ")
	}
	if n := bytes.Count(a, []byte{'\n'}); n != opts.Events {
		t.Fatalf("got %d events, want %d", n, opts.Events)
	}
	opts.Seed = 8
	if c := generateAll(t, opts, 1000); bytes.Equal(a, c) {
		t.Fatal("seeds 7 and 8 gave the same events")
	}
}

func TestGenerateStopsOnEmitError(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	err := Generate(t.Context(), Options{Events: 10_000, Now: testNow}, 100, func([]json.RawMessage) error {
		calls++
		return boom
	})
	if !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("got err %v after %d calls, want boom after 1", err, calls)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := Generate(ctx, Options{Events: 10_000, Now: testNow}, 100, func([]json.RawMessage) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: got %v", err)
	}
}

func TestGenerateRejectsBadOptions(t *testing.T) {
	emit := func([]json.RawMessage) error { return nil }
	for _, tc := range []struct {
		opts  Options
		batch int
	}{
		{Options{Events: -1}, 10},
		{Options{Days: -3}, 10},
		{Options{}, 0},
	} {
		if err := Generate(t.Context(), tc.opts, tc.batch, emit); err == nil {
			t.Errorf("Generate(%+v, batch %d) accepted", tc.opts, tc.batch)
		}
	}
}

// demoEvent holds every field the generator may write, named as in the
// HTTP API; decoding rejects any other key.
type demoEvent struct {
	EventType       string          `json:"event_type"`
	UserID          *string         `json:"user_id"`
	DeviceID        string          `json:"device_id"`
	Time            json.Number     `json:"time"`
	SessionID       json.Number     `json:"session_id"`
	EventID         json.Number     `json:"event_id"`
	InsertID        string          `json:"insert_id"`
	Platform        string          `json:"platform"`
	OSName          string          `json:"os_name"`
	OSVersion       string          `json:"os_version"`
	Manufacturer    string          `json:"device_manufacturer"`
	Brand           string          `json:"device_brand"`
	DeviceModel     string          `json:"device_model"`
	DeviceType      string          `json:"device_type"`
	Carrier         string          `json:"carrier"`
	UserAgent       string          `json:"user_agent"`
	AppVersion      string          `json:"app_version"`
	Country         string          `json:"country"`
	Region          string          `json:"region"`
	City            string          `json:"city"`
	Currency        string          `json:"currency"`
	Language        string          `json:"language"`
	IP              string          `json:"ip"`
	Library         string          `json:"library"`
	Price           *float64        `json:"price"`
	Quantity        *int64          `json:"quantity"`
	Revenue         *float64        `json:"revenue"`
	ProductID       string          `json:"productId"`
	RevenueType     string          `json:"revenueType"`
	EventProperties map[string]any  `json:"event_properties"`
	UserProperties  json.RawMessage `json:"user_properties"`

	time, session, eventID int64
	person                 string // user_id, or the user_id its device logs in as, or device_id
}

// sample is one generated data set shared by the tests that inspect it.
type sample struct {
	opts       Options
	start, end int64
	events     []demoEvent
}

var sampleOnce = sync.OnceValues(func() (*sample, error) {
	s := &sample{opts: Options{Events: 50_000, Seed: 42, Now: testNow}}
	s.start, s.end = s.opts.Range()
	err := Generate(context.Background(), s.opts, 2000, func(events []json.RawMessage) error {
		for _, raw := range events {
			var e demoEvent
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			dec.DisallowUnknownFields()
			if err := dec.Decode(&e); err != nil {
				return errors.New("decode " + string(raw) + ": " + err.Error())
			}
			s.events = append(s.events, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	deviceUser := map[string]string{}
	for i := range s.events {
		e := &s.events[i]
		e.time, _ = e.Time.Int64()
		e.session, _ = e.SessionID.Int64()
		e.eventID, _ = e.EventID.Int64()
		if e.UserID != nil {
			deviceUser[e.DeviceID] = *e.UserID
		}
	}
	for i := range s.events {
		e := &s.events[i]
		e.person = e.DeviceID
		if u, ok := deviceUser[e.DeviceID]; ok {
			e.person = u
		}
	}
	return s, nil
})

func loadSample(t *testing.T) *sample {
	t.Helper()
	s, err := sampleOnce()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// blockedIDs are the id values Amplitude rejects (amplitude-compat §1).
var blockedIDs = map[string]bool{
	"anonymous": true, "nil": true, "none": true, "null": true, "n/a": true, "na": true,
	"undefined": true, "unknown": true, "": true, "00000000-0000-0000-0000-000000000000": true,
	"{}": true, "lmy47d": true, "0": true, "-1": true,
}

// TestGenerateValid checks every event against the wire spec and the SDK
// behaviour the generator imitates.
func TestGenerateValid(t *testing.T) {
	s := loadSample(t)
	if len(s.events) != s.opts.Events {
		t.Fatalf("got %d events, want %d", len(s.events), s.opts.Events)
	}
	knownTypes := map[string]bool{
		evOpenApp: true, evSearch: true, evPlaySong: true, evPauseSong: true, evAddToPlaylist: true,
		evStartTrial: true, evSubscribe: true, evShareSong: true, evPurchase: true, evIdentify: true,
		evSessionStart: true, evSessionEnd: true, evRevenue: true,
	}
	libraries := map[string]bool{libWeb: true, libIOS: true, libAndroid: true}
	type deviceState struct {
		lastEventID     int64
		userID          string
		session         int64 // current session id
		lastTime        int64 // last time in the current session
		pendingStart    bool  // a session_end was just sent
		sessionsStarted int
	}
	devices := map[string]*deviceState{}
	insertIDs := make(map[string]bool, len(s.events))
	for i, e := range s.events {
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("event %d (%s %s): "+format, append([]any{i, e.EventType, e.DeviceID}, args...)...)
		}
		if !knownTypes[e.EventType] {
			fail("unexpected event_type")
		}
		if len(e.DeviceID) < 5 || blockedIDs[e.DeviceID] {
			fail("bad device_id")
		}
		if e.UserID != nil && (len(*e.UserID) < 5 || blockedIDs[*e.UserID]) {
			fail("bad user_id %q", *e.UserID)
		}
		if _, err := e.Time.Int64(); err != nil {
			fail("time %q is not an integer", e.Time)
		}
		if e.time < s.start || e.time > s.end {
			fail("time %d outside [%d, %d]", e.time, s.start, s.end)
		}
		if !uuidV4.MatchString(e.InsertID) || insertIDs[e.InsertID] {
			fail("insert_id %q not a fresh UUID v4", e.InsertID)
		}
		insertIDs[e.InsertID] = true
		if !libraries[e.Library] || e.Platform == "" || e.Country == "" || e.Region == "" || e.City == "" || e.Language == "" || e.IP == "" || e.OSName == "" || e.OSVersion == "" || e.AppVersion == "" {
			fail("missing device or location fields")
		}
		if (e.Platform == "iOS" || e.Platform == "Android") != (e.DeviceModel != "") {
			fail("device_model %q on platform %s", e.DeviceModel, e.Platform)
		}

		d := devices[e.DeviceID]
		if d == nil {
			d = &deviceState{}
			devices[e.DeviceID] = d
		}
		if e.eventID <= d.lastEventID {
			fail("event_id %d after %d", e.eventID, d.lastEventID)
		}
		d.lastEventID = e.eventID
		switch {
		case e.UserID != nil && d.userID == "":
			d.userID = *e.UserID
		case e.UserID != nil && *e.UserID != d.userID:
			fail("device switched user")
		case e.UserID == nil && d.userID != "" && e.EventType != evSessionEnd:
			fail("user_id dropped after login")
		}

		switch e.EventType {
		case evSessionEnd:
			if e.session != d.session || e.time != d.lastTime {
				fail("session_end for session %d at %d, want %d at %d", e.session, e.time, d.session, d.lastTime)
			}
			d.pendingStart = true
		case evSessionStart:
			if e.time != e.session {
				fail("session_start time %d != session_id %d", e.time, e.session)
			}
			if d.sessionsStarted > 0 && !d.pendingStart {
				fail("new session without session_end of the previous one")
			}
			if d.sessionsStarted > 0 && e.session-d.lastTime <= sessionTimeoutMs {
				fail("new session only %d ms after the last event", e.session-d.lastTime)
			}
			d.session, d.lastTime, d.pendingStart = e.session, e.time, false
			d.sessionsStarted++
		default:
			if d.pendingStart || e.session != d.session {
				fail("event outside its device's current session")
			}
			if e.time < d.lastTime || e.time-d.lastTime >= sessionTimeoutMs {
				fail("gap %d ms inside a session", e.time-d.lastTime)
			}
			d.lastTime = e.time
		}

		switch e.EventType {
		case evPlaySong:
			for _, k := range []string{"genre", "song_id", "duration_ms", "source"} {
				if e.EventProperties[k] == nil {
					fail("Play Song without %s", k)
				}
			}
		case evSearch:
			if q, _ := e.EventProperties["query"].(string); q == "" {
				fail("Search without query")
			}
		case evPurchase:
			if e.Price == nil || e.Quantity == nil || e.Revenue == nil || e.ProductID == "" || e.RevenueType == "" {
				fail("Purchase without revenue fields")
			}
		case evRevenue:
			for _, k := range []string{"$price", "$quantity", "$revenue", "$productId", "$revenueType"} {
				if e.EventProperties[k] == nil {
					fail("revenue_amount without %s", k)
				}
			}
		case evIdentify:
			var ops map[string]map[string]any
			if err := json.Unmarshal(e.UserProperties, &ops); err != nil || len(ops) == 0 {
				fail("$identify user_properties %s: %v", e.UserProperties, err)
			}
			for op := range ops {
				if op != "$set" && op != "$setOnce" && op != "$add" {
					fail("unexpected operation %s", op)
				}
			}
		}
		if knownTypes[e.EventType] && e.EventType != evIdentify && e.EventType != evSessionStart && e.EventType != evSessionEnd {
			var props map[string]string
			if err := json.Unmarshal(e.UserProperties, &props); err != nil || props["plan"] == "" || props["country"] == "" || props["platform"] == "" || props["app_version"] == "" {
				fail("user_properties %s: %v", e.UserProperties, err)
			}
		}
	}
}

// TestGenerateMix checks that the data set looks like a real app's.
func TestGenerateMix(t *testing.T) {
	s := loadSample(t)
	uniques := map[string]map[string]bool{}
	first := map[string]int64{}
	last := map[string]int64{}
	loggedIn := map[string]bool{}
	devicesOf := map[string]map[string]bool{}
	platforms := map[string]int{}
	daily := map[int64]int{}
	paidIdentify := 0
	for _, e := range s.events {
		if uniques[e.EventType] == nil {
			uniques[e.EventType] = map[string]bool{}
		}
		uniques[e.EventType][e.person] = true
		if f, ok := first[e.person]; !ok || e.time < f {
			first[e.person] = e.time
		}
		last[e.person] = max(last[e.person], e.time)
		if e.UserID != nil {
			loggedIn[e.person] = true
		}
		if devicesOf[e.person] == nil {
			devicesOf[e.person] = map[string]bool{}
		}
		devicesOf[e.person][e.DeviceID] = true
		platforms[e.Platform]++
		daily[e.time/dayMs]++
		if e.EventType == evIdentify && string(e.UserProperties) == `{"$set":{"plan":"paid"}}` {
			paidIdentify++
		}
	}
	persons := len(first)

	funnel := []string{evOpenApp, evSearch, evPlaySong, evAddToPlaylist, evStartTrial, evSubscribe}
	for i := 1; i < len(funnel); i++ {
		prev, cur := len(uniques[funnel[i-1]]), len(uniques[funnel[i]])
		if cur == 0 || cur >= prev {
			t.Errorf("funnel: %s has %d users after %s with %d, want fewer but some", funnel[i], cur, funnel[i-1], prev)
		}
	}
	for _, typ := range []string{evPauseSong, evShareSong, evPurchase, evRevenue} {
		if len(uniques[typ]) == 0 {
			t.Errorf("no %s events", typ)
		}
	}
	if paidIdentify != len(uniques[evSubscribe]) {
		t.Errorf("%d $identify setting plan paid, want one per subscriber (%d)", paidIdentify, len(uniques[evSubscribe]))
	}

	anonymous, multi := 0, 0
	for p := range first {
		if !loggedIn[p] {
			anonymous++
		}
		if len(devicesOf[p]) > 1 {
			multi++
		}
	}
	if persons < 300 {
		t.Errorf("only %d users in %d events", persons, len(s.events))
	}
	if anonymous < persons/10 || anonymous > persons/2 {
		t.Errorf("%d of %d users never log in, want 10%%-50%%", anonymous, persons)
	}
	if multi < persons/50 || multi > persons/3 {
		t.Errorf("%d of %d users have two devices, want 2%%-33%%", multi, persons)
	}
	for _, p := range []string{"Web", "iOS", "Android"} {
		if platforms[p] < len(s.events)/10 {
			t.Errorf("platform %s has %d of %d events", p, platforms[p], len(s.events))
		}
	}

	// Churn: most users do not come back a week later, but some stay.
	returned := 0
	for p, f := range first {
		if last[p]-f >= 7*dayMs {
			returned++
		}
	}
	if returned < persons/20 || returned > persons*6/10 {
		t.Errorf("%d of %d users still active a week after their first event, want 5%%-60%%", returned, persons)
	}
	// New users keep arriving: some first appear in the last week.
	recent := 0
	for _, f := range first {
		if f > s.end-7*dayMs {
			recent++
		}
	}
	if recent < persons/30 {
		t.Errorf("only %d of %d users first seen in the last week", recent, persons)
	}

	// Weekly seasonality: weekend days are busier than weekdays on average.
	var weekend, weekday, nWeekend, nWeekday int
	for day, n := range daily {
		if day*dayMs < s.start || (day+1)*dayMs > s.end {
			continue // partial days at the edges
		}
		if wd := (day + 4) % 7; wd == 0 || wd == 6 {
			weekend, nWeekend = weekend+n, nWeekend+1
		} else {
			weekday, nWeekday = weekday+n, nWeekday+1
		}
	}
	if float64(weekend)/float64(nWeekend) < 1.1*float64(weekday)/float64(nWeekday) {
		t.Errorf("weekend days average %d events, weekdays %d: want a weekend peak", weekend/nWeekend, weekday/nWeekday)
	}
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGenerateGolden pins the output for one seed, so that a change to
// the generated data is a visible, reviewed change of testdata/.
func TestGenerateGolden(t *testing.T) {
	got := generateAll(t, Options{Events: 40, Seed: 1, Days: 90, Now: testNow}, 16)
	path := filepath.Join("testdata", "seed1.jsonl")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output for seed 1 differs from %s (run with -update if the change is intended)", path)
	}
}
