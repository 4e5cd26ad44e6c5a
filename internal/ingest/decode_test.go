package ingest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/crest-analytics/crest/internal/event"
)

// checkAccepted reports why an accepted event breaks the decoder's
// promises, or "" when it keeps them.
func checkAccepted(e *event.Event, minIDLen int) string {
	if strings.TrimSpace(e.EventType) == "" {
		return "empty event_type"
	}
	if e.UserID == "" && e.DeviceID == "" {
		return "no id"
	}
	for _, id := range []string{e.UserID, e.DeviceID} {
		if id != "" && (blockedID(id) || utf8.RuneCountInString(id) < minIDLen) {
			return "bad id " + id
		}
	}
	for _, s := range []string{e.EventType, e.UserID, e.DeviceID, e.InsertID, e.Platform, e.Library, e.IP, e.UserAgent, e.Language, e.AppVersion} {
		if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxStringChars {
			return fmt.Sprintf("bad string %q", s)
		}
	}
	for _, b := range [][]byte{e.EventProperties, e.UserProperties, e.Groups, e.GroupProperties, e.Plan, e.IngestionMetadata} {
		if b == nil {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil || !utf8.Valid(b) {
			return fmt.Sprintf("bad property text %q: %v", b, err)
		}
	}
	return ""
}

func FuzzDecode(f *testing.F) {
	// The seed corpus is testdata/fuzz/FuzzDecode (bodies of the text cases).
	f.Add([]byte(demoBatch(3)))
	var pp fastjson.ParserPool
	f.Fuzz(func(t *testing.T, body []byte) {
		p := pp.Get()
		defer pp.Put(p)
		u, fail := decodeUpload(p, body, env{now: defaultNow, clientIP: "192.0.2.1"}, DefaultMaxEvents)
		if fail != nil {
			if fail.Code != 400 && fail.Code != 413 {
				t.Fatalf("request failure with code %d", fail.Code)
			}
			return
		}
		if !u.probs.empty() {
			return
		}
		minIDLen := defaultMinIDLength
		if n, ok := minIDLength(fastjson.MustParseBytes(body).Get("options", "min_id_length")); ok {
			minIDLen = n
		}
		for i := range u.events {
			if why := checkAccepted(&u.events[i], minIDLen); why != "" {
				t.Fatalf("accepted event %d: %s", i, why)
			}
		}
	})
}

// demoBatch is a body of n events shaped like the demo music app's.
func demoBatch(n int) string {
	var sb strings.Builder
	sb.WriteString(`{"api_key":"key-one","client_upload_time":"2024-06-01T09:59:59.500Z","options":{},"events":[`)
	genres := []string{"jazz", "rock", "pop", "classical"}
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"event_type":"Play Song","user_id":"user-%06d","device_id":"6f1c2a9e-7b3d-4e8f-9a0b-%012d","time":%d,"session_id":1717235000000,"event_id":%d,"insert_id":"9b2f7c1e-4d3a-4b5c-8e6f-%012d","platform":"Web","os_name":"Chrome","os_version":"125","language":"en-US","ip":"$remote","library":"amplitude-ts/2.48.1","user_agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36","event_properties":{"genre":"%s","song_id":%d,"duration_ms":%d,"source":"search"},"user_properties":{"plan":"premium","country":"FR","platform":"Web","app_version":"3.4.1"}}`,
			i%5000, i, 1717235000000+int64(i)*1000, i, i, genres[i%len(genres)], 1000+i, 180000+i*7)
	}
	sb.WriteString(`]}`)
	return sb.String()
}

func BenchmarkDecode(b *testing.B) {
	body := []byte(demoBatch(1000))
	var pp fastjson.ParserPool
	e := env{now: defaultNow, clientIP: "192.0.2.1"}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		p := pp.Get()
		u, fail := decodeUpload(p, body, e, DefaultMaxEvents)
		pp.Put(p)
		if fail != nil || !u.probs.empty() || len(u.events) != 1000 {
			b.Fatalf("decode failed: %+v %+v", fail, u.probs)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "events/s")
}

func TestDemoBatchDecodes(t *testing.T) {
	var p fastjson.Parser
	u, fail := decodeUpload(&p, []byte(demoBatch(50)), env{now: defaultNow, clientIP: "192.0.2.1"}, DefaultMaxEvents)
	if fail != nil || !u.probs.empty() {
		t.Fatalf("got failure %+v problems %+v", fail, u.probs)
	}
	if len(u.events) != 50 {
		t.Fatalf("got %d events, want 50", len(u.events))
	}
	for i := range u.events {
		if why := checkAccepted(&u.events[i], defaultMinIDLength); why != "" {
			t.Fatalf("event %d: %s", i, why)
		}
		if u.events[i].IP != "192.0.2.1" {
			t.Fatalf("event %d: IP %q, want the client address", i, u.events[i].IP)
		}
	}
}
