package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/crest-analytics/crest/internal/event"
)

// Promoted property columns (docs/storage.md, "Hot properties").
//
// Properties live in JSON text columns, and reading one means parsing
// the JSON of every row scanned: 370 ms of a 430 ms group-by over 10M
// events. So the properties used most also get a plain VARCHAR column of
// their own: event properties in ep_1..ep_16, user properties (the
// snapshot as of the event) in up_1..up_8. A slot holds exactly what
// json_extract_string of the JSON column gives (Go copies it at insert
// where that is exact, DuckDB computes the rest and the backfills:
// slotfill.go), so a query may read either and get the same
// answer; query.DuckDB reads the column when the key has one.
//
// Slots are shared by all projects (a key names one slot in every
// project). Apply counts the top-level keys of the rows it inserts while
// slots are free; a key seen PromoteAfter times gets the next free slot
// in the same transaction as the rows that push it over: earlier rows
// are backfilled by an UPDATE, then the insert fills the slot. Slots are
// never reassigned, and persist in the property_columns table.

const (
	eventSlots = 16
	userSlots  = 8
	// maxCountedKeys bounds the key counter: keys beyond it are not
	// counted (high-cardinality key names never get a slot).
	maxCountedKeys = 10000
	// defaultPromoteAfter is how many rows must carry a key before it is
	// promoted.
	defaultPromoteAfter = 1000
)

// propKind is one JSON column that has slots.
type propKind struct {
	name   string // "event" or "user", as in property_columns.kind
	column string // the JSON column
	prefix string // the slot columns' prefix
	slots  int
	get    func(e *event.Event) []byte
}

var propKinds = [...]propKind{
	{"event", "event_properties", "ep_", eventSlots, func(e *event.Event) []byte { return e.EventProperties }},
	{"user", "user_properties", "up_", userSlots, func(e *event.Event) []byte { return e.UserProperties }},
}

// slotMap is an immutable snapshot of the assigned slots: per kind, key
// → column name, and the keys in slot order.
type slotMap struct {
	cols [len(propKinds)]map[string]string
	keys [len(propKinds)][]string
}

func (m *slotMap) clone() *slotMap {
	n := &slotMap{}
	for k := range propKinds {
		n.cols[k] = make(map[string]string, len(m.cols[k])+1)
		for key, col := range m.cols[k] {
			n.cols[k][key] = col
		}
		n.keys[k] = append([]string(nil), m.keys[k]...)
	}
	return n
}

// promoter is the per-DB promotion state; only touched with DB.mu held,
// except slots, which queries read.
type promoter struct {
	after  int64 // PromoteAfter; <= 0 disables promotion
	slots  atomic.Pointer[slotMap]
	counts [len(propKinds)]map[string]*int64
}

func newPromoter(after int64) *promoter {
	p := &promoter{after: after}
	m := &slotMap{}
	for k := range propKinds {
		m.cols[k] = map[string]string{}
		p.counts[k] = map[string]*int64{}
	}
	p.slots.Store(m)
	return p
}

// PropertyColumn implements query.PropertyColumns: the column holding
// property key of the JSON column (event_properties or user_properties),
// if it has one.
func (d *DB) PropertyColumn(jsonColumn, key string) (string, bool) {
	m := d.promo.slots.Load()
	for k := range propKinds {
		if propKinds[k].column == jsonColumn {
			col, ok := m.cols[k][key]
			return col, ok
		}
	}
	return "", false
}

// loadSlots reads the assigned slots.
func (p *promoter) load(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, "SELECT kind, key, slot FROM property_columns ORDER BY kind, slot")
	if err != nil {
		return fmt.Errorf("load property columns: %w", err)
	}
	defer rows.Close()
	m := p.slots.Load().clone()
	for rows.Next() {
		var kind, key string
		var slot int
		if err := rows.Scan(&kind, &key, &slot); err != nil {
			return fmt.Errorf("load property columns: %w", err)
		}
		for k := range propKinds {
			if propKinds[k].name == kind {
				m.cols[k][key] = fmt.Sprintf("%s%d", propKinds[k].prefix, slot)
				m.keys[k] = append(m.keys[k], key)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load property columns: %w", err)
	}
	p.slots.Store(m)
	return nil
}

// promotion is what one Apply decided: the new slot map (nil when
// nothing changed) and the statements that assign and backfill it.
type promotion struct {
	next  *slotMap
	stmts []string
	keys  []string // "event:genre", for the log
}

// counting reports whether Apply should count the keys of kind k: while
// it has free slots and promotion is on.
func (p *promoter) counting(k int) bool {
	return p.after > 0 && len(p.slots.Load().keys[k]) < propKinds[k].slots
}

// count adds one row carrying key to kind k's counter.
func (p *promoter) count(k int, key []byte) {
	counts := p.counts[k]
	if n, ok := counts[string(key)]; ok {
		*n++
	} else if len(counts) < maxCountedKeys {
		one := int64(1)
		counts[string(key)] = &one
	}
}

// plan returns the promotions the key counts call for (Apply counts the
// keys of its rows while it fills their slots, slotfill.go).
func (p *promoter) plan() (pr promotion) {
	cur := p.slots.Load()
	for k := range propKinds {
		kind := &propKinds[k]
		if !p.counting(k) {
			continue
		}
		counts := p.counts[k]
		var cands []string
		for key, n := range counts {
			if _, done := cur.cols[k][key]; !done && *n >= p.after {
				cands = append(cands, key)
			}
		}
		sort.Slice(cands, func(i, j int) bool {
			if ni, nj := *counts[cands[i]], *counts[cands[j]]; ni != nj {
				return ni > nj
			}
			return cands[i] < cands[j]
		})
		for _, key := range cands {
			if pr.next == nil {
				pr.next = cur.clone()
			}
			if len(pr.next.keys[k]) >= kind.slots {
				break
			}
			slot := len(pr.next.keys[k]) + 1
			col := fmt.Sprintf("%s%d", kind.prefix, slot)
			pr.next.cols[k][key] = col
			pr.next.keys[k] = append(pr.next.keys[k], key)
			extract := PropertyExpr(kind.column, key)
			pr.stmts = append(pr.stmts,
				fmt.Sprintf("INSERT INTO property_columns VALUES (%s, %s, %d, %d)",
					quoteString(kind.name), quoteString(key), slot, time.Now().UnixMilli()),
				fmt.Sprintf("UPDATE events SET %s = %s WHERE %s IS NOT NULL", col, extract, extract))
			pr.keys = append(pr.keys, kind.name+":"+key)
		}
	}
	return pr
}

// commit makes a promotion visible to queries, after its transaction
// committed.
func (p *promoter) commit(pr promotion) {
	if pr.next == nil {
		return
	}
	p.slots.Store(pr.next)
	for k := range propKinds {
		if len(pr.next.keys[k]) >= propKinds[k].slots {
			p.counts[k] = map[string]*int64{} // full: no more counting
		}
	}
}

// insertEvents returns the statement that inserts the staged events with
// their slots of m. The source serves the slot values slotFill found in
// Go; for a kind with rows Go left to DuckDB, those rows' JSON is parsed
// once, by one json_extract_string over the list of the kind's slot
// paths, and a CASE on the kind's defer flag picks from it.
func insertEvents(m *slotMap, f *slotFill) string {
	var excl, lists, picks []string
	for k := range propKinds {
		if !f.anyDeferred[k] {
			continue
		}
		kind := &propKinds[k]
		flag := deferColumn(k)
		list := "crest_" + kind.prefix + "list"
		paths := make([]string, len(m.keys[k]))
		excl = append(excl, flag, list)
		for i, key := range m.keys[k] {
			paths[i] = quoteString(jsonPathKey(key))
			col := fmt.Sprintf("%s%d", kind.prefix, i+1)
			excl = append(excl, col)
			picks = append(picks, fmt.Sprintf("CASE WHEN %s THEN %s[%d] ELSE %s END AS %s", flag, list, i+1, col, col))
		}
		lists = append(lists, fmt.Sprintf("CASE WHEN %s THEN json_extract_string(%s, [%s]) END AS %s",
			flag, kind.column, strings.Join(paths, ", "), list))
	}
	if len(excl) == 0 {
		return "INSERT INTO events BY NAME SELECT * FROM crest_src('events')"
	}
	return "INSERT INTO events BY NAME SELECT * EXCLUDE (" + strings.Join(excl, ", ") + "), " +
		strings.Join(picks, ", ") + " FROM (SELECT *, " + strings.Join(lists, ", ") + " FROM crest_src('events'))"
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString reads the string starting at b[i] == '"' and returns the
// index after its closing quote (-1 if unterminated) and whether it has
// escapes.
func scanString(b []byte, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped
		}
	}
	return -1, escaped
}

// skipValue returns the index after the JSON value starting at b[i], or
// -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		end, _ := scanString(b, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _ := scanString(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	for j := i; j < len(b); j++ {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j
		}
	}
	return len(b)
}
