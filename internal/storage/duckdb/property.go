package duckdb

import "strings"

// PropertyExpr returns the SQL expression that reads property key of the
// JSON object in column as text (NULL when absent), e.g.
// PropertyExpr("event_properties", "genre"). Nested objects and arrays
// come back as JSON text. Numeric reads wrap it:
// TRY_CAST(<expr> AS DOUBLE). column must be a trusted identifier; key
// may be any string and is escaped. This is the one place that knows
// how properties are stored (docs/storage.md).
func PropertyExpr(column, key string) string {
	return "json_extract_string(" + column + ", " + quoteString(jsonPathKey(key)) + ")"
}

// jsonPathKey returns a JSON path selecting the top-level member key.
// The key is always quoted so dots, brackets and spaces in it are not
// read as path syntax.
func jsonPathKey(key string) string {
	var b strings.Builder
	b.WriteString(`$."`)
	for _, r := range key {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}
