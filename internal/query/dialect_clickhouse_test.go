package query

import "testing"

func TestClickHouseDialect(t *testing.T) {
	d := ClickHouse{}
	f := func(got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
	f(d.String(`it's a \ test`), `'it\'s a \\ test'`)
	f(d.StringList([]string{"a", "b"}), "CAST(['a', 'b'] AS Array(String))")
	f(d.IntDiv("x", "7"), "(intDiv(x, 7) - if(((x) % (7)) < 0, 1, 0))")
	f(d.RegexpFullMatch("c", "a|b"), "match(c, '^(?:a|b)$')")
	f(d.Series(3, "k"), "(SELECT number AS k FROM numbers(3))")
	f(d.Property("ev.event_properties", "genre"), "if(JSONType(ev.event_properties, 'genre') = 'Null', NULL, "+
		"if(JSONType(ev.event_properties, 'genre') = 'String', JSONExtractString(ev.event_properties, 'genre'), "+
		"JSONExtractRaw(ev.event_properties, 'genre')))")
}
