package clickhouse

import (
	"strings"
)

// Servers before 22.6 lack pieces of SQL the query layer writes: common
// table expressions (WITH name AS (SELECT ...), from 20.10), GROUPING
// SETS (22.6), the literals TRUE and FALSE, and CAST(NULL AS T) to a
// non-Nullable T. legacySQL rewrites a statement into the SQL such a
// server (Debian's 18.16) runs, with the same meaning: each CTE is
// inlined as a subquery where it is read, GROUPING SETS become one
// GROUP BY per set joined by UNION ALL (the columns a set leaves out
// read NULL), TRUE and FALSE become 1 and 0, CAST(NULL AS T) becomes
// CAST(NULL AS Nullable(T)), toJSONString (which the query layer uses
// on arrays of integers or strings) is spelled out, and CASE x WHEN v THEN ... (which 18.16
// runs as transform(), with constant results only) becomes CASE WHEN
// (x) = v THEN ....
func legacySQL(q string) string {
	toks := lex(q)
	toks = literals(toks)
	toks = simpleCase(toks)
	head, ctes, main := splitWith(toks)
	if ctes != nil {
		bodies := map[string][]token{}
		for _, c := range ctes {
			bodies[c.name] = inline(c.body, bodies)
		}
		main = inline(main, bodies)
	}
	main = expandGroupingSets(main)
	main = constJoins(main)
	main = aggregates(main)
	return join(head) + join(main)
}

// wrapTables reads each named table (a Distributed table) through a
// subquery, FROM t a becoming FROM (SELECT * FROM t) AS a: 18.16 refuses
// to join a Distributed table with a subquery over another one, and
// loses the table aliases with GLOBAL JOIN; joined on the initiator, the
// shards only filter (with enable_optimize_predicate_expression) and
// send rows.
func wrapTables(q string, names map[string]bool) string {
	toks := lex(q)
	out := make([]token, 0, len(toks))
	for i, t := range toks {
		p := prev(toks, i)
		if t.kind != 'w' || !names[t.text] || p < 0 || !toks[p].is("FROM") && !toks[p].is("JOIN") {
			out = append(out, t)
			continue
		}
		out = append(out, token{"(SELECT * FROM " + t.text + ")", 'w'})
		n := next(toks, i+1)
		if n >= len(toks) || !(toks[n].is("AS") || toks[n].kind == 'w' && !aliasStop[strings.ToUpper(toks[n].text)]) {
			out = append(out, token{" AS " + t.text, 'w'})
		}
	}
	return join(out)
}

// aggregates makes min, max and sum NULL over no rows, as in standard
// SQL (an old server's aggregate of a non-Nullable argument returns the
// type's default) in a SELECT without GROUP BY, the only place an
// aggregate sees no rows; gives uniqExact over a Nullable argument the
// (and count(DISTINCT x), which is uniqExact) the 0 it returns NULL
// for; and gives groupBitOr the unsigned argument
// 18.16 requires.
func aggregates(toks []token) []token {
	return aggregateLevel(toks, !hasGroupBy(toks))
}

// hasGroupBy reports whether the query in toks groups at its own level.
func hasGroupBy(toks []token) bool {
	depth := 0
	for _, t := range toks {
		switch {
		case t.text == "(":
			depth++
		case t.text == ")":
			depth--
		case depth == 0 && t.is("GROUP"):
			return true
		}
	}
	return false
}

func aggregateLevel(toks []token, ungrouped bool) []token {
	out := make([]token, 0, len(toks))
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.text == "(" {
			end := closing(toks, i)
			inner := toks[i+1 : end]
			flag := ungrouped
			if n := next(inner, 0); n < len(inner) && inner[n].is("SELECT") {
				flag = !hasGroupBy(inner)
			}
			out = append(out, t)
			out = append(out, aggregateLevel(inner, flag)...)
			if end < len(toks) && toks[end].text == ")" {
				out = append(out, toks[end])
			}
			i = end
			continue
		}
		wrap, outer := "", ""
		switch {
		case ungrouped && (t.is("min") || t.is("max") || t.is("sum")):
			wrap = "toNullable"
		case t.is("groupBitOr"):
			wrap = "toUInt64"
		case t.is("uniqExact"):
			outer = "ifNull"
		case t.is("count") && i+1 < len(toks) && toks[i+1].text == "(":
			if a := next(toks, i+2); a < len(toks) && toks[a].is("DISTINCT") {
				outer = "ifNull" // count(DISTINCT x) is uniqExact(x)
			}
		}
		if wrap == "" && outer == "" || i+1 >= len(toks) || toks[i+1].text != "(" {
			out = append(out, t)
			continue
		}
		end := closing(toks, i+1)
		args := aggregateLevel(toks[i+2:end], ungrouped)
		switch {
		case wrap != "":
			out = append(out, t, token{"(", 'p'}, token{wrap, 'w'}, token{"(", 'p'})
			out = append(out, args...)
			out = append(out, token{")", 'p'}, token{")", 'p'})
		default:
			out = append(out, token{outer, 'w'}, token{"(", 'p'}, t, token{"(", 'p'})
			out = append(out, args...)
			out = append(out, token{")", 'p'}, token{", 0)", 'p'})
		}
		i = end
	}
	return out
}

// joinStop are the words that end a JOIN's ON condition.
var joinStop = map[string]bool{"WHERE": true, "GROUP": true, "ORDER": true, "LIMIT": true, "JOIN": true, "LEFT": true,
	"RIGHT": true, "INNER": true, "CROSS": true, "FULL": true, "UNION": true, "HAVING": true, "SETTINGS": true, "ANY": true, "ALL": true}

// constJoins moves the conditions of a JOIN ... ON that compare a column
// of the joined table with a literal into a subquery over that table:
// 18.16 takes every equality in ON as a pair of join keys.
func constJoins(toks []token) []token {
	out := make([]token, 0, len(toks))
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.text == "(" {
			end := closing(toks, i)
			out = append(out, t)
			out = append(out, constJoins(toks[i+1:end])...)
			if end < len(toks) && toks[end].text == ")" {
				out = append(out, toks[end])
			}
			i = end
			continue
		}
		if !t.is("JOIN") {
			out = append(out, t)
			continue
		}
		name := next(toks, i+1)
		alias := next(toks, name+1)
		on := next(toks, alias+1)
		if on >= len(toks) || toks[name].kind != 'w' || toks[alias].kind != 'w' || aliasStop[strings.ToUpper(toks[alias].text)] || !toks[on].is("ON") {
			out = append(out, t)
			continue
		}
		// The ON condition runs to a stop word or a ")" at its depth.
		end, depth := on+1, 0
		for ; end < len(toks); end++ {
			x := toks[end]
			if x.text == "(" {
				depth++
			} else if x.text == ")" {
				if depth == 0 {
					break
				}
				depth--
			} else if depth == 0 && x.kind == 'w' && joinStop[strings.ToUpper(x.text)] {
				break
			}
		}
		var keep, moved []string
		for _, c := range splitAnd(toks[on+1 : end]) {
			if col, ok := constCond(c, toks[alias].text); ok {
				moved = append(moved, col)
			} else {
				keep = append(keep, strings.TrimSpace(join(c)))
			}
		}
		if len(moved) == 0 || len(keep) == 0 {
			out = append(out, t)
			continue
		}
		sub := "JOIN (SELECT * FROM " + toks[name].text + " WHERE " + strings.Join(moved, " AND ") + ") AS " + toks[alias].text +
			" ON " + strings.Join(keep, " AND ") + " "
		out = append(out, token{sub, 'w'})
		i = end - 1
	}
	return out
}

// splitAnd splits a condition at its top-level ANDs.
func splitAnd(toks []token) [][]token {
	var out [][]token
	depth, start := 0, 0
	for i, t := range toks {
		switch {
		case t.text == "(":
			depth++
		case t.text == ")":
			depth--
		case depth == 0 && t.is("AND"):
			out = append(out, toks[start:i])
			start = i + 1
		}
	}
	return append(out, toks[start:])
}

// constCond reports whether c is alias.col = literal, and returns it as
// col = literal.
func constCond(c []token, alias string) (string, bool) {
	var sig []token
	for _, t := range c {
		if t.kind != ' ' {
			sig = append(sig, t)
		}
	}
	if len(sig) != 5 || sig[0].text != alias || sig[1].text != "." || sig[2].kind != 'w' || sig[3].text != "=" {
		return "", false
	}
	lit := sig[4]
	isNum := lit.kind == 'w' && lit.text[0] >= '0' && lit.text[0] <= '9'
	if !isNum && !(lit.kind == 's' && lit.text[0] == '\'') {
		return "", false
	}
	return sig[2].text + " = " + lit.text, true
}

type token struct {
	text string
	kind byte // 'w' word, 's' string or quoted name, ' ' space or comment, 'p' punctuation
}

func (t token) is(word string) bool { return t.kind == 'w' && strings.EqualFold(t.text, word) }

func lex(q string) []token {
	var out []token
	for i := 0; i < len(q); {
		c := q[i]
		j := i + 1
		kind := byte('p')
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			for j < len(q) && strings.IndexByte(" \t\n\r", q[j]) >= 0 {
				j++
			}
			kind = ' '
		case c == '/' && j < len(q) && q[j] == '*':
			if k := strings.Index(q[j+1:], "*/"); k >= 0 {
				j = j + 1 + k + 2
			} else {
				j = len(q)
			}
			kind = ' '
		case c == '-' && j < len(q) && q[j] == '-':
			for j < len(q) && q[j] != '\n' {
				j++
			}
			kind = ' '
		case c == '\'' || c == '"' || c == '`':
			for j < len(q) {
				if q[j] == '\\' {
					j += 2
					continue
				}
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c {
						j += 2
						continue
					}
					j++
					break
				}
				j++
			}
			j = min(j, len(q))
			kind = 's'
		case isWord(c):
			for j < len(q) && isWord(q[j]) {
				j++
			}
			kind = 'w'
		}
		out = append(out, token{q[i:j], kind})
		i = j
	}
	return out
}

func isWord(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func join(toks []token) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.text)
	}
	return b.String()
}

// next returns the index of the first non-space token at or after i, or
// len(toks).
func next(toks []token, i int) int {
	for i < len(toks) && toks[i].kind == ' ' {
		i++
	}
	return i
}

// prev returns the index of the last non-space token before i, or -1.
func prev(toks []token, i int) int {
	i--
	for i >= 0 && toks[i].kind == ' ' {
		i--
	}
	return i
}

// closing returns the index of the ")" matching the "(" at i.
func closing(toks []token, i int) int {
	depth := 0
	for j := i; j < len(toks); j++ {
		switch toks[j].text {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return len(toks) - 1
}

// literals replaces TRUE and FALSE and makes CAST(NULL AS T) Nullable.
func literals(toks []token) []token {
	out := make([]token, 0, len(toks))
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.is("TRUE"):
			t = token{"1", 'w'}
		case t.is("FALSE"):
			t = token{"0", 'w'}
		case t.is("toJSONString") && i+1 < len(toks) && toks[i+1].text == "(":
			end := closing(toks, i+1)
			out = append(out, token{jsonArray(literals(toks[i+2 : end])), 'w'})
			i = end
			continue
		case t.is("NULL"):
			// CAST ( NULL AS T ) -> CAST ( NULL AS Nullable(T) )
			p, pp := prev(toks, i), prev(toks, prev(toks, i))
			a := next(toks, i+1)
			ty := next(toks, a+1)
			if p >= 0 && pp >= 0 && toks[p].text == "(" && toks[pp].is("CAST") && a < len(toks) && toks[a].is("AS") &&
				ty < len(toks) && toks[ty].kind == 'w' && !strings.HasPrefix(toks[ty].text, "Nullable") {
				out = append(out, toks[i:a+1]...)
				out = append(out, token{" ", ' '}, token{"Nullable(" + toks[ty].text + ")", 'w'})
				i = ty
				continue
			}
		}
		out = append(out, t)
	}
	return out
}

// simpleCase rewrites CASE x WHEN v THEN r ... END into the searched
// form CASE WHEN (x) = v THEN r ... END.
func simpleCase(toks []token) []token {
	out := make([]token, 0, len(toks))
	for i := 0; i < len(toks); i++ {
		if !toks[i].is("CASE") {
			out = append(out, toks[i])
			continue
		}
		end := caseEnd(toks, i)
		body := toks[i+1 : end]
		whens := topWhens(body)
		if len(whens) == 0 || strings.TrimSpace(join(body[:whens[0]])) == "" {
			out = append(out, toks[i])
			out = append(out, simpleCase(body)...)
		} else {
			operand := strings.TrimSpace(join(simpleCase(body[:whens[0]])))
			out = append(out, toks[i], token{" ", ' '})
			for k, w := range whens {
				stop := len(body)
				if k+1 < len(whens) {
					stop = whens[k+1]
				}
				out = append(out, token{"WHEN (" + operand + ") =", 'w'})
				out = append(out, simpleCase(body[w+1:stop])...)
			}
		}
		if end < len(toks) {
			out = append(out, toks[end])
		}
		i = end
	}
	return out
}

// caseEnd returns the index of the END closing the CASE at i.
func caseEnd(toks []token, i int) int {
	depth := 0
	for j := i; j < len(toks); j++ {
		switch {
		case toks[j].is("CASE"):
			depth++
		case toks[j].is("END"):
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return len(toks)
}

// topWhens returns the positions of the WHENs of a CASE body, outside
// nested CASEs and parentheses.
func topWhens(body []token) []int {
	var out []int
	cases, parens := 0, 0
	for j, t := range body {
		switch {
		case t.text == "(":
			parens++
		case t.text == ")":
			parens--
		case t.is("CASE"):
			cases++
		case t.is("END"):
			cases--
		case cases == 0 && parens == 0 && t.is("WHEN"):
			out = append(out, j)
		}
	}
	return out
}

// jsonArray renders the array expression arg as JSON without
// toJSONString: elements as text, quoted and escaped when they are
// strings, null for NULL. groupArray skips NULLs, so an argument
// groupArray(x) or groupArrayIf(x, c) collects tuple(x) instead, which
// keeps them. Both branches type-check whatever the array holds; the
// type test is a constant.
func jsonArray(arg []token) string {
	arr, elem := strings.TrimSpace(join(arg)), "x"
	if n := next(arg, 0); n+1 < len(arg) && (arg[n].is("groupArray") || arg[n].is("groupArrayIf")) && arg[n+1].text == "(" &&
		closing(arg, n+1) == prev(arg, len(arg)) {
		params := splitTop(arg[n+2 : closing(arg, n+1)])
		rest := ""
		for _, p := range params[1:] {
			rest += ", " + strings.TrimSpace(join(p))
		}
		arr = arg[n].text + "(tuple(" + strings.TrimSpace(join(params[0])) + ")" + rest + ")"
		elem = "tupleElement(x, 1)"
	}
	strs := "arrayMap(x -> toString(" + elem + "), " + arr + ")"
	quote := "concat('\"', replaceAll(replaceAll(s, '\\\\', '\\\\\\\\'), '\"', '\\\\\"'), '\"')"
	quoted := "arrayMap(s -> ifNull(" + quote + ", 'null'), " + strs + ")"
	plain := "arrayMap(s -> ifNull(s, 'null'), " + strs + ")"
	return "if(toTypeName(" + arr + ") LIKE '%String%', concat('[', arrayStringConcat(" + quoted + ", ','), ']'), " +
		"concat('[', arrayStringConcat(" + plain + ", ','), ']'))"
}

type cte struct {
	name string
	body []token
}

// splitWith splits a statement into its leading comments, its CTEs and
// the main query. ctes is nil when the statement has no WITH list.
func splitWith(toks []token) (head []token, ctes []cte, main []token) {
	i := next(toks, 0)
	if i >= len(toks) || !toks[i].is("WITH") {
		return nil, nil, toks
	}
	head = toks[:i]
	i = next(toks, i+1)
	for i < len(toks) {
		name := toks[i]
		as := next(toks, i+1)
		open := next(toks, as+1)
		if name.kind != 'w' || as >= len(toks) || !toks[as].is("AS") || open >= len(toks) || toks[open].text != "(" {
			return nil, nil, toks // not a CTE list: leave it alone
		}
		end := closing(toks, open)
		ctes = append(ctes, cte{name.text, toks[open+1 : end]})
		i = next(toks, end+1)
		if i < len(toks) && toks[i].text == "," {
			i = next(toks, i+1)
			continue
		}
		break
	}
	return head, ctes, toks[i:]
}

// aliasStop are the words after a table that are not its alias.
var aliasStop = map[string]bool{"WHERE": true, "ON": true, "JOIN": true, "LEFT": true, "RIGHT": true, "INNER": true,
	"CROSS": true, "FULL": true, "GROUP": true, "UNION": true, "ORDER": true, "LIMIT": true, "USING": true,
	"ANY": true, "ALL": true, "SETTINGS": true, "HAVING": true, "FINAL": true, "SAMPLE": true, "PREWHERE": true}

// inline replaces each read of a CTE (a name after FROM or JOIN) with
// its body as an aliased subquery.
func inline(toks []token, bodies map[string][]token) []token {
	out := make([]token, 0, len(toks))
	for i, t := range toks {
		body, ok := bodies[t.text]
		if !ok || t.kind != 'w' {
			out = append(out, t)
			continue
		}
		p := prev(toks, i)
		if p < 0 || !toks[p].is("FROM") && !toks[p].is("JOIN") {
			out = append(out, t)
			continue
		}
		out = append(out, token{"(", 'p'})
		out = append(out, body...)
		out = append(out, token{")", 'p'})
		n := next(toks, i+1)
		hasAlias := n < len(toks) && (toks[n].is("AS") || toks[n].kind == 'w' && !aliasStop[strings.ToUpper(toks[n].text)])
		if !hasAlias {
			out = append(out, token{" AS ", ' '}, token{t.text, 'w'})
		}
	}
	return out
}

// expandGroupingSets rewrites each top-level SELECT ... GROUP BY GROUPING
// SETS (...) of a UNION ALL chain.
func expandGroupingSets(toks []token) []token {
	var parts [][]token
	depth, start := 0, 0
	for i := 0; i < len(toks); i++ {
		switch toks[i].text {
		case "(":
			depth++
		case ")":
			depth--
		}
		if depth == 0 && toks[i].is("UNION") {
			n := next(toks, i+1)
			if n < len(toks) && toks[n].is("ALL") {
				parts = append(parts, toks[start:i])
				start = n + 1
				i = n
			}
		}
	}
	parts = append(parts, toks[start:])
	var out []token
	for i, p := range parts {
		if i > 0 {
			out = append(out, token{"\nUNION ALL\n", ' '})
		}
		out = append(out, expandOne(p)...)
	}
	return out
}

func expandOne(toks []token) []token {
	// Find SELECT, FROM and GROUP BY GROUPING SETS at depth 0.
	sel, from, group := -1, -1, -1
	depth := 0
	for i, t := range toks {
		switch t.text {
		case "(":
			depth++
		case ")":
			depth--
		}
		if depth != 0 || t.kind != 'w' {
			continue
		}
		switch {
		case sel < 0 && t.is("SELECT"):
			sel = i
		case sel >= 0 && from < 0 && t.is("FROM"):
			from = i
		case t.is("GROUP"):
			b := next(toks, i+1)
			g := next(toks, b+1)
			s := next(toks, g+1)
			if b < len(toks) && toks[b].is("BY") && g < len(toks) && toks[g].is("GROUPING") && s < len(toks) && toks[s].is("SETS") {
				group = i
			}
		}
	}
	if sel < 0 || from < 0 || group < 0 {
		return toks
	}
	setsOpen := next(toks, next(toks, next(toks, next(toks, group+1)+1)+1)+1)
	if setsOpen >= len(toks) || toks[setsOpen].text != "(" {
		return toks
	}
	setsClose := closing(toks, setsOpen)
	var sets [][]string
	all := map[string]bool{}
	for i := next(toks, setsOpen+1); i < setsClose; i = next(toks, i+1) {
		if toks[i].text == "," {
			continue
		}
		if toks[i].text != "(" {
			return toks
		}
		end := closing(toks, i)
		var set []string
		for _, item := range splitTop(toks[i+1 : end]) {
			if s := strings.TrimSpace(join(item)); s != "" {
				set = append(set, s)
				all[s] = true
			}
		}
		sets = append(sets, set)
		i = end
	}
	first := next(toks, sel+1)
	distinct := first < from && toks[first].is("DISTINCT")
	listStart := sel + 1
	if distinct {
		listStart = first + 1
	}
	items := splitTop(toks[listStart:from])
	rest := toks[setsClose+1:]
	var out []token
	for k, set := range sets {
		in := map[string]bool{}
		for _, s := range set {
			in[s] = true
		}
		if k > 0 {
			out = append(out, token{"\nUNION ALL\n", ' '})
		}
		out = append(out, toks[:listStart]...)
		for j, item := range items {
			if j > 0 {
				out = append(out, token{",", 'p'})
			}
			expr, alias := splitAlias(item)
			if all[expr] && !in[expr] {
				out = append(out, token{" NULL", 'w'})
				if alias != "" {
					out = append(out, token{" AS " + alias, ' '})
				}
				continue
			}
			out = append(out, item...)
		}
		out = append(out, toks[from:group]...)
		if len(set) > 0 {
			out = append(out, token{"GROUP BY " + strings.Join(set, ", "), 'w'})
		}
		out = append(out, rest...)
	}
	return out
}

// splitTop splits tokens at commas outside parentheses.
func splitTop(toks []token) [][]token {
	var out [][]token
	depth, start := 0, 0
	for i, t := range toks {
		switch t.text {
		case "(":
			depth++
		case ")":
			depth--
		case ",":
			if depth == 0 {
				out = append(out, toks[start:i])
				start = i + 1
			}
		}
	}
	return append(out, toks[start:])
}

// splitAlias returns a select item's expression text and its alias.
func splitAlias(item []token) (expr, alias string) {
	depth := 0
	for i, t := range item {
		switch t.text {
		case "(":
			depth++
		case ")":
			depth--
		}
		if depth == 0 && t.is("AS") {
			return strings.TrimSpace(join(item[:i])), strings.TrimSpace(join(item[i+1:]))
		}
	}
	return strings.TrimSpace(join(item)), ""
}
