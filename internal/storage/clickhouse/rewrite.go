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
// read NULL), TRUE and FALSE become 1 and 0 and CAST(NULL AS T) becomes
// CAST(NULL AS Nullable(T)).
func legacySQL(q string) string {
	toks := lex(q)
	toks = literals(toks)
	head, ctes, main := splitWith(toks)
	if ctes != nil {
		bodies := map[string][]token{}
		for _, c := range ctes {
			bodies[c.name] = inline(c.body, bodies)
		}
		main = inline(main, bodies)
	}
	main = expandGroupingSets(main)
	return join(head) + join(main)
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
