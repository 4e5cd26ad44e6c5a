package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"

	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/crest-analytics/crest/internal/event"
)

var update = flag.Bool("update", false, "rewrite the expected outputs in testdata/*.txt")

// defaultNow is the server clock of the text cases: 2024-06-01T10:00:00Z.
const defaultNow int64 = 1717236000000

type fakeProjects map[string]int64

func (f fakeProjects) ProjectByAPIKey(_ context.Context, key string) (Project, bool, error) {
	if key == "key-fail" {
		return Project{}, false, errors.New("meta store down")
	}
	id, ok := f[key]
	return Project{ID: id}, ok, nil
}

var testProjects = fakeProjects{"key-one": 1, "key-two": 2}

type fakeSink struct {
	err     error
	batches []*event.Batch
}

func (s *fakeSink) Write(_ context.Context, b *event.Batch) error {
	if s.err != nil {
		return s.err
	}
	s.batches = append(s.batches, b)
	return nil
}

type fakeEnricher struct{}

func (fakeEnricher) Enrich(e *event.Event) {
	if e.UserAgent != "" {
		e.Browser = "enriched"
	}
}

// textCase is one case of a testdata file.
type textCase struct {
	name   string
	input  string // everything before "----"
	output string // everything after
}

func parseCases(t *testing.T, data string) []textCase {
	t.Helper()
	var cases []textCase
	for _, chunk := range strings.Split(data, "\n====\n") {
		if strings.TrimSpace(chunk) == "" {
			continue
		}
		in, out, ok := strings.Cut(chunk, "\n----\n")
		if !ok { // a new case, or one whose output is empty
			in, _ = strings.CutSuffix(strings.TrimSuffix(chunk, "\n====\n"), "\n----")
			out = ""
		}
		var name string
		for _, l := range strings.Split(in, "\n") {
			if n, ok := strings.CutPrefix(l, "case "); ok {
				name = n
				break
			}
		}
		if name == "" {
			t.Fatalf("case without name: %q", in)
		}
		cases = append(cases, textCase{name: name, input: in, output: strings.TrimSuffix(out, "\n")})
	}
	return cases
}

var bodyFuncs = template.FuncMap{
	"repeat": strings.Repeat,
	// events renders n minimal valid events, comma separated.
	"events": func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`{"event_type":"e","device_id":"device-%d","time":1717235000000}`, i)
		}
		return strings.Join(parts, ",")
	},
}

// runCase performs the request a case describes and renders the outcome.
func runCase(t *testing.T, input string) string {
	t.Helper()
	lines := strings.Split(input, "\n")
	opts := Options{Now: func() time.Time { return time.UnixMilli(defaultNow).UTC() }}
	sink := &fakeSink{}
	remote := "192.0.2.1:41000"
	gz := false
	i := 0
	for ; i < len(lines); i++ {
		l := lines[i]
		switch {
		case l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "case "):
		case strings.HasPrefix(l, "opt "):
			for _, o := range strings.Fields(l[4:]) {
				k, v, _ := strings.Cut(o, "=")
				switch k {
				case "proxy":
					opts.TrustedProxyHeader = v
				case "remote":
					remote = v
				case "sinkerr":
					sink.err = errors.New("disk full")
				case "gzip":
					gz = true
				case "enrich":
					opts.Enricher = fakeEnricher{}
				case "now":
					ms, err := strconv.ParseInt(v, 10, 64)
					if err != nil {
						t.Fatalf("opt now: %v", err)
					}
					opts.Now = func() time.Time { return time.UnixMilli(ms).UTC() }
				default:
					t.Fatalf("unknown opt %q", o)
				}
			}
		default:
			goto request
		}
	}
	t.Fatalf("no request line")
request:
	method, target, ok := strings.Cut(lines[i], " ")
	if !ok {
		t.Fatalf("bad request line %q", lines[i])
	}
	hdr := http.Header{}
	for i++; i < len(lines) && lines[i] != ""; i++ {
		k, v, ok := strings.Cut(lines[i], ":")
		if !ok {
			t.Fatalf("bad header %q", lines[i])
		}
		hdr.Add(k, strings.TrimSpace(v))
	}
	var body string
	if i < len(lines) {
		body = strings.Join(lines[i+1:], "\n")
	}
	if strings.Contains(body, "{%") {
		tmpl, err := template.New("body").Delims("{%", "%}").Funcs(bodyFuncs).Parse(body)
		if err != nil {
			t.Fatalf("body template: %v", err)
		}
		var sb strings.Builder
		if err := tmpl.Execute(&sb, nil); err != nil {
			t.Fatalf("body template: %v", err)
		}
		body = sb.String()
	}
	raw := []byte(body)
	if gz {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write(raw)
		_ = zw.Close()
		raw = b.Bytes()
		hdr.Set("Content-Encoding", "gzip")
	}
	h := NewHandler(testProjects, sink, slog.New(slog.DiscardHandler), opts)
	mux := http.NewServeMux()
	for _, rt := range h.Routes() {
		p := rt.Path
		if p == "/" {
			p = "/{$}"
		}
		mux.Handle(rt.Method+" "+p, rt.Handler)
	}
	req := httptest.NewRequest(method, target, bytes.NewReader(raw))
	req.Header = hdr
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return render(rec, sink.batches)
}

// maxRenderedEvents keeps golden files of large batches short.
const maxRenderedEvents = 3

func render(rec *httptest.ResponseRecorder, batches []*event.Batch) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "status %d\n", rec.Code)
	var keys []string
	for k := range rec.Header() {
		if strings.HasPrefix(k, "Access-Control-") || k == "Content-Type" || k == "Vary" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&sb, "header %s: %s\n", k, strings.Join(rec.Header()[k], ", "))
	}
	body := rec.Body.String()
	if len(body) > 0 {
		fmt.Fprintf(&sb, "body %s\n", body)
	}
	for _, b := range batches {
		fmt.Fprintf(&sb, "batch project=%d kind=%d received=%d events=%d\n", b.ProjectID, b.Kind, b.ServerReceivedTime, len(b.Events))
		for i := range b.Events {
			if i == maxRenderedEvents {
				fmt.Fprintf(&sb, "... %d more events\n", len(b.Events)-i)
				break
			}
			fmt.Fprintf(&sb, "event %s\n", eventJSON(&b.Events[i]))
		}
	}
	return strings.TrimSuffix(sb.String(), "\n")
}

// eventJSON renders the non-zero fields of e as one JSON line, property
// texts inline.
func eventJSON(e *event.Event) string {
	var sb strings.Builder
	sb.WriteByte('{')
	v := reflect.ValueOf(e).Elem()
	first := true
	for i := range v.NumField() {
		f := v.Field(i)
		if f.IsZero() {
			continue
		}
		var val []byte
		switch x := f.Interface().(type) {
		case []byte:
			val = x
		default:
			val, _ = json.Marshal(x)
		}
		if !first {
			sb.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&sb, "%q:%s", v.Type().Field(i).Name, val)
	}
	sb.WriteByte('}')
	return sb.String()
}

func TestTextCases(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.txt")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			cases := parseCases(t, string(data))
			var out strings.Builder
			for _, c := range cases {
				got := runCase(t, c.input)
				if *update {
					fmt.Fprintf(&out, "%s\n----\n%s\n====\n", c.input, got)
					continue
				}
				if got != c.output {
					t.Errorf("%s: case %q\n--- got\n%s\n--- want\n%s", file, c.name, got, c.output)
				}
			}
			if *update {
				if err := os.WriteFile(file, []byte(out.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
