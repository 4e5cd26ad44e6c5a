package query

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestGlob(t *testing.T) {
	f := func(glob, s string, want bool) {
		t.Helper()
		re, err := globRegexp(glob)
		if err != nil {
			t.Fatalf("%q: %v", glob, err)
		}
		if got := regexp.MustCompile("^(?:" + re + ")$").MatchString(s); got != want {
			t.Errorf("glob %q on %q = %v, want %v (re %s)", glob, s, got, want, re)
		}
	}
	f("a*", "abc", true)
	f("a*", "ab/c", false)
	f("a**", "ab/c", true)
	f("a?c", "abc", true)
	f("a?c", "ac", false)
	f("[ab]x", "bx", true)
	f("[!ab]x", "bx", false)
	f("[!ab]x", "cx", true)
	f("a.b", "axb", false)
	f("é*", "été", true)
	if _, err := globRegexp("a[b"); err == nil {
		t.Error(`glob "a[b": no error`)
	}
}

func TestFormulaErrors(t *testing.T) {
	f := func(text, want string) {
		t.Helper()
		_, err := parseFormula(text, 2)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseFormula(%q) = %v, want an error containing %q", text, err, want)
		}
	}
	f("UNIQUES(C)", "event C does not exist")
	f("UNIQUES(A", `expected ')'`)
	f("FOO(A)", "unknown function FOO")
	f("UNIQUES(A) +", "unexpected end")
	f("ROLLAVG(TOTALS(A), 0)", "whole number from 1 to 90")
	f("CUMSUM(3)", "needs a metric")
	f("LOG(2)", "LOG takes 2 arguments")
	f("1 2", `unexpected "2"`)
}

func TestFormulaEval(t *testing.T) {
	f := func(text string, want float64) {
		t.Helper()
		fm, err := parseFormula(text, 2)
		if err != nil {
			t.Fatal(err)
		}
		got := fm.eval(fm.root, 1, func(m fmetric) fvalue {
			v := map[string]float64{"A": 4, "B": 2}[string(rune('A'+m.event))]
			return fvalue{points: []float64{v}, collapsed: v}
		})
		if got.collapsed != want {
			t.Errorf("%s = %v, want %v", text, got.collapsed, want)
		}
	}
	f("UNIQUES(A)/UNIQUES(B)", 2)
	f("-TOTALS(A) + 2*3", 2)
	f("(UNIQUES(A) - UNIQUES(B)) / 4", 0.5)
	f("UNIQUES(A)/(UNIQUES(B)-2)", 0)
	f("POWER(UNIQUES(B), 3)", 8)
	f("LOG10(100)", 2)
	f("%: UNIQUES(B)/UNIQUES(A)", 0.5)
}

func TestBuckets(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	f := func(from, to string, iv Interval, wantLabels string, wantCase bool) {
		t.Helper()
		a, _ := time.ParseInLocation("2006-01-02", from, berlin)
		z, _ := time.ParseInLocation("2006-01-02", to, berlin)
		b, err := newBuckets(span{a, z}, iv, time.Sunday, 0)
		if err != nil {
			t.Fatal(err)
		}
		var labels []string
		for i := 0; i < b.n(); i++ {
			labels = append(labels, b.label(i))
		}
		if got := strings.Join(labels, " "); got != wantLabels {
			t.Errorf("%s..%s %s: labels %s, want %s", from, to, iv, got, wantLabels)
		}
		if got := strings.Contains(b.offsetExpr("t"), "CASE"); got != wantCase {
			t.Errorf("%s..%s: offset %s, want CASE %v", from, to, b.offsetExpr("t"), wantCase)
		}
	}
	f("2024-01-01", "2024-01-04", Day, "2024-01-01 2024-01-02 2024-01-03", false)
	f("2024-03-30", "2024-04-02", Day, "2024-03-30 2024-03-31 2024-04-01", true)
	f("2024-01-01", "2024-04-01", Month, "2024-01-01 2024-02-01 2024-03-01", true)
	f("2024-01-01", "2024-03-01", Month, "2024-01-01 2024-02-01", false)
	f("2024-01-03", "2024-01-16", Week, "2023-12-31 2024-01-07 2024-01-14", false)
	f("2024-02-01", "2024-08-01", Quarter, "2024-01-01 2024-04-01 2024-07-01", true)
}

// BenchmarkSegmentationSQL measures building the SQL of a grouped,
// filtered chart with a DST change in its range.
func BenchmarkSegmentationSQL(b *testing.B) {
	b.ReportAllocs()
	s, err := ParseSegmentation([]byte(`{"type":"segmentation","version":1,"events":[{"event_type":"Play Song",
		"filters":[{"type":"user","key":"plan","op":"is","values":["paid"]}],"group_by":[{"type":"device","key":"country"},{"type":"event","key":"genre"}]}],
		"range":{"start":"2024-01-01","end":"2024-06-30"}}`))
	if err != nil {
		b.Fatal(err)
	}
	loc, _ := time.LoadLocation("Europe/Berlin")
	sp, err := s.Range.resolve(loc, time.Now(), time.Sunday)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		bk, err := newBuckets(sp, s.Interval, time.Sunday, 0)
		if err != nil {
			b.Fatal(err)
		}
		c := &compiler{d: DuckDB{}, project: 1, b: bk}
		ev := &s.Events[0]
		q := c.aggSQL(c.source(ev, &Segment{Users: "any"}, ev.GroupBy, "", true), 2, true, false, false)
		b.SetBytes(int64(len(q)))
	}
}
