package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// Defaults for the zero values of Options.
const (
	DefaultEvents = 1_000_000
	DefaultDays   = 90
	// MaxBatch is the most events one /batch request may carry (spec §10).
	MaxBatch = 2000
)

const (
	dayMs    = int64(24 * time.Hour / time.Millisecond)
	hourMs   = int64(time.Hour / time.Millisecond)
	minuteMs = int64(time.Minute / time.Millisecond)
	// sessionTimeoutMs is the browser SDK's default session timeout.
	sessionTimeoutMs = 30 * minuteMs
)

// Options says what to generate.
type Options struct {
	// Events is the number of events to generate; generation stops as soon
	// as it is reached, possibly in the middle of a user's history.
	// 0 means DefaultEvents.
	Events int
	// Seed selects the data set: the same seed (and Days, Now) gives the
	// same events byte for byte.
	Seed int64
	// Days is the length of the time range, ending at Now. 0 means DefaultDays.
	Days int
	// Now is the end of the range; no event is later. The zero value means
	// time.Now(), which makes times (but not ids) differ between runs.
	Now time.Time
}

func (o Options) withDefaults() Options {
	if o.Events == 0 {
		o.Events = DefaultEvents
	}
	if o.Days == 0 {
		o.Days = DefaultDays
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return o
}

func (o Options) validate() error {
	if o.Events < 0 {
		return fmt.Errorf("events must be positive, got %d", o.Events)
	}
	if o.Days < 0 {
		return fmt.Errorf("days must be positive, got %d", o.Days)
	}
	return nil
}

// Range returns the first and last millisecond (inclusive, UTC ms since
// the epoch) that generated events may carry, after defaults are applied.
func (o Options) Range() (start, end int64) {
	o = o.withDefaults()
	end = o.Now.UnixMilli()
	return end - int64(o.Days)*dayMs, end
}

// Generate produces the events in deterministic order and calls emit with
// batches of at most batchSize events, each element a complete event
// object as Amplitude's /batch takes it. The batches and the byte slices
// in them are reused: emit must copy what it keeps before returning.
// An error from emit stops generation and is returned as is.
func Generate(ctx context.Context, opts Options, batchSize int, emit func(events []json.RawMessage) error) error {
	if err := opts.validate(); err != nil {
		return err
	}
	if batchSize < 1 {
		return fmt.Errorf("batch size must be positive, got %d", batchSize)
	}
	g := newGenerator(ctx, opts.withDefaults(), batchSize, emit)
	for n := 0; !g.done; n++ {
		g.simulateUser(n)
	}
	if g.err != nil {
		return g.err
	}
	if len(g.ends) > 0 {
		g.flush()
	}
	return g.err
}

// generator writes events into one reused buffer and hands full batches to emit.
type generator struct {
	ctx   context.Context
	seed  int64
	start int64 // first allowed event time, ms
	end   int64 // last allowed event time, ms
	day0  int64 // UTC midnight at or before start, ms
	days  int   // day slots from day0 through the day of end

	src *rand.PCG
	r   *rand.Rand

	limit int
	count int
	done  bool
	err   error

	batch int
	emit  func([]json.RawMessage) error
	buf   []byte
	ends  []int
	out   []json.RawMessage

	u user // reused for every user
}

func newGenerator(ctx context.Context, o Options, batch int, emit func([]json.RawMessage) error) *generator {
	end := o.Now.UnixMilli()
	start := end - int64(o.Days)*dayMs
	day0 := floorDiv(start, dayMs) * dayMs
	src := rand.NewPCG(0, 0)
	g := &generator{
		ctx:   ctx,
		seed:  o.Seed,
		start: start,
		end:   end,
		day0:  day0,
		days:  int((end-day0)/dayMs) + 1,
		src:   src,
		r:     rand.New(src),
		limit: o.Events,
		batch: batch,
		emit:  emit,
		buf:   make([]byte, 0, batch*900),
		ends:  make([]int, 0, batch),
		out:   make([]json.RawMessage, 0, batch),
	}
	if g.limit == 0 {
		g.done = true
	}
	return g
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// weekend reports whether day slot d (UTC) is a Saturday or Sunday.
func (g *generator) weekend(d int) bool {
	epochDay := floorDiv(g.day0, dayMs) + int64(d)
	wd := (epochDay + 4) % 7 // 1970-01-01 was a Thursday; 0 = Sunday
	return wd == 0 || wd == 6
}

// finish closes the event being written and flushes a full batch.
func (g *generator) finish() {
	g.buf = append(g.buf, '}')
	g.ends = append(g.ends, len(g.buf))
	g.count++
	if g.count >= g.limit {
		g.done = true
	}
	if len(g.ends) == g.batch {
		g.flush()
	}
}

func (g *generator) flush() {
	if err := g.ctx.Err(); err != nil {
		g.err, g.done = err, true
		return
	}
	g.out = g.out[:0]
	from := 0
	for _, to := range g.ends {
		g.out = append(g.out, json.RawMessage(g.buf[from:to:to]))
		from = to
	}
	if err := g.emit(g.out); err != nil {
		g.err, g.done = err, true
	}
	g.buf = g.buf[:0]
	g.ends = g.ends[:0]
}
