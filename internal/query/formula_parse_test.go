package query

import (
	"slices"
	"strings"
	"testing"
)

func TestFormulaFunctionErrors(t *testing.T) {
	f := func(text, want string) {
		t.Helper()
		_, err := parseFormula(text, 2)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseFormula(%q) = %v, want an error containing %q", text, err, want)
		}
	}
	f("PERCENTILE(A)", `"PERCENTILE(A)" at offset 12: PERCENTILE takes an event and a percentile, e.g. PERCENTILE(A, 90)`)
	f("PERCENTILE(A, 101)", `at offset 14: PERCENTILE percentile must be from 0 to 100, got 101`)
	f("FREQPERCENTILE(A, x)", `at offset 18: expected a number`)
	f("PERCENTILE(C, 50)", "event C does not exist")
	f("SEMANTICTOTALS(A)", "SEMANTICTOTALS takes an event and UNIQUE_ARRAY_VALUES or ALL_VALUES")
	f("SEMANTICTOTALS(A, SOME)", `at offset 18: SEMANTICTOTALS mode must be UNIQUE_ARRAY_VALUES or ALL_VALUES, got "SOME"`)
	f("PROPCOUNT(A, 2)", `expected ')'`)
	f("ROLLWINBEFORE(PERCENTILE, A, 2)", "at offset 14: ROLLWINBEFORE takes UNIQUES, TOTALS")
	f("CUMSUM(HIST(A))", "CUMSUM takes UNIQUES")
	f("ROLLWINBEFORE(UNIQUES(A), 91)", "ROLLWINBEFORE window must be a whole number from 1 to 90")
	f("ROLLWINBEFORE(UNIQUES(A))", `expected ','`)
	f("HIST(A) / PROPHIST(B)", "HIST and PROPHIST cannot be combined")
	f("EVENTTOTALS()", "expected an event letter")
}

func TestFormulaFunctionParse(t *testing.T) {
	f := func(text string, want fmetric) {
		t.Helper()
		fm, err := parseFormula(text, 2)
		if err != nil {
			t.Fatalf("parseFormula(%q): %v", text, err)
		}
		ms := fm.metrics()
		if len(ms) != 1 || ms[0] != want {
			t.Errorf("parseFormula(%q) metrics = %+v, want %+v", text, ms, want)
		}
	}
	f("percentile(B, 90)", fmetric{fn: "PERCENTILE", event: 1, p: 0.9})
	f("PERCENTILE(A, 0.9)", fmetric{fn: "PERCENTILE", event: 0, p: 0.9})
	f("PERCENTILE(A, 1)", fmetric{fn: "PERCENTILE", event: 0, p: 1})
	f("FREQPERCENTILE(A, 0)", fmetric{fn: "FREQPERCENTILE", event: 0})
	f("SEMANTICTOTALS(A, unique_array_values)", fmetric{fn: "SEMANTICTOTALS", mode: uniqueValues})
	f("ROLLWINBEFORE(UNIQUES, B, 7)", fmetric{fn: "UNIQUES", event: 1, window: 7, before: true})
	f("ROLLWINBEFORE(TOTALS(A), 3)", fmetric{fn: "TOTALS", window: 3, before: true})
	f("ROLLWIN(TOTALS(A), 3)", fmetric{fn: "TOTALS", window: 3})
	f("PROPHIST(B)", fmetric{fn: "PROPHIST", event: 1})
}

func TestFormulaPropertyEvents(t *testing.T) {
	f := func(text string, want ...bool) {
		t.Helper()
		if got := FormulaPropertyEvents(text, 3); !slices.Equal(got, want) {
			t.Errorf("FormulaPropertyEvents(%q) = %v, want %v", text, got, want)
		}
	}
	f("UNIQUES(A)/FREQPERCENTILE(B, 50)", false, false, false)
	f("PERCENTILE(A, 50); PROPCOUNT(C)", true, false, true)
	f("SEMANTICTOTALS(B, ALL_VALUES) + PROPSUM(B)", false, true, false)
	f("PROPHIST(A) + (", false, false, false)
}
