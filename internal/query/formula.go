package query

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// formula is one parsed formula (spec §5.1): an expression over the
// metrics of the chart's events, letters A, B, ... in event order.
type formula struct {
	text   string
	format string // "", "%" or "$" (the %: and $: prefixes)
	root   fnode
}

// fnode is a node of a formula's syntax tree.
type fnode interface{}

type (
	fnum float64
	fneg struct{ x fnode }
	fbin struct {
		op   byte
		l, r fnode
	}
	fmetric struct {
		fn     string // UNIQUES, TOTALS, ...
		event  int
		window int     // ROLLWIN, ROLLWINBEFORE: the metric over the last window intervals
		before bool    // ROLLWINBEFORE: the window taken before the segment
		cum    bool    // CUMSUM
		p      float64 // PERCENTILE, FREQPERCENTILE: the quantile, 0 to 1
		mode   string  // SEMANTICTOTALS: ALL_VALUES or UNIQUE_ARRAY_VALUES
	}
	fcall struct {
		fn   string // EXP, LN, LOG, LOG10, POWER, SQRT, ROLLAVG, TRENDLINE
		args []fnode
		n    int // ROLLAVG's window
	}
)

// metricFuncs are the formula metric functions computed from the main
// aggregate of an event (cell); CUMSUM, ROLLWIN and ROLLWINBEFORE take
// these.
var metricFuncs = map[string]bool{
	"UNIQUES": true, "TOTALS": true, "ACTIVE": true, "AVG": true, "PROPSUM": true,
	"PROPAVG": true, "PROPMAX": true, "PROPMIN": true, "REVENUETOTAL": true, "ARPAU": true,
}

// extraFuncs are the formula metric functions that need a query of their
// own (formula_sql.go), with their arguments after the event letter:
// "p" a percentile, "mode" SEMANTICTOTALS' counting mode.
var extraFuncs = map[string]string{
	"PERCENTILE": "p", "FREQPERCENTILE": "p", "PROPCOUNT": "", "PROPCOUNTAVG": "",
	"SESSIONTOTALS": "", "EVENTTOTALS": "", "SEMANTICTOTALS": "mode", "HIST": "", "PROPHIST": "",
}

// distFuncs are the metric functions whose value is a distribution: a
// formula reading them is evaluated once per bin (one series per bin).
var distFuncs = map[string]bool{"HIST": true, "PROPHIST": true}

// Counting modes of SEMANTICTOTALS.
const (
	allValues    = "ALL_VALUES"
	uniqueValues = "UNIQUE_ARRAY_VALUES"
)

type fparser struct {
	s      string
	pos    int
	events int
}

// parseFormula parses one formula; events is the number of events.
func parseFormula(text string, events int) (*formula, error) {
	f := &formula{text: strings.TrimSpace(text)}
	body := f.text
	switch {
	case strings.HasPrefix(body, "%:"):
		f.format, body = "%", body[2:]
	case strings.HasPrefix(body, "$:"):
		f.format, body = "$", body[2:]
	}
	p := &fparser{s: body, events: events}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.s) {
		return nil, p.errf("unexpected %q", p.s[p.pos:])
	}
	f.root = n
	if _, err := f.checkDistributions(); err != nil {
		return nil, err
	}
	return f, nil
}

func (p *fparser) errf(format string, args ...any) error {
	return fieldErr("", "%q at offset %d: %s", p.s, p.pos, fmt.Sprintf(format, args...))
}

func (p *fparser) space() {
	for p.pos < len(p.s) && unicode.IsSpace(rune(p.s[p.pos])) {
		p.pos++
	}
}

func (p *fparser) peek() byte {
	p.space()
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *fparser) expr() (fnode, error) {
	l, err := p.term()
	if err != nil {
		return nil, err
	}
	for {
		c := p.peek()
		if c != '+' && c != '-' {
			return l, nil
		}
		p.pos++
		r, err := p.term()
		if err != nil {
			return nil, err
		}
		l = fbin{c, l, r}
	}
}

func (p *fparser) term() (fnode, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		c := p.peek()
		if c != '*' && c != '/' {
			return l, nil
		}
		p.pos++
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = fbin{c, l, r}
	}
}

func (p *fparser) unary() (fnode, error) {
	if p.peek() == '-' {
		p.pos++
		x, err := p.unary()
		return fneg{x}, err
	}
	return p.primary()
}

func (p *fparser) ident() string {
	p.space()
	start := p.pos
	for p.pos < len(p.s) && (unicode.IsLetter(rune(p.s[p.pos])) || unicode.IsDigit(rune(p.s[p.pos])) || p.s[p.pos] == '_') {
		p.pos++
	}
	return p.s[start:p.pos]
}

func (p *fparser) expect(c byte) error {
	if p.peek() != c {
		return p.errf("expected %q", c)
	}
	p.pos++
	return nil
}

func (p *fparser) number() (float64, error) {
	p.space()
	start := p.pos
	for p.pos < len(p.s) && (p.s[p.pos] == '.' || (p.s[p.pos] >= '0' && p.s[p.pos] <= '9')) {
		p.pos++
	}
	v, err := strconv.ParseFloat(p.s[start:p.pos], 64)
	if err != nil {
		p.pos = start
		return 0, p.errf("expected a number")
	}
	return v, nil
}

func (p *fparser) letter() (int, error) {
	id := p.ident()
	if len(id) != 1 || id[0] < 'A' || id[0] > 'Z' {
		return 0, p.errf("expected an event letter, got %q", id)
	}
	i := int(id[0] - 'A')
	if i >= p.events {
		return 0, p.errf("event %s does not exist (the chart has %d events)", id, p.events)
	}
	return i, nil
}

func (p *fparser) primary() (fnode, error) {
	c := p.peek()
	switch {
	case c == '(':
		p.pos++
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		return x, p.expect(')')
	case c == '.' || (c >= '0' && c <= '9'):
		v, err := p.number()
		return fnum(v), err
	case c == 0:
		return nil, p.errf("unexpected end")
	}
	at := p.pos
	name := strings.ToUpper(p.ident())
	if name == "" {
		return nil, p.errf("unexpected %q", c)
	}
	if err := p.expect('('); err != nil {
		return nil, err
	}
	_, extra := extraFuncs[name]
	switch {
	case metricFuncs[name]:
		e, err := p.letter()
		if err != nil {
			return nil, err
		}
		return fmetric{fn: name, event: e}, p.expect(')')
	case extra:
		return p.extraMetric(name)
	case name == "CUMSUM" || name == "ROLLWIN" || name == "ROLLWINBEFORE":
		// CUMSUM(UNIQUES(A)) or the documented CUMSUM(UNIQUES, A);
		// ROLLWIN(TOTALS(A), 7) or ROLLWIN(TOTALS, A, 7).
		inner := p.pos
		m := fmetric{fn: strings.ToUpper(p.ident()), before: name == "ROLLWINBEFORE"}
		if !metricFuncs[m.fn] {
			p.pos = inner
			if _, ok := extraFuncs[m.fn]; ok {
				return nil, p.errf("%s takes UNIQUES, TOTALS, ACTIVE, AVG, PROPSUM, PROPAVG, PROPMAX, PROPMIN, REVENUETOTAL or ARPAU, not %s", name, m.fn)
			}
			return nil, p.errf("%s needs a metric such as UNIQUES(A)", name)
		}
		var err error
		if p.peek() == '(' {
			p.pos++
			if m.event, err = p.letter(); err != nil {
				return nil, err
			}
			if err := p.expect(')'); err != nil {
				return nil, err
			}
		} else {
			if err := p.expect(','); err != nil {
				return nil, err
			}
			if m.event, err = p.letter(); err != nil {
				return nil, err
			}
		}
		if name == "CUMSUM" {
			m.cum = true
		} else {
			if err := p.expect(','); err != nil {
				return nil, err
			}
			n, err := p.number()
			if err != nil {
				return nil, err
			}
			if n < 1 || n > 90 || n != math.Trunc(n) {
				return nil, p.errf("%s window must be a whole number from 1 to 90", name)
			}
			m.window = int(n)
		}
		return m, p.expect(')')
	}
	want := map[string]int{"EXP": 1, "LN": 1, "LOG10": 1, "SQRT": 1, "TRENDLINE": 1, "LOG": 2, "POWER": 2, "ROLLAVG": 2}
	n, ok := want[name]
	if !ok {
		p.pos = at
		return nil, p.errf("unknown function %s", name)
	}
	var args []fnode
	for {
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		args = append(args, x)
		if p.peek() != ',' {
			break
		}
		p.pos++
	}
	if err := p.expect(')'); err != nil {
		return nil, err
	}
	if len(args) != n {
		return nil, p.errf("%s takes %d arguments, got %d", name, n, len(args))
	}
	call := fcall{fn: name, args: args}
	if name == "ROLLAVG" {
		w, ok := args[1].(fnum)
		if !ok || w < 1 || w > 90 || float64(w) != math.Trunc(float64(w)) {
			return nil, p.errf("ROLLAVG window must be a whole number from 1 to 90")
		}
		call.n = int(w)
	}
	return call, nil
}

// extraMetric parses the rest of an extra metric function after its
// "(": the event letter, then a percentile (0 to 100; a value up to 1 is
// read as a fraction, so 0.9 and 90 are both the 90th) or a counting
// mode.
func (p *fparser) extraMetric(name string) (fnode, error) {
	e, err := p.letter()
	if err != nil {
		return nil, err
	}
	m := fmetric{fn: name, event: e}
	switch extraFuncs[name] {
	case "p":
		if err := p.expect(','); err != nil {
			return nil, p.errf("%s takes an event and a percentile, e.g. %s(A, 90)", name, name)
		}
		p.space()
		at := p.pos
		v, err := p.number()
		if err != nil {
			return nil, err
		}
		if v < 0 || v > 100 {
			p.pos = at
			return nil, p.errf("%s percentile must be from 0 to 100, got %g", name, v)
		}
		if v > 1 {
			v /= 100
		}
		m.p = v
	case "mode":
		if err := p.expect(','); err != nil {
			return nil, p.errf("%s takes an event and %s or %s", name, uniqueValues, allValues)
		}
		p.space()
		at := p.pos
		switch mode := strings.ToUpper(p.ident()); mode {
		case allValues, uniqueValues:
			m.mode = mode
		default:
			p.pos = at
			return nil, p.errf("%s mode must be %s or %s, got %q", name, uniqueValues, allValues, mode)
		}
	}
	return m, p.expect(')')
}

// checkDistributions checks that the distribution functions of f are of
// one kind (their bins must be the same), returning it ("" for none).
func (f *formula) checkDistributions() (string, error) {
	kind := ""
	for _, m := range f.metrics() {
		if !distFuncs[m.fn] {
			continue
		}
		if kind != "" && kind != m.fn {
			return "", fieldErr("", "%q: HIST and PROPHIST cannot be combined in one formula (their bins differ)", f.text)
		}
		kind = m.fn
	}
	return kind, nil
}

// FormulaPropertyEvents reports, for each of a chart's events, whether
// a property function of the formula text (';'-separated formulas) reads
// the event's property: PROPSUM, PROPAVG, PROPMAX, PROPMIN,
// REVENUETOTAL, ARPAU, PERCENTILE, PROPCOUNT, PROPCOUNTAVG, PROPHIST,
// SEMANTICTOTALS. Formulas that do not parse read none (Validate reports
// them).
func FormulaPropertyEvents(text string, events int) []bool {
	out := make([]bool, events)
	for _, part := range strings.Split(text, ";") {
		f, err := parseFormula(part, events)
		if err != nil {
			continue
		}
		for _, m := range f.metrics() {
			if needsProp(m.fn) {
				out[m.event] = true
			}
		}
	}
	return out
}

// metrics returns every metric node of f.
func (f *formula) metrics() []fmetric {
	var out []fmetric
	var walk func(fnode)
	walk = func(n fnode) {
		switch x := n.(type) {
		case fmetric:
			out = append(out, x)
		case fneg:
			walk(x.x)
		case fbin:
			walk(x.l)
			walk(x.r)
		case fcall:
			for _, a := range x.args {
				walk(a)
			}
		}
	}
	walk(f.root)
	return out
}

// fvalue is a formula's value: one number per bucket and the whole-range figure.
type fvalue struct {
	points    []float64
	collapsed float64
}

// eval evaluates n with metric values from get over nb buckets.
func (f *formula) eval(n fnode, nb int, get func(fmetric) fvalue) fvalue {
	switch x := n.(type) {
	case fnum:
		v := fvalue{points: make([]float64, nb), collapsed: float64(x)}
		for i := range v.points {
			v.points[i] = float64(x)
		}
		return v
	case fmetric:
		return get(x)
	case fneg:
		v := f.eval(x.x, nb, get)
		return mapValue(v, func(a float64) float64 { return -a })
	case fbin:
		l, r := f.eval(x.l, nb, get), f.eval(x.r, nb, get)
		op := func(a, b float64) float64 {
			switch x.op {
			case '+':
				return a + b
			case '-':
				return a - b
			case '*':
				return a * b
			}
			return div(a, b)
		}
		out := fvalue{points: make([]float64, nb), collapsed: op(l.collapsed, r.collapsed)}
		for i := range out.points {
			out.points[i] = op(l.points[i], r.points[i])
		}
		return out
	case fcall:
		a := f.eval(x.args[0], nb, get)
		switch x.fn {
		case "EXP":
			return mapValue(a, func(v float64) float64 { return math.Exp(math.Min(v, 700)) })
		case "LN":
			return mapValue(a, finiteLog(math.Log))
		case "LOG10":
			return mapValue(a, finiteLog(math.Log10))
		case "SQRT":
			return mapValue(a, func(v float64) float64 { return finite(math.Sqrt(v)) })
		case "LOG", "POWER":
			b := f.eval(x.args[1], nb, get)
			op := func(v, w float64) float64 {
				if x.fn == "POWER" {
					return finite(math.Pow(v, w))
				}
				return finite(div(math.Log(v), math.Log(w)))
			}
			out := fvalue{points: make([]float64, nb), collapsed: op(a.collapsed, b.collapsed)}
			for i := range out.points {
				out.points[i] = op(a.points[i], b.points[i])
			}
			return out
		case "ROLLAVG":
			return fvalue{points: rollingMean(a.points, x.n), collapsed: a.collapsed}
		case "TRENDLINE":
			return fvalue{points: trendline(a.points), collapsed: a.collapsed}
		}
	}
	panic(fmt.Sprintf("BUG: formula node %T", n))
}

func mapValue(v fvalue, fn func(float64) float64) fvalue {
	out := fvalue{points: make([]float64, len(v.points)), collapsed: fn(v.collapsed)}
	for i, p := range v.points {
		out.points[i] = fn(p)
	}
	return out
}

// div is a ÷ b, 0 when b is 0 (charts show 0, not infinity).
func div(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

func finiteLog(fn func(float64) float64) func(float64) float64 {
	return func(v float64) float64 {
		if v <= 0 {
			return 0
		}
		return fn(v)
	}
}

// rollingMean is the unweighted mean of the last n points (fewer at the start).
func rollingMean(p []float64, n int) []float64 {
	out := make([]float64, len(p))
	sum := 0.0
	for i, v := range p {
		sum += v
		k := n
		if i >= n {
			sum -= p[i-n]
		} else {
			k = i + 1
		}
		out[i] = sum / float64(k)
	}
	return out
}

// trendline is the ordinary least squares line through the points.
func trendline(p []float64) []float64 {
	n := float64(len(p))
	var sx, sy, sxx, sxy float64
	for i, v := range p {
		x := float64(i)
		sx += x
		sy += v
		sxx += x * x
		sxy += x * v
	}
	slope := div(n*sxy-sx*sy, n*sxx-sx*sx)
	icept := div(sy-slope*sx, n)
	out := make([]float64, len(p))
	for i := range out {
		out[i] = icept + slope*float64(i)
	}
	return out
}
