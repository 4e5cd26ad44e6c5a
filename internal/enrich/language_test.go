package enrich

import (
	"testing"

	"github.com/crest-analytics/crest/internal/event"
)

func TestLanguageName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"en-US", "English"},
		{"en", "English"},
		{"EN-gb", "English"},
		{"en_US", "English"},
		{"de", "German"},
		{"de-AT", "German"},
		{"pt-BR", "Portuguese"},
		{"zh-Hant-TW", "Chinese"},
		{"nb-NO", "Norwegian"},
		{"fil-PH", "Filipino"},
		{"English", "English"},
		{"german", "German"},
		{"xx-YY", "xx-YY"},     // unknown code stays as sent
		{"Klingon", "Klingon"}, // unknown name stays as sent
		{"-US", "-US"},
		{"averyveryverylonglanguagename", "averyveryverylonglanguagename"},
		{"", ""},
	} {
		if got := LanguageName(tc.in); got != tc.want {
			t.Errorf("LanguageName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEnrichLanguage(t *testing.T) {
	e := newTestEnricher(t, Options{})
	ev := &event.Event{Language: "fr-CA"}
	e.Enrich(ev)
	if ev.Language != "French" {
		t.Errorf("Language = %q, want French", ev.Language)
	}
}
