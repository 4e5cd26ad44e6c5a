package query

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Property types of a PropRef or Filter.
const (
	PropEvent  = "event"  // event_properties
	PropUser   = "user"   // the user's properties as of the event
	PropGroup  = "group"  // the event's group value for a group type
	PropDevice = "device" // a built-in column: country, platform, ...
)

// builtins maps the names of built-in properties (spec §6.1 and the event
// fields) to their columns and whether the column is numeric.
var builtins = map[string]struct {
	col     string
	numeric bool
}{
	"version": {"app_version", false}, "app_version": {"app_version", false},
	"start_version": {"start_version", false}, "platform": {"platform", false},
	"os": {"os_name", false}, "os_name": {"os_name", false}, "os_version": {"os_version", false},
	"device": {"device_model", false}, "device_model": {"device_model", false},
	"device_brand": {"device_brand", false}, "device_manufacturer": {"device_manufacturer", false},
	"device_type": {"device_type", false}, "device_family": {"device_family", false},
	"carrier": {"carrier", false}, "browser": {"browser", false},
	"country": {"country", false}, "region": {"region", false}, "city": {"city", false},
	"dma": {"dma", false}, "DMA": {"dma", false}, "language": {"language", false},
	"library": {"library", false}, "paying": {"paying", false},
	"user_id": {"user_id", false}, "device_id": {"device_id", false},
	"amplitude_id": {"amplitude_id", true}, "session_id": {"session_id", true},
	"event_type": {"event_type", false},
	"revenue":    {"revenue", true}, "price": {"price", true}, "quantity": {"quantity", true},
	"product_id": {"product_id", false}, "revenue_type": {"revenue_type", false},
	"location_lat": {"location_lat", true}, "location_lng": {"location_lng", true},
}

// PropRef names a property: Type is event, user, group or device (a
// built-in column, see docs/query.md); Key is its name.
type PropRef struct {
	Type string `json:"type"`
	Key  string `json:"key"`
}

func (p PropRef) validate() error {
	if p.Key == "" {
		return fieldErr("key", "missing")
	}
	switch p.Type {
	case PropEvent, PropUser, PropGroup:
	case PropDevice:
		if _, ok := builtins[p.Key]; !ok {
			return fieldErr("key", "unknown built-in property %q", p.Key)
		}
	case "":
		return fieldErr("type", "missing (event, user, group or device)")
	default:
		return fieldErr("type", "unknown property type %q (event, user, group or device)", p.Type)
	}
	return nil
}

// text returns an expression of the property as text (NULL when unset);
// the events table is aliased ev.
func (p PropRef) text(d Dialect) string {
	switch p.Type {
	case PropEvent:
		return d.Property("ev.event_properties", p.Key)
	case PropUser:
		return d.Property("ev.user_properties", p.Key)
	case PropGroup:
		return d.Property("ev.groups", p.Key)
	}
	b := builtins[p.Key]
	if b.numeric {
		return d.ToText("ev." + b.col)
	}
	// Empty strings are stored for absent built-ins; they read as unset.
	return "nullif(ev." + b.col + ", '')"
}

// number returns an expression of the property as a double (NULL when
// unset or not a number).
func (p PropRef) number(d Dialect) string {
	if p.Type == PropDevice && builtins[p.Key].numeric {
		return "CAST(ev." + builtins[p.Key].col + " AS DOUBLE)"
	}
	return d.ToNumber(p.text(d))
}

// list returns an expression of the property as a list of text values.
func (p PropRef) list(d Dialect) string {
	switch p.Type {
	case PropEvent:
		return d.PropertyList("ev.event_properties", p.Key)
	case PropUser:
		return d.PropertyList("ev.user_properties", p.Key)
	case PropGroup:
		return d.PropertyList("ev.groups", p.Key)
	}
	return ""
}

// Filter operators (spec §5.0). Values of one filter are OR'd (AND for the
// set operators); filters are AND'd.
const (
	OpIs             = "is"
	OpIsNot          = "is not"
	OpContains       = "contains"
	OpNotContains    = "does not contain"
	OpStartsWith     = "starts with"
	OpNotStartsWith  = "does not start with"
	OpLess           = "less"
	OpLessEqual      = "less or equal"
	OpGreater        = "greater"
	OpGreaterEqual   = "greater or equal"
	OpSet            = "set"
	OpNotSet         = "not set"
	OpSetIs          = "set is"
	OpSetIsNot       = "set is not"
	OpSetContains    = "set contains"
	OpSetNotContains = "set does not contain"
	OpGlob           = "glob match"
	OpNotGlob        = "glob does not match"
)

var operators = map[string]bool{
	OpIs: true, OpIsNot: true, OpContains: true, OpNotContains: true, OpStartsWith: true,
	OpNotStartsWith: true, OpLess: true, OpLessEqual: true, OpGreater: true, OpGreaterEqual: true,
	OpSet: true, OpNotSet: true, OpSetIs: true, OpSetIsNot: true, OpSetContains: true,
	OpSetNotContains: true, OpGlob: true, OpNotGlob: true,
}

// None is the label of the bucket of events without a value, and the
// filter value that matches them.
const None = "(none)"

// Filter is one property condition.
type Filter struct {
	PropRef
	Op     string   `json:"op"`
	Values []string `json:"values,omitempty"`
}

func (f Filter) validate() error {
	if err := f.PropRef.validate(); err != nil {
		return err
	}
	if !operators[f.Op] {
		return fieldErr("op", "unknown operator %q", f.Op)
	}
	switch f.Op {
	case OpSet, OpNotSet:
		return nil
	}
	if len(f.Values) == 0 {
		return fieldErr("values", "operator %q needs at least one value", f.Op)
	}
	switch f.Op {
	case OpLess, OpLessEqual, OpGreater, OpGreaterEqual:
		if len(f.Values) != 1 {
			return fieldErr("values", "operator %q takes one value", f.Op)
		}
	case OpGlob, OpNotGlob:
		for i, v := range f.Values {
			if _, err := globRegexp(v); err != nil {
				return fieldErr(fmt.Sprintf("values[%d]", i), "%v", err)
			}
		}
	}
	return nil
}

// sql returns the filter as a boolean SQL expression over ev.
func (f Filter) sql(d Dialect) string {
	x := f.text(d)
	or := func(each func(v string) string) string {
		parts := make([]string, len(f.Values))
		for i, v := range f.Values {
			parts[i] = each(v)
		}
		return "(" + strings.Join(parts, " OR ") + ")"
	}
	switch f.Op {
	case OpSet:
		return "(" + x + " IS NOT NULL)"
	case OpNotSet:
		return "(" + x + " IS NULL)"
	case OpIs, OpIsNot:
		var lits []string
		none := false
		for _, v := range f.Values {
			if v == None {
				none = true
				continue
			}
			lits = append(lits, d.String(v))
		}
		var parts []string
		if len(lits) > 0 {
			parts = append(parts, x+" IN ("+strings.Join(lits, ", ")+")")
		}
		if none {
			parts = append(parts, x+" IS NULL")
		}
		is := "(" + strings.Join(parts, " OR ") + ")"
		if f.Op == OpIs {
			// User properties are identity's canonical JSON: a cheap
			// substring prefilter skips most rows before parsing.
			if f.Type == PropUser && !none {
				if pre := d.PropertyPrefilter("ev.user_properties", f.Key, f.Values); pre != "" {
					return "(" + pre + " AND " + is + ")"
				}
			}
			return is
		}
		return "(NOT coalesce(" + is + ", false))"
	case OpContains:
		return or(func(v string) string { return d.ContainsFold(x, v) })
	case OpNotContains:
		return "(NOT coalesce(" + or(func(v string) string { return d.ContainsFold(x, v) }) + ", false))"
	case OpStartsWith:
		return or(func(v string) string { return d.HasPrefixFold(x, v) })
	case OpNotStartsWith:
		return "(NOT coalesce(" + or(func(v string) string { return d.HasPrefixFold(x, v) }) + ", false))"
	case OpLess, OpLessEqual, OpGreater, OpGreaterEqual:
		cmp := map[string]string{OpLess: "<", OpLessEqual: "<=", OpGreater: ">", OpGreaterEqual: ">="}[f.Op]
		if n, err := strconv.ParseFloat(f.Values[0], 64); err == nil {
			return "(" + f.number(d) + " " + cmp + " " + strconv.FormatFloat(n, 'g', -1, 64) + ")"
		}
		// Not a number: compare as strings (ISO-8601 dates order correctly).
		return "(" + x + " " + cmp + " " + d.String(f.Values[0]) + ")"
	case OpSetIs, OpSetIsNot, OpSetContains, OpSetNotContains:
		l := f.list(d)
		if l == "" { // a scalar built-in: a one-element set
			l = d.SingletonList(x)
		}
		want := d.StringList(f.Values)
		var e string
		switch f.Op {
		case OpSetIs, OpSetIsNot:
			e = "(" + d.ListHasAll(l, want) + " AND " + d.ListHasAll(want, l) + ")"
		default:
			e = d.ListHasAll(l, want)
		}
		if f.Op == OpSetIsNot || f.Op == OpSetNotContains {
			return "(NOT coalesce(" + e + ", false))"
		}
		return "coalesce(" + e + ", false)"
	case OpGlob, OpNotGlob:
		e := or(func(v string) string {
			re, _ := globRegexp(v)
			return d.RegexpFullMatch(x, re)
		})
		if f.Op == OpNotGlob {
			return "(NOT coalesce(" + e + ", false))"
		}
		return e
	}
	panic("BUG: unvalidated operator " + f.Op)
}

// globRegexp translates a glob (spec §5.0: * any run of non-/ characters,
// ** anything, ? one character, [...] and [!...] classes) to an RE2
// expression matching the whole string.
func globRegexp(g string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(g); i++ {
		c := g[i]
		switch c {
		case '*':
			if i+1 < len(g) && g[i+1] == '*' {
				b.WriteString(".*")
				i++
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString(".")
		case '[':
			j := strings.IndexByte(g[i+1:], ']')
			if j < 0 {
				return "", fmt.Errorf("glob %q: unclosed [", g)
			}
			class := g[i+1 : i+1+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += j + 1
		default:
			j := strings.IndexAny(g[i:], "*?[")
			if j < 0 {
				j = len(g) - i
			}
			b.WriteString(regexp.QuoteMeta(g[i : i+j]))
			i += j - 1
		}
	}
	re := b.String()
	if _, err := regexp.Compile(re); err != nil {
		return "", fmt.Errorf("glob %q: %w", g, err)
	}
	return re, nil
}

// IsBuiltin reports whether name is a built-in property (a column such
// as country or platform) rather than a custom one.
func IsBuiltin(name string) bool {
	_, ok := builtins[name]
	return ok
}
