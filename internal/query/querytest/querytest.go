// Package querytest runs the query layer's data-driven correctness cases
// (internal/query/testdata/cases/*.txt: events in, analysis in, rows out)
// against a storage backend. Every backend runs the same files and must
// give the same answers.
//
// A case file holds directives, one per line, and blocks:
//
//	# a comment
//	zone Europe/Berlin            the project's time zone (default UTC)
//	now 2024-03-10T12:00:00Z      anchors relative ranges
//	events                        one event per line until a blank line:
//	  2024-01-01T10:00:00Z "Play Song" user=u1 device=d1 ep={"genre":"rock"}
//	query                         a JSON definition until a blank line (or a
//	                              look-up call, see lookup.go)
//	result                        the expected output until a blank line:
//	  x: 2024-01-01 2024-01-02
//	  Play Song: 1 2 | 3          label: values | collapsed value
//	  error: <text>               or an error containing text
//
// Event keys: user, device, session (ms, or small numbers as given),
// ep (event properties JSON), up (user property operations JSON, as an
// SDK sends them), groups (JSON), kind=identify (an /identify call), and
// the built-ins country, city, region, platform, os, version, language,
// revenue, price, quantity.
package querytest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/identity"
	"github.com/crest-analytics/crest/internal/query"
	"github.com/crest-analytics/crest/internal/storage"
)

// Store is a backend under test: it applies units and answers SQL.
type Store interface {
	storage.Writer
	query.Querier
}

// Backend opens empty stores of one storage backend.
type Backend interface {
	// Open returns a new, empty store, closed by t.Cleanup.
	Open(t *testing.T) Store
	// Dialect is the backend's SQL dialect for queries on store s.
	Dialect(s Store) query.Dialect
}

// ProjectID is the project every case's events belong to.
const ProjectID = 1

// Dir is the directory of the case files, relative to this package's
// callers' working directory being any package directory of the module.
func Dir(t *testing.T) string {
	t.Helper()
	// Walk up to the module root (go.mod) from the test's directory.
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "internal", "query", "testdata", "cases")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("querytest: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Run runs every case file against b, each in a subtest named after it.
func Run(t *testing.T, b Backend) {
	files, err := filepath.Glob(filepath.Join(Dir(t), "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("querytest: no case files")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			runFile(t, b, f)
		})
	}
}

type block struct {
	kind  string
	line  int
	lines []string
}

func runFile(t *testing.T, b Backend, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zone := ""
	now := time.Now()
	var blocks []block
	var cur *block
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur != nil {
			if trimmed == "" {
				cur = nil
				continue
			}
			if !strings.HasPrefix(trimmed, "#") {
				cur.lines = append(cur.lines, trimmed)
			}
			continue
		}
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		word, rest, _ := strings.Cut(trimmed, " ")
		switch word {
		case "zone":
			zone = rest
		case "now":
			if now, err = time.Parse(time.RFC3339, rest); err != nil {
				t.Fatalf("%s:%d: %v", path, i+1, err)
			}
		case "events", "query", "result":
			blocks = append(blocks, block{kind: word, line: i + 1})
			cur = &blocks[len(blocks)-1]
		default:
			t.Fatalf("%s:%d: unknown directive %q", path, i+1, word)
		}
	}
	store := b.Open(t)
	eng := query.NewEngine(store, b.Dialect(store))
	project := query.Project{ID: ProjectID, TimeZone: zone}
	res := identity.New()
	pos := uint64(0)
	cases := 0
	for i := 0; i < len(blocks); i++ {
		bl := blocks[i]
		switch bl.kind {
		case "events":
			pos++
			unit := storage.Unit{Position: pos}
			for j, line := range bl.lines {
				e, kind, err := parseEvent(line)
				if err != nil {
					t.Fatalf("%s:%d: %v", path, bl.line+1+j, err)
				}
				e.Seq = int64(pos)*1_000_000 + int64(j)
				if res.Process(&e, kind) {
					unit.Events = append(unit.Events, e)
				}
			}
			res.Drain(&unit)
			if err := store.Apply(t.Context(), &unit); err != nil {
				t.Fatalf("%s:%d: apply: %v", path, bl.line, err)
			}
		case "query":
			if i+1 >= len(blocks) || blocks[i+1].kind != "result" {
				t.Fatalf("%s:%d: query without result", path, bl.line)
			}
			want := strings.Join(blocks[i+1].lines, "\n")
			got := runQuery(t, eng, project, now, strings.Join(bl.lines, "\n"))
			if got != want {
				t.Errorf("%s:%d: result differs\n--- got\n%s\n--- want\n%s", path, bl.line, got, want)
			}
			i++
			cases++
		default:
			t.Fatalf("%s:%d: %s block out of place", path, bl.line, bl.kind)
		}
	}
	if cases == 0 {
		t.Fatalf("%s: no query", path)
	}
}

func runQuery(t *testing.T, eng *query.Engine, p query.Project, now time.Time, def string) string {
	if out, ok := runAnalysis(t, eng, p, now, def); ok {
		return out
	}
	if isLookup(def) {
		return runLookup(t, eng, p, now, def)
	}
	s, err := query.ParseSegmentation([]byte(def))
	if err != nil {
		return "error: " + err.Error()
	}
	r, err := eng.Segmentation(t.Context(), p, s, now)
	if err != nil {
		return "error: " + err.Error()
	}
	return Render(r)
}

// Render is the text form of a result used by the case files.
func Render(r *query.Result) string {
	var b strings.Builder
	b.WriteString("x:")
	for _, x := range r.XValues {
		b.WriteString(" " + x)
	}
	for _, s := range r.Series {
		b.WriteString("\n" + s.Label + ":")
		for _, v := range s.Values {
			b.WriteString(" " + num(v))
		}
		b.WriteString(" | " + num(s.Collapsed))
	}
	return b.String()
}

func num(v float64) string {
	return strconv.FormatFloat(float64(int64(v*10000+copysign(0.5, v)))/10000, 'f', -1, 64)
}

func copysign(a, v float64) float64 {
	if v < 0 {
		return -a
	}
	return a
}

// parseEvent parses one event line.
func parseEvent(line string) (event.Event, event.Kind, error) {
	toks, err := tokens(line)
	if err != nil {
		return event.Event{}, 0, err
	}
	if len(toks) < 2 {
		return event.Event{}, 0, fmt.Errorf("want <time> <event_type> [key=value...], got %q", line)
	}
	tm, err := time.Parse(time.RFC3339, toks[0])
	if err != nil {
		return event.Event{}, 0, err
	}
	ms := tm.UnixMilli()
	e := event.Event{
		ProjectID: ProjectID, EventType: toks[1], Time: ms, ClientEventTime: ms,
		ServerReceivedTime: ms, ServerUploadTime: ms, SessionID: event.NoSession, EventID: event.NoEventID,
	}
	kind := event.KindEvents
	for _, kv := range toks[2:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return e, 0, fmt.Errorf("want key=value, got %q", kv)
		}
		var err error
		switch k {
		case "user":
			e.UserID = v
		case "device":
			e.DeviceID = v
		case "session":
			e.SessionID, err = strconv.ParseInt(v, 10, 64)
		case "ep":
			e.EventProperties = []byte(v)
		case "up":
			e.UserProperties = []byte(v)
		case "groups":
			e.Groups = []byte(v)
		case "kind":
			if v != "identify" {
				return e, 0, fmt.Errorf("unknown kind %q", v)
			}
			kind = event.KindIdentify
		case "country":
			e.Country = v
		case "city":
			e.City = v
		case "region":
			e.Region = v
		case "platform":
			e.Platform = v
		case "os":
			e.OSName = v
		case "version":
			e.AppVersion = v
		case "language":
			e.Language = v
		case "revenue", "price":
			var f float64
			f, err = strconv.ParseFloat(v, 64)
			if k == "revenue" {
				e.Revenue = &f
			} else {
				e.Price = &f
			}
		case "quantity":
			var n int64
			n, err = strconv.ParseInt(v, 10, 64)
			e.Quantity = &n
		default:
			return e, 0, fmt.Errorf("unknown key %q", k)
		}
		if err != nil {
			return e, 0, fmt.Errorf("%s: %w", k, err)
		}
	}
	return e, kind, nil
}

// tokens splits a line at spaces outside double quotes and JSON brackets;
// a token in double quotes is unquoted.
func tokens(line string) ([]string, error) {
	var out []string
	i := 0
	for i < len(line) {
		if line[i] == ' ' || line[i] == '\t' {
			i++
			continue
		}
		if line[i] == '"' {
			q, err := strconv.QuotedPrefix(line[i:])
			if err != nil {
				return nil, fmt.Errorf("bad quoted token at %d: %w", i, err)
			}
			s, _ := strconv.Unquote(q)
			out = append(out, s)
			i += len(q)
			continue
		}
		start, depth, inStr := i, 0, false
		for i < len(line) {
			c := line[i]
			switch {
			case inStr && c == '\\':
				i++
			case c == '"':
				inStr = !inStr
			case !inStr && (c == '{' || c == '['):
				depth++
			case !inStr && (c == '}' || c == ']'):
				depth--
			case !inStr && depth == 0 && (c == ' ' || c == '\t'):
				goto done
			}
			i++
		}
	done:
		out = append(out, line[start:i])
	}
	return out, nil
}
