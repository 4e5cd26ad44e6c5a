package event

import (
	"encoding/json"
	"testing"
)

func TestAppendJSONString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":         `"plain"`,
		`q"b\`:          `"q\"b\\"`,
		"a\nb\tc\r\x01": `"a\nb\tc\r\u0001"`,
		"héllo ✓":       `"héllo ✓"`,
		"bad \xff utf8": "\"bad \ufffd utf8\"",
		"":              `""`,
	} {
		for _, got := range []string{string(AppendJSONString(nil, in)), string(AppendJSONString(nil, []byte(in)))} {
			if got != want {
				t.Errorf("AppendJSONString(%q) = %s, want %s", in, got, want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("AppendJSONString(%q) = %s is not valid JSON", in, got)
			}
		}
	}
}

func BenchmarkAppendJSONString(b *testing.B) {
	s := []byte("Müller's café ✓ — naïve résumé, déjà vu")
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		buf = AppendJSONString(buf[:0], s)
		buf = AppendJSONString(buf[:0], string(s))
	}
}
