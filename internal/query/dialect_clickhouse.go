package query

import (
	"strconv"
	"strings"
)

// ClickHouse is the Dialect of the ClickHouse backend
// (internal/storage/clickhouse). Properties are JSON object text in
// Nullable(String) columns, read with the JSON* functions; their values
// come back as DuckDB's json_extract_string gives them (strings
// unquoted, other values as JSON text, NULL when absent or null).
//
// The compiler's SQL uses common table expressions and GROUPING SETS,
// which ClickHouse has from 22.6 on; for older servers the storage
// backend rewrites each statement first (internal/storage/clickhouse).
type ClickHouse struct {
	// Legacy reads properties with the visitParam* functions, for
	// servers before 20.1 (Debian's 18.16), which lack the JSON*
	// functions. visitParam finds the first member of that name at any
	// depth, so a top-level key that also occurs, earlier, inside a
	// nested object reads the nested one.
	Legacy bool
}

var _ Dialect = ClickHouse{}

// Name implements Dialect.
func (ClickHouse) Name() string { return "clickhouse" }

// Property implements Dialect.
func (c ClickHouse) Property(column, key string) string {
	k := c.String(key)
	if c.Legacy {
		raw := "visitParamExtractRaw(" + column + ", " + k + ")"
		return "if(" + raw + " IN ('', 'null'), NULL, if(substring(" + raw + ", 1, 1) = '\"', visitParamExtractString(" +
			column + ", " + k + "), " + raw + "))"
	}
	return "if(JSONType(" + column + ", " + k + ") = 'Null', NULL, if(JSONType(" + column + ", " + k +
		") = 'String', JSONExtractString(" + column + ", " + k + "), JSONExtractRaw(" + column + ", " + k + ")))"
}

// PropertyList implements Dialect: each element of the array at key as
// text, an empty list when the value is not an array.
func (c ClickHouse) PropertyList(column, key string) string {
	if c.Legacy {
		raw := "visitParamExtractRaw(ifNull(" + column + ", '{}'), " + c.String(key) + ")"
		unquote := "replaceRegexpAll(substring(x, 2, length(x) - 2), " + c.String(`\\(.)`) + ", " + c.String(`\1`) + ")"
		elems := "extractAll(" + raw + ", " + c.String(`"(?:[^"\\]|\\.)*"|[^,\[\]\s]+`) + ")"
		return "if(substring(" + raw + ", 1, 1) = '[', arrayMap(x -> if(substring(x, 1, 1) = '\"', " + unquote + ", x), " +
			elems + "), CAST([] AS Array(String)))"
	}
	return "arrayMap(x -> if(JSONType(x) = 'String', JSONExtractString(x), x), JSONExtractArrayRaw(ifNull(" +
		column + ", '{}'), " + c.String(key) + "))"
}

// JSONKeys implements Dialect.
func (c ClickHouse) JSONKeys(column string) string {
	if c.Legacy {
		return "arrayJoin(extractAll(ifNull(" + column + ", '{}'), " + c.String(`[{,]"((?:[^"\\]|\\.)*)":`) + "))"
	}
	return "arrayJoin(JSONExtractKeys(ifNull(" + column + ", '{}')))"
}

// String implements Dialect.
func (ClickHouse) String(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}

// StringList implements Dialect.
func (c ClickHouse) StringList(ss []string) string {
	var b strings.Builder
	b.WriteString("CAST([")
	for i, s := range ss {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.String(s))
	}
	b.WriteString("] AS Array(String))")
	return b.String()
}

// ToNumber implements Dialect.
func (ClickHouse) ToNumber(expr string) string { return "toFloat64OrNull(toString(" + expr + "))" }

// ToText implements Dialect.
func (ClickHouse) ToText(expr string) string { return "toString(" + expr + ")" }

// IntDiv implements Dialect: floor division for a positive divisor
// (intDiv truncates toward zero).
func (ClickHouse) IntDiv(a, b string) string {
	return "(intDiv(" + a + ", " + b + ") - if(((" + a + ") % (" + b + ")) < 0, 1, 0))"
}

// ContainsFold implements Dialect.
func (c ClickHouse) ContainsFold(expr, sub string) string {
	return "(positionCaseInsensitiveUTF8(" + expr + ", " + c.String(sub) + ") > 0)"
}

// HasPrefixFold implements Dialect.
func (c ClickHouse) HasPrefixFold(expr, prefix string) string {
	return "startsWith(lowerUTF8(" + expr + "), " + c.String(strings.ToLower(prefix)) + ")"
}

// RegexpFullMatch implements Dialect: match is RE2 and unanchored.
func (c ClickHouse) RegexpFullMatch(expr, re string) string {
	return "match(" + expr + ", " + c.String("^(?:"+re+")$") + ")"
}

// SingletonList implements Dialect.
func (ClickHouse) SingletonList(expr string) string { return "[" + expr + "]" }

// ListHasAll implements Dialect.
func (ClickHouse) ListHasAll(list, sub string) string { return "hasAll(" + list + ", " + sub + ")" }

// CountDistinct implements Dialect: exact, like DuckDB's count(DISTINCT).
func (ClickHouse) CountDistinct(expr string) string { return "uniqExact(" + expr + ")" }

// Median implements Dialect: the exact median, the mean of the two
// middle values for an even count, as DuckDB's; written without
// quantileExactInclusive, which servers before 20.x lack.
func (ClickHouse) Median(expr string) string {
	sorted := "arraySort(groupArray(" + expr + "))"
	n := "length(" + sorted + ")"
	return "if(" + n + " = 0, NULL, (arrayElement(" + sorted + ", intDiv(" + n + " + 1, 2)) + arrayElement(" + sorted +
		", intDiv(" + n + " + 2, 2))) / 2)"
}

// Quantile implements Dialect: linear interpolation between the sorted
// values at positions floor and ceil of q × (n−1), as DuckDB's
// quantile_cont (ClickHouse's quantileExact does not interpolate).
func (ClickHouse) Quantile(expr string, q float64) string {
	sorted := "arraySort(groupArray(" + expr + "))"
	n := "length(" + sorted + ")"
	pos := formatQ(q) + " * (" + n + " - 1)"
	lo := "toUInt64(floor(" + pos + "))"
	at := func(i string) string { return "arrayElement(" + sorted + ", " + i + ")" }
	return "if(" + n + " = 0, NULL, " + at(lo+" + 1") + " + (" + pos + " - floor(" + pos + ")) * (" +
		at("least("+lo+" + 2, "+n+")") + " - " + at(lo+" + 1") + "))"
}

// ListLen implements Dialect.
func (ClickHouse) ListLen(list string) string { return "length(" + list + ")" }

// ListDistinct implements Dialect.
func (ClickHouse) ListDistinct(list string) string { return "arrayDistinct(" + list + ")" }

// Series implements Dialect.
func (ClickHouse) Series(n int, col string) string {
	return "(SELECT number AS " + col + " FROM numbers(" + strconv.Itoa(n) + "))"
}

// PropertyPrefilter implements Dialect: none; ClickHouse's JSON
// functions skip rows cheaply enough.
func (ClickHouse) PropertyPrefilter(column, key string, values []string) string { return "" }
