package identity

import (
	"bufio"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/storage"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// memStore is a storage backend in a map: it applies Units the way a
// backend must (upsert by key, combine session partials) and loads the
// state back into a Resolver.
type memStore struct {
	users    map[int64]storage.User
	devices  map[strKey]storage.Device
	userIDs  map[strKey]storage.UserID
	merges   map[int64]storage.Merge
	sessions map[sessionKey]storage.Session
	groups   map[groupKey]storage.Group
	counters map[string]int64
}

func newMemStore() *memStore {
	return &memStore{
		users:    map[int64]storage.User{},
		devices:  map[strKey]storage.Device{},
		userIDs:  map[strKey]storage.UserID{},
		merges:   map[int64]storage.Merge{},
		sessions: map[sessionKey]storage.Session{},
		groups:   map[groupKey]storage.Group{},
		counters: map[string]int64{},
	}
}

func (s *memStore) apply(u *storage.Unit) {
	for _, x := range u.Users {
		s.users[x.AmplitudeID] = x
	}
	for _, x := range u.Devices {
		s.devices[strKey{x.ProjectID, x.DeviceID}] = x
	}
	for _, x := range u.UserIDs {
		s.userIDs[strKey{x.ProjectID, x.UserID}] = x
	}
	for _, x := range u.Merges {
		s.merges[x.FromID] = x
	}
	for _, x := range u.Sessions {
		k := sessionKey{x.ProjectID, x.AmplitudeID, x.SessionID}
		if old, ok := s.sessions[k]; ok {
			x.Start = min(x.Start, old.Start)
			x.LastEvent = max(x.LastEvent, old.LastEvent)
			x.EventCount += old.EventCount
		}
		s.sessions[k] = x
	}
	for _, x := range u.Groups {
		s.groups[groupKey{x.ProjectID, x.GroupType, x.GroupValue}] = x
	}
	for k, v := range u.Counters {
		s.counters[k] = v
	}
}

func (s *memStore) load() *Resolver {
	r := New()
	for _, x := range s.users {
		r.LoadUser(&x)
	}
	for _, x := range s.devices {
		r.LoadDevice(&x)
	}
	for _, x := range s.userIDs {
		r.LoadUserID(&x)
	}
	for _, x := range s.merges {
		r.LoadMerge(&x)
	}
	for _, x := range s.groups {
		r.LoadGroup(&x)
	}
	r.SetCounters(s.counters)
	return r
}

func sortedValues[K comparable, V any](m map[K]V, less func(a, b V) int) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, less)
	return out
}

func (s *memStore) dump(w *strings.Builder) {
	for _, u := range sortedValues(s.users, func(a, b storage.User) int { return cmp.Compare(a.AmplitudeID, b.AmplitudeID) }) {
		fmt.Fprintf(w, "  user p=%d amp=%d uid=%q devices=%v first=%d last=%d platform=%q country=%q merged_into=%d props=%s\n",
			u.ProjectID, u.AmplitudeID, u.UserID, u.DeviceIDs, u.FirstSeen, u.LastSeen, u.FirstPlatform, u.FirstCountry, u.MergedInto, orNil(u.Properties))
	}
	for _, d := range sortedValues(s.devices, func(a, b storage.Device) int {
		return cmp.Or(cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.DeviceID, b.DeviceID))
	}) {
		fmt.Fprintf(w, "  device p=%d %s amp=%d anon=%d\n", d.ProjectID, d.DeviceID, d.AmplitudeID, d.AnonymousID)
	}
	for _, u := range sortedValues(s.userIDs, func(a, b storage.UserID) int {
		return cmp.Or(cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.UserID, b.UserID))
	}) {
		fmt.Fprintf(w, "  userid p=%d %s amp=%d\n", u.ProjectID, u.UserID, u.AmplitudeID)
	}
	for _, m := range sortedValues(s.merges, func(a, b storage.Merge) int { return cmp.Compare(a.FromID, b.FromID) }) {
		fmt.Fprintf(w, "  merge p=%d %d->%d t=%d seq=%d device=%s undone=%v\n", m.ProjectID, m.FromID, m.IntoID, m.Time, m.EventSeq, m.DeviceID, m.Undone)
	}
	for _, x := range sortedValues(s.sessions, func(a, b storage.Session) int {
		return cmp.Or(cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.AmplitudeID, b.AmplitudeID), cmp.Compare(a.SessionID, b.SessionID))
	}) {
		fmt.Fprintf(w, "  session p=%d amp=%d sid=%d start=%d last=%d n=%d\n", x.ProjectID, x.AmplitudeID, x.SessionID, x.Start, x.LastEvent, x.EventCount)
	}
	for _, g := range sortedValues(s.groups, func(a, b storage.Group) int {
		return cmp.Or(cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.GroupType, b.GroupType), cmp.Compare(a.GroupValue, b.GroupValue))
	}) {
		fmt.Fprintf(w, "  group p=%d %s=%s props=%s\n", g.ProjectID, g.GroupType, g.GroupValue, orNil(g.Properties))
	}
	fmt.Fprintf(w, "  counter next_amplitude_id=%d\n", s.counters[CounterNextAmplitudeID])
}

func orNil(b []byte) string {
	if b == nil {
		return "nil"
	}
	return string(b)
}

// restart modes of runScript.
const (
	restartAsWritten = iota // "restart" lines drain, then load a fresh Resolver
	restartNever            // "restart" lines only drain
	restartAlways           // drain and reload after every line
	sharedMap               // as written, each event planned, claimed in a MemMap and pinned first
)

// runScript runs a test script (see testdata/README) and returns its
// transcript: each input line followed by its results.
func runScript(t *testing.T, script string, mode int) string {
	t.Helper()
	st := newMemStore()
	r := New()
	var out strings.Builder
	var lastT, seq int64
	shared := NewMemMap().Node("a")
	var plan Plan
	restart := func() {
		var u storage.Unit
		r.Drain(&u)
		st.apply(&u)
		r = st.load()
	}
	sc := bufio.NewScanner(strings.NewReader(script))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			out.WriteString(line + "\n")
			continue
		}
		out.WriteString(line + "\n")
		f := strings.Fields(line)
		args := map[string]string{}
		for _, a := range f[1:] {
			k, v, _ := strings.Cut(a, "=")
			args[k] = v
		}
		num := func(k string, def int64) int64 {
			s, ok := args[k]
			if !ok {
				return def
			}
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				t.Fatalf("line %d: %s=%q: %v", n, k, s, err)
			}
			return v
		}
		blob := func(k string) []byte {
			if s, ok := args[k]; ok {
				return []byte(s)
			}
			return nil
		}
		switch f[0] {
		case "ev":
			lastT = num("t", lastT+1000)
			seq++
			e := event.Event{
				ProjectID: num("p", 1), UserID: args["uid"], DeviceID: args["dev"],
				EventType: cmp.Or(args["type"], "e"), Time: lastT, Seq: seq,
				SessionID: num("sid", event.NoSession), UserProperties: blob("up"),
				Groups: blob("groups"), GroupProperties: blob("gp"),
				Platform: args["platform"], Country: args["country"],
			}
			_, e.SkipUserPropertiesSync = args["skip"]
			kind := event.KindEvents
			switch args["kind"] {
			case "identify":
				kind = event.KindIdentify
			case "group":
				kind = event.KindGroupIdentify
			}
			if mode == sharedMap && kind != event.KindGroupIdentify {
				plan.Reset()
				r.Plan(&plan, []event.Event{e})
				if err := shared.Claim(t.Context(), plan.Claims); err != nil {
					t.Fatal(err)
				}
				r.Pin(plan.Claims)
			}
			store := r.Process(&e, kind)
			fmt.Fprintf(&out, "  -> amp=%d store=%v props=%s\n", e.AmplitudeID, store, orNil(e.UserProperties))
		case "undo":
			m, err := r.UndoMerge(num("p", 1), num("from", 0))
			if err != nil {
				fmt.Fprintf(&out, "  -> error: %v (ErrNoMerge=%v)\n", err, errors.Is(err, ErrNoMerge))
			} else {
				fmt.Fprintf(&out, "  -> merge %d->%d undone=%v\n", m.FromID, m.IntoID, m.Undone)
			}
		case "merges":
			for _, m := range r.Merges(num("p", 1), num("amp", 0)) {
				fmt.Fprintf(&out, "  -> merge %d->%d t=%d undone=%v\n", m.FromID, m.IntoID, m.Time, m.Undone)
			}
		case "stats":
			users, devices := r.Stats()
			fmt.Fprintf(&out, "  -> users=%d devices=%d\n", users, devices)
		case "restart":
			if mode == restartNever {
				var u storage.Unit
				r.Drain(&u)
				st.apply(&u)
			} else {
				restart()
			}
		case "dump":
			var u storage.Unit
			r.Drain(&u)
			st.apply(&u)
			st.dump(&out)
		default:
			t.Fatalf("line %d: unknown command %q", n, f[0])
		}
		if mode == restartAlways {
			restart()
		}
	}
	return out.String()
}

func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			in, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := runScript(t, string(in), restartAsWritten)
			golden := strings.TrimSuffix(file, ".txt") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Errorf("transcript differs from %s (run with -update and review the diff)\ngot:\n%s", golden, got)
			}
			// A restart (Drain, then Load into a fresh Resolver) must not
			// change any answer, wherever it happens.
			// So must claiming every new user_id in a shared map first, on one node.
			for _, mode := range []int{restartNever, restartAlways, sharedMap} {
				if other := runScript(t, string(in), mode); other != got {
					t.Errorf("restart mode %d gives a different transcript:\n%s", mode, other)
				}
			}
		})
	}
}
