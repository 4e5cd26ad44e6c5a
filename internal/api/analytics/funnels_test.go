package analytics

import (
	"net/url"
	"strings"
	"testing"
)

// TestAmpFunnelDefOptional checks the optional parameter of
// /api/2/funnels (a Crest extension) and the n parameter (spec §6.2:
// active, the default, or new).
func TestAmpFunnelDefOptional(t *testing.T) {
	steps := "e=" + url.QueryEscape(`{"event_type":"A"}`) + "&e=" + url.QueryEscape(`{"event_type":"B"}`) +
		"&e=" + url.QueryEscape(`{"event_type":"C"}`) + "&start=20240101&end=20240107"
	parse := func(params string) (string, []bool) {
		t.Helper()
		q, err := url.ParseQuery(params)
		if err != nil {
			t.Fatal(err)
		}
		f, err := ampFunnelDef(q)
		if err != nil {
			return err.Error(), nil
		}
		var opt []bool
		for _, s := range f.Steps {
			opt = append(opt, s.Optional)
		}
		return f.NewUsers, opt
	}
	if _, opt := parse(steps + "&optional=2"); len(opt) != 3 || opt[0] || !opt[1] || opt[2] {
		t.Errorf("optional=2: steps optional %v, want only step 2", opt)
	}
	if _, opt := parse(steps); len(opt) != 3 || opt[0] || opt[1] || opt[2] {
		t.Errorf("no optional: steps optional %v", opt)
	}
	for _, bad := range []string{"1", "3", "x"} {
		if msg, _ := parse(steps + "&optional=" + bad); !strings.Contains(msg, "optional: want a middle step, 2 to 2") {
			t.Errorf("optional=%s: %q", bad, msg)
		}
	}
	for n, want := range map[string]string{"": "", "active": "", "any": "", "new": "any_day"} {
		if got, _ := parse(steps + "&n=" + n); got != want {
			t.Errorf("n=%s: new_users %q, want %q", n, got, want)
		}
	}
	if msg, _ := parse(steps + "&n=old"); !strings.Contains(msg, "n: want active or new") {
		t.Errorf("n=old: %q", msg)
	}
	// Active users (the default) need an active event in the entry's
	// interval only where the entry may be inactive (funnel_active.txt).
	performed := func(params string) string {
		t.Helper()
		q, _ := url.ParseQuery(params)
		f, err := ampFunnelDef(q)
		if err != nil {
			t.Fatalf("%s: %v", params, err)
		}
		if len(f.Segments) == 0 {
			return "none"
		}
		var out []string
		for _, p := range f.Segments[0].Performed {
			out = append(out, p.EventType+"/"+p.Window)
		}
		return strings.Join(out, " ")
	}
	all := "e=" + url.QueryEscape(`{"event_type":"_all"}`) + "&e=" + url.QueryEscape(`{"event_type":"B"}`) + "&start=20240101&end=20240107"
	for params, want := range map[string]string{
		steps:                     "none",
		all:                       "_active/each_interval",
		all + "&n=active":         "_active/each_interval",
		all + "&n=any":            "none",
		all + "&n=new":            "none",
		steps + "&mode=unordered": "none",
		"e=" + url.QueryEscape(`{"event_type":"A"}`) + "&e=" + url.QueryEscape(`{"event_type":"session_start"}`) + "&start=20240101&end=20240107&mode=unordered": "_active/each_interval",
	} {
		if got := performed(params); got != want {
			t.Errorf("%s: performed %q, want %q", params, got, want)
		}
	}
}
