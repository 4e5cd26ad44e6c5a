package query

import (
	"strconv"
	"strings"
)

// Dialect is everything the query compiler needs to know about a
// backend's SQL. The compiler writes only portable SQL (SELECT, WITH,
// JOIN, GROUP BY GROUPING SETS, CASE, comparisons, count/sum/min/max);
// everything else goes through these methods. Table and column names are
// those of the storage schema (docs/storage.md), which every backend
// shares.
type Dialect interface {
	// Name names the dialect ("duckdb", "clickhouse").
	Name() string
	// Property returns an expression reading member key of the JSON
	// object text in column as text, NULL when absent. Nested values come
	// back as JSON text. This is the only place that knows how
	// properties are stored.
	Property(column, key string) string
	// PropertyPrefilter returns a cheap condition that holds for every row
	// whose property key of the canonical JSON object text in column is
	// one of values (it may hold for others too), or "" when the dialect
	// has none. The exact test still follows it; it only lets the engine
	// skip parsing rows that cannot match.
	PropertyPrefilter(column, key string, values []string) string
	// PropertyList returns an expression reading member key of the JSON
	// object in column as a list of text values (for set operators).
	PropertyList(column, key string) string
	// JSONKeys returns an expression that expands to one row per member
	// key of the JSON object text in column when used in a SELECT list.
	JSONKeys(column string) string
	// String returns s as a string literal.
	String(s string) string
	// StringList returns a list (array) literal of the strings.
	StringList(ss []string) string
	// ToNumber converts a text expression to a double, NULL when it is
	// not a number.
	ToNumber(expr string) string
	// ToText converts a non-text expression to text.
	ToText(expr string) string
	// IntDiv is floor division of two integer expressions.
	IntDiv(a, b string) string
	// ContainsFold reports whether sub occurs in expr, ignoring case.
	ContainsFold(expr, sub string) string
	// HasPrefixFold reports whether expr starts with prefix, ignoring case.
	HasPrefixFold(expr, prefix string) string
	// RegexpFullMatch reports whether the whole of expr matches the RE2
	// regular expression re.
	RegexpFullMatch(expr, re string) string
	// SingletonList returns a one-element list holding expr.
	SingletonList(expr string) string
	// ListHasAll reports whether the list expression contains every
	// element of the list expression sub.
	ListHasAll(list, sub string) string
	// CountDistinct counts the distinct non-NULL values of expr exactly.
	CountDistinct(expr string) string
	// Median is the median of a numeric expression.
	Median(expr string) string
	// Quantile is the q-quantile (0 to 1) of a numeric expression,
	// interpolated linearly between the two nearest values (DuckDB's
	// quantile_cont), NULL over no values.
	Quantile(expr string, q float64) string
	// ListLen is the number of elements of a list expression.
	ListLen(list string) string
	// ListDistinct is the list expression without repeated elements.
	ListDistinct(list string) string
	// Series is a table expression of one BIGINT column named col holding
	// 0..n-1, usable after FROM or JOIN.
	Series(n int, col string) string
}

// DuckDB is the Dialect of the embedded DuckDB backend.
type DuckDB struct {
	// Columns, when set, names the columns that hold properties of their
	// own (the store's promoted properties, docs/storage.md): a property
	// read uses the column instead of parsing the JSON text.
	Columns PropertyColumns
}

// PropertyColumns reports the column holding property key of a JSON
// column (event_properties, user_properties) of the events table, if
// there is one. The column must hold exactly what json_extract_string
// of the JSON column gives. *duckdb.DB implements it.
type PropertyColumns interface {
	PropertyColumn(jsonColumn, key string) (string, bool)
}

// column returns the promoted column for key of column ("ev.<json
// column>"), qualified by the same table alias.
func (d DuckDB) column(column, key string) (string, bool) {
	if d.Columns == nil {
		return "", false
	}
	alias, name, ok := strings.Cut(column, ".")
	if !ok || alias != "ev" {
		return "", false
	}
	col, ok := d.Columns.PropertyColumn(name, key)
	if !ok {
		return "", false
	}
	return alias + "." + col, true
}

var _ Dialect = DuckDB{}

// Name implements Dialect.
func (DuckDB) Name() string { return "duckdb" }

// Property implements Dialect: properties are JSON text columns
// (internal/storage/duckdb.PropertyExpr); change both together.
func (d DuckDB) Property(column, key string) string {
	if col, ok := d.column(column, key); ok {
		return col
	}
	return "json_extract_string(" + column + ", " + d.String(jsonPathKey(key)) + ")"
}

// PropertyPrefilter implements Dialect: in canonical compact JSON
// (identity's snapshots) a member key with value v is the text "key":"v"
// (or "key":v for a number or boolean), so a substring search rules out
// most rows before json_extract_string parses them: 3.5× faster on the
// demo data (docs/query.md). Keys and values that JSON might escape get
// no prefilter.
func (d DuckDB) PropertyPrefilter(column, key string, values []string) string {
	plain := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
				return false
			}
		}
		return true
	}
	if !plain(key) || len(values) == 0 {
		return ""
	}
	if _, ok := d.column(column, key); ok {
		return "" // the exact test reads a plain column: no parsing to skip
	}
	var parts []string
	for _, v := range values {
		if !plain(v) {
			return ""
		}
		parts = append(parts, "contains("+column+", "+d.String(`"`+key+`":"`+v+`"`)+")")
		if _, err := strconv.ParseFloat(v, 64); err == nil || v == "true" || v == "false" {
			parts = append(parts, "contains("+column+", "+d.String(`"`+key+`":`+v)+")")
		}
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// PropertyList implements Dialect.
func (d DuckDB) PropertyList(column, key string) string {
	return "json_extract_string(" + column + ", " + d.String(jsonPathKey(key)+"[*]") + ")"
}

// JSONKeys implements Dialect.
func (DuckDB) JSONKeys(column string) string { return "unnest(json_keys(" + column + "))" }

// String implements Dialect.
func (DuckDB) String(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// StringList implements Dialect.
func (d DuckDB) StringList(ss []string) string {
	var b strings.Builder
	b.WriteString("[")
	for i, s := range ss {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.String(s))
	}
	b.WriteString("]::VARCHAR[]")
	return b.String()
}

// ToNumber implements Dialect.
func (DuckDB) ToNumber(expr string) string { return "TRY_CAST(" + expr + " AS DOUBLE)" }

// ToText implements Dialect.
func (DuckDB) ToText(expr string) string { return "CAST(" + expr + " AS VARCHAR)" }

// IntDiv implements Dialect.
func (DuckDB) IntDiv(a, b string) string { return "((" + a + ") // (" + b + "))" }

// ContainsFold implements Dialect.
func (d DuckDB) ContainsFold(expr, sub string) string {
	return "contains(lower(" + expr + "), " + d.String(strings.ToLower(sub)) + ")"
}

// HasPrefixFold implements Dialect.
func (d DuckDB) HasPrefixFold(expr, prefix string) string {
	return "starts_with(lower(" + expr + "), " + d.String(strings.ToLower(prefix)) + ")"
}

// RegexpFullMatch implements Dialect.
func (d DuckDB) RegexpFullMatch(expr, re string) string {
	return "regexp_full_match(" + expr + ", " + d.String(re) + ")"
}

// SingletonList implements Dialect.
func (DuckDB) SingletonList(expr string) string { return "[" + expr + "]" }

// ListHasAll implements Dialect.
func (DuckDB) ListHasAll(list, sub string) string {
	return "list_has_all(" + list + ", " + sub + ")"
}

// CountDistinct implements Dialect.
func (DuckDB) CountDistinct(expr string) string { return "count(DISTINCT " + expr + ")" }

// Median implements Dialect.
func (DuckDB) Median(expr string) string { return "median(" + expr + ")" }

// Quantile implements Dialect.
func (DuckDB) Quantile(expr string, q float64) string {
	return "quantile_cont(" + expr + ", " + formatQ(q) + ")"
}

// ListLen implements Dialect.
func (DuckDB) ListLen(list string) string { return "len(" + list + ")" }

// ListDistinct implements Dialect.
func (DuckDB) ListDistinct(list string) string { return "list_distinct(" + list + ")" }

// Series implements Dialect.
func (DuckDB) Series(n int, col string) string {
	return "(SELECT range AS " + col + " FROM range(" + strconv.Itoa(n) + "))"
}

// jsonPathKey returns a JSON path selecting the top-level member key,
// quoted so dots and brackets in it are not path syntax.
func jsonPathKey(key string) string {
	var b strings.Builder
	b.WriteString(`$."`)
	for _, r := range key {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}
