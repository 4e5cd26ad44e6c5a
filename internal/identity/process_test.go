package identity

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/storage"
)

func TestUserPropertyOpsKept(t *testing.T) {
	r := New()
	sent := []byte(`{"$add":{"n":1},"plan":"pro"}`)
	e := event.Event{ProjectID: 1, DeviceID: "d1", EventType: "e", Time: 1, SessionID: event.NoSession, UserProperties: sent}
	r.Process(&e, event.KindEvents)
	if string(e.UserPropertyOps) != string(sent) {
		t.Errorf("UserPropertyOps = %s, want %s", e.UserPropertyOps, sent)
	}
	if want := `{"n":1,"plan":"pro"}`; string(e.UserProperties) != want {
		t.Errorf("UserProperties = %s, want %s", e.UserProperties, want)
	}
	e2 := event.Event{ProjectID: 1, DeviceID: "d1", EventType: "e", Time: 2, SessionID: event.NoSession}
	r.Process(&e2, event.KindEvents)
	if e2.UserPropertyOps != nil {
		t.Errorf("UserPropertyOps = %s, want nil", e2.UserPropertyOps)
	}
}

// The snapshot bytes are shared between events while the table does not
// change: no marshalling, no copy.
func TestSnapshotReused(t *testing.T) {
	r := New()
	var snaps [][]byte
	for i, up := range []string{`{"a":1}`, ``, `{"a":1}`, `{"$set":{"a":1}}`} {
		e := event.Event{ProjectID: 1, DeviceID: "d1", EventType: "e", Time: int64(i + 1), SessionID: event.NoSession, UserProperties: []byte(up)}
		r.Process(&e, event.KindEvents)
		snaps = append(snaps, e.UserProperties)
	}
	for i, s := range snaps {
		if unsafe.SliceData(s) != unsafe.SliceData(snaps[0]) {
			t.Errorf("event %d: snapshot %s is a new slice, want the cached one", i, s)
		}
	}
}

func TestDrainOnlyChanged(t *testing.T) {
	r := New()
	for i := range 3 {
		e := event.Event{ProjectID: 1, DeviceID: "d" + strconv.Itoa(i), EventType: "e", Time: 10, SessionID: 5}
		r.Process(&e, event.KindEvents)
	}
	var u storage.Unit
	r.Drain(&u)
	if len(u.Users) != 3 || len(u.Devices) != 3 || len(u.Sessions) != 3 || u.Counters[CounterNextAmplitudeID] != 4 {
		t.Fatalf("first drain: %d users, %d devices, %d sessions, counters %v", len(u.Users), len(u.Devices), len(u.Sessions), u.Counters)
	}
	// An event at an earlier time than last seen, without session or
	// properties, changes nothing.
	e := event.Event{ProjectID: 1, DeviceID: "d0", EventType: "e", Time: 10, SessionID: event.NoSession}
	r.Process(&e, event.KindEvents)
	var u2 storage.Unit
	r.Drain(&u2)
	if len(u2.Users)+len(u2.Devices)+len(u2.UserIDs)+len(u2.Merges)+len(u2.Sessions)+len(u2.Groups) != 0 {
		t.Errorf("second drain has rows: %+v", u2)
	}
}

func TestCanonical(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		var p fastjson.Parser
		v, err := p.Parse(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		got := string(appendCanon(nil, v))
		if got != want {
			t.Errorf("canon(%s) = %s, want %s", in, got, want)
		}
		// Canonical text is a fixed point.
		v, err = p.Parse(got)
		if err != nil {
			t.Fatalf("canon output %s does not parse: %v", got, err)
		}
		if again := string(appendCanon(nil, v)); again != got {
			t.Errorf("canon not idempotent: %s -> %s", got, again)
		}
	}
	f(`{ "b" : 1 , "a" : [ 1.50 , -0 , 1e3 ] }`, `{"a":[1.50,-0,1e3],"b":1}`)
	f(`{"a":1,"a":2}`, `{"a":2}`)
	f(`"\u0001\t\"\\\/é\u2028"`, `"\u0001\t\"\\/é`+"\u2028"+`"`)
	f(`[true,false,null,{}]`, `[true,false,null,{}]`)
	f(`{"\u00e9":1,"e":2,"":3}`, `{"":3,"e":2,"é":1}`)
}

func TestAddNumbers(t *testing.T) {
	f := func(cur, arg, want string) {
		t.Helper()
		a, ok1 := numberOf([]byte(cur))
		b, ok2 := numberOf([]byte(arg))
		got := "none"
		if ok1 && ok2 {
			if s, ok := addNumbers(a, b); ok {
				got = string(appendNumber(nil, s))
			}
		}
		if got != want {
			t.Errorf("%s + %s = %s, want %s", cur, arg, got, want)
		}
	}
	f(`1`, `2`, `3`)
	f(`-5`, `"7"`, `2`)
	f(`0.1`, `0.2`, `0.30000000000000004`)
	f(`1.5`, `1.5`, `3`)
	f(`9223372036854775807`, `1`, `9223372036854776000`)
	f(`-9223372036854775808`, `-1`, `-9223372036854776000`)
	f(`1e308`, `1e308`, `none`)
	f(`"abc"`, `1`, `none`)
	f(`1`, `"x"`, `none`)
	f(`true`, `1`, `none`)
	f(`1e-7`, `0`, `1e-07`)
}

func makeEvents(n, devices int) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		d := i % devices
		e := event.Event{
			ProjectID: 1, DeviceID: "device-" + strconv.Itoa(d) + "-0123456789abcdef0123",
			EventType: "Page Viewed", Time: int64(1_700_000_000_000 + i), SessionID: int64(1_700_000_000_000 + d),
			Platform: "Web", Country: "France",
		}
		if d%2 == 0 {
			e.UserID = "user-" + strconv.Itoa(d/2)
		}
		switch i % 20 {
		case 0:
			e.EventType = event.TypeIdentify
			e.UserProperties = []byte(`{"$set":{"plan":"pro"},"$add":{"logins":1}}`)
		case 1:
			e.UserProperties = []byte(`{"plan":"pro"}`)
		}
		evs[i] = e
	}
	return evs
}

// BenchmarkProcess measures Process over a mix of 100K devices, half of
// them logged in, with 10% of the events carrying user properties, and a
// Drain every 10K events.
func BenchmarkProcess(b *testing.B) {
	evs := makeEvents(1<<20, 100_000)
	r := New()
	for i := range evs[:200_000] {
		e := evs[i]
		r.Process(&e, event.KindEvents)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var u storage.Unit
	for i := 0; i < b.N; i++ {
		e := evs[i%len(evs)]
		r.Process(&e, event.KindEvents)
		if i%10_000 == 9_999 {
			u = storage.Unit{}
			r.Drain(&u)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkMemoryPerUser loads 1M users with 2 devices and 5 properties
// each through Process and reports the heap held per user.
func BenchmarkMemoryPerUser(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		const users = 1_000_000
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r := New()
		var u storage.Unit
		for i := range users {
			uid := "user-" + strconv.Itoa(i) + "@example.com"
			props := []byte(fmt.Sprintf(`{"plan":"pro","country":"FR","logins":%d,"beta":true,"cohort":"2024-01"}`, i%100))
			for d := range 2 {
				e := event.Event{
					ProjectID: 1, UserID: uid, DeviceID: fmt.Sprintf("%08x-0000-4000-8000-%012x", i, d),
					EventType: "e", Time: int64(1_700_000_000_000 + i), SessionID: event.NoSession,
					Platform: "Web", Country: "France", UserProperties: props,
				}
				r.Process(&e, event.KindEvents)
			}
			if i%10_000 == 0 {
				u = storage.Unit{}
				r.Drain(&u)
			}
		}
		u = storage.Unit{}
		r.Drain(&u)
		runtime.GC()
		runtime.ReadMemStats(&after)
		nu, nd := r.Stats()
		if nu != users || nd != 2*users {
			b.Fatalf("stats %d users %d devices", nu, nd)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/users, "bytes/user")
		runtime.KeepAlive(r)
	}
}

// Tables loaded from a backend that reformatted the JSON are made
// canonical again, so snapshots stay byte-identical across restarts.
func TestLoadCanonicalizes(t *testing.T) {
	r := New()
	r.LoadUser(&storage.User{ProjectID: 1, AmplitudeID: 7, Properties: []byte(`{ "b": [1, 2], "a": {"y": 1, "x": 2} }`)})
	r.LoadUser(&storage.User{ProjectID: 1, AmplitudeID: 8, Properties: []byte(`{}`)})
	r.LoadDevice(&storage.Device{ProjectID: 1, DeviceID: "d7", AmplitudeID: 7, AnonymousID: 7})
	r.LoadDevice(&storage.Device{ProjectID: 1, DeviceID: "d8", AmplitudeID: 8, AnonymousID: 8})
	r.LoadGroup(&storage.Group{ProjectID: 1, GroupType: "org", GroupValue: "x", Properties: []byte(`{"b": 1, "a": 2}`)})
	f := func(dev, want string) {
		t.Helper()
		e := event.Event{ProjectID: 1, DeviceID: dev, EventType: "e", Time: 1, SessionID: event.NoSession}
		r.Process(&e, event.KindEvents)
		if got := orNil(e.UserProperties); got != want {
			t.Errorf("%s: snapshot %s, want %s", dev, got, want)
		}
	}
	f("d7", `{"a":{"x":2,"y":1},"b":[1,2]}`)
	f("d8", `nil`)
	e := event.Event{ProjectID: 1, EventType: event.TypeGroupIdentify, Groups: []byte(`{"org":"x"}`), GroupProperties: []byte(`{"$add":{"a":1}}`)}
	r.Process(&e, event.KindGroupIdentify)
	var u storage.Unit
	r.Drain(&u)
	if len(u.Groups) != 1 || string(u.Groups[0].Properties) != `{"a":3,"b":1}` {
		t.Errorf("groups %+v", u.Groups)
	}
	// A new user gets the next id after the loaded ones.
	e = event.Event{ProjectID: 1, DeviceID: "new", EventType: "e", Time: 1, SessionID: event.NoSession}
	r.Process(&e, event.KindEvents)
	if e.AmplitudeID != 9 {
		t.Errorf("new id %d, want 9", e.AmplitudeID)
	}
}
