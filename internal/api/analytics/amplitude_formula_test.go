package analytics

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/crest-analytics/crest/internal/query"
)

// TestAmpFormulaProperty: in a formula, the first group-by of an event
// names the property only when a property function reads that event;
// the other events keep their group-bys.
func TestAmpFormulaProperty(t *testing.T) {
	f := func(formula string, want ...query.EventSpec) {
		t.Helper()
		q := url.Values{
			"e":       {`{"event_type":"A","group_by":[{"type":"event","value":"ms"},{"type":"event","value":"genre"}]}`},
			"e2":      {`{"event_type":"B","group_by":[{"type":"event","value":"ms"}]}`},
			"m":       {"formula"},
			"formula": {formula},
			"start":   {"20240101"},
			"end":     {"20240107"},
		}
		got, err := ampSegmentationDef(q)
		if err != nil {
			t.Fatalf("%s: %v", formula, err)
		}
		gj, _ := json.Marshal(got.Events)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) {
			t.Errorf("%s:\n got %s\nwant %s", formula, gj, wj)
		}
	}
	ms := query.PropRef{Type: "event", Key: "ms"}
	genre := query.PropRef{Type: "event", Key: "genre"}
	f("PERCENTILE(A, 90)/UNIQUES(B)",
		query.EventSpec{EventType: "A", GroupBy: []query.PropRef{genre}, Property: &ms},
		query.EventSpec{EventType: "B", GroupBy: []query.PropRef{ms}})
	f("FREQPERCENTILE(A, 50) + SEMANTICTOTALS(B, ALL_VALUES)",
		query.EventSpec{EventType: "A", GroupBy: []query.PropRef{ms, genre}},
		query.EventSpec{EventType: "B", Property: &ms})
	f("UNIQUES(A); PROPCOUNT(A); PROPHIST(B)",
		query.EventSpec{EventType: "A", GroupBy: []query.PropRef{genre}, Property: &ms},
		query.EventSpec{EventType: "B", Property: &ms})
}
