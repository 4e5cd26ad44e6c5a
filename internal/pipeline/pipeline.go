// Package pipeline applies the WAL to storage, in order and exactly once.
//
// It owns Crest's order-dependent state: insert_id deduplication, identity
// resolution (through identity.Resolver), session bookkeeping and current
// user properties. It reads WAL records from the last applied position,
// turns them into a storage.Unit and applies the unit together with the
// WAL position it reaches, so a crash replays without loss or duplicates.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/identity"
	"github.com/crest-analytics/crest/internal/storage"
	"github.com/crest-analytics/crest/internal/wal"
)

// Store is what the pipeline needs of a storage backend.
type Store interface {
	storage.Writer
	storage.Loader
}

// Options tune the pipeline. Zero values take the defaults.
type Options struct {
	// MaxUnitEvents caps the events applied in one storage transaction.
	// Default 122,880, one DuckDB row group: DuckDB writes whole row
	// groups straight to the database file instead of its own WAL, and
	// BenchmarkApply measured 1.3-1.6x more events per CPU-second than
	// with 10K-event units (docs/benchmarks.md). Under normal load units
	// are much smaller: a unit takes what arrived while the last applied.
	MaxUnitEvents int
	// DedupWindow is how long an insert_id is remembered. Default 7 days (spec §1.10).
	DedupWindow time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Shared, when set, is the user_id → amplitude_id map shared with
	// other nodes (docs/scale-out.md): before each unit is processed, the
	// user_ids it meets for the first time are claimed there in one round
	// trip and the identified users it touches are refreshed from other
	// nodes' writes; after the unit is applied, its identified users are
	// published. Nil (one node) costs nothing.
	Shared identity.SharedMap
	// IDLow and IDHigh, when IDHigh > 0, are the range of amplitude_ids
	// this node mints (identity.Resolver.SetIDRange): ids of other nodes,
	// loaded or learnt, never move its counter.
	IDLow, IDHigh int64
}

// Counter names persisted with each unit.
const (
	counterSeq = "next_seq"
)

// Pipeline applies WAL records to a Store. Create it with New, start it
// with Run. Its state is owned by the Run goroutine.
type Pipeline struct {
	log    *wal.Log
	store  Store
	res    *identity.Resolver
	logger *slog.Logger
	opts   Options

	dedup   *dedupSet
	nextSeq int64
	shared  *sharedState // nil without Options.Shared
	// free holds event buffers of applied units for reuse: a unit's events
	// are large structs, and allocating and growing their slice anew for
	// every unit was a tenth of the pipeline's time.
	free chan []event.Event

	mu       sync.Mutex
	applied  uint64        // WAL position applied to the store
	progress chan struct{} // closed and replaced whenever applied advances
	ready    bool          // replay up to the WAL's durable end at start is done
	startEnd uint64        // the WAL's durable end when the pipeline started
}

// New loads the pipeline's state from the store: the applied position,
// counters, identity state and the insert_ids of the dedup window.
func New(ctx context.Context, log *wal.Log, store Store, logger *slog.Logger, opts Options) (*Pipeline, error) {
	if opts.MaxUnitEvents <= 0 {
		opts.MaxUnitEvents = 122_880
	}
	if opts.DedupWindow <= 0 {
		opts.DedupWindow = 7 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p := &Pipeline{
		log: log, store: store, logger: logger, opts: opts,
		res:      identity.New(),
		dedup:    newDedupSet(),
		progress: make(chan struct{}),
		free:     make(chan []event.Event, 3),
	}
	pos, err := store.AppliedPosition(ctx)
	if err != nil {
		return nil, fmt.Errorf("read applied position: %w", err)
	}
	p.applied = pos
	if opts.IDHigh > 0 {
		p.res.SetIDRange(opts.IDLow, opts.IDHigh)
	}
	if opts.Shared != nil {
		p.shared = &sharedState{m: opts.Shared}
	}
	counters, err := store.Counters(ctx)
	if err != nil {
		return nil, fmt.Errorf("read counters: %w", err)
	}
	p.nextSeq = counters[counterSeq]
	if p.nextSeq == 0 {
		p.nextSeq = 1
	}
	p.res.SetCounters(counters)
	since := opts.Now().Add(-opts.DedupWindow).UnixMilli()
	if err := store.LoadDedup(ctx, since, func(k storage.DedupKey) error {
		p.dedup.add(k.Hash, k.Time)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("load dedup keys: %w", err)
	}
	if err := p.loadIdentity(ctx); err != nil {
		return nil, err
	}
	p.startEnd = log.Durable()
	if p.applied >= p.startEnd {
		p.ready = true
	}
	return p, nil
}

func (p *Pipeline) loadIdentity(ctx context.Context) error {
	if err := p.store.LoadUsers(ctx, func(u *storage.User) error { p.res.LoadUser(u); return nil }); err != nil {
		return fmt.Errorf("load users: %w", err)
	}
	if err := p.store.LoadDevices(ctx, func(d *storage.Device) error { p.res.LoadDevice(d); return nil }); err != nil {
		return fmt.Errorf("load devices: %w", err)
	}
	if err := p.store.LoadUserIDs(ctx, func(u *storage.UserID) error { p.res.LoadUserID(u); return nil }); err != nil {
		return fmt.Errorf("load user ids: %w", err)
	}
	if err := p.store.LoadMerges(ctx, func(m *storage.Merge) error { p.res.LoadMerge(m); return nil }); err != nil {
		return fmt.Errorf("load merges: %w", err)
	}
	if err := p.store.LoadGroups(ctx, func(g *storage.Group) error { p.res.LoadGroup(g); return nil }); err != nil {
		return fmt.Errorf("load groups: %w", err)
	}
	return nil
}

// Applied returns the WAL position applied to the store.
func (p *Pipeline) Applied() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.applied
}

// Ready reports whether the WAL present at start has been replayed.
func (p *Pipeline) Ready() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ready
}

// WaitApplied blocks until the applied position reaches pos, or ctx ends.
func (p *Pipeline) WaitApplied(ctx context.Context, pos uint64) error {
	for {
		p.mu.Lock()
		done, ch := p.applied >= pos, p.progress
		p.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Run applies WAL records until ctx is cancelled; then it applies every
// record that is durable at that moment and returns nil. It returns an
// error only when storage fails, leaving the remaining records in the WAL
// for the next start.
//
// Two goroutines share the work so that both cores are busy: this one
// reads and decodes records, dedups and resolves identities into a Unit;
// the applier commits the previous Unit to storage meanwhile.
func (p *Pipeline) Run(ctx context.Context) error {
	r, err := p.log.NewReader(p.Applied())
	if err != nil {
		return fmt.Errorf("open wal reader: %w", err)
	}
	defer r.Close()
	units := make(chan *storage.Unit, 1)
	applyErr := make(chan error, 1)
	// failed is cancelled when the applier stops on an error, to wake the
	// reader from waiting on the WAL.
	failed, fail := context.WithCancel(ctx)
	defer fail()
	go func() {
		err := p.applyLoop(context.WithoutCancel(ctx), units)
		if err != nil {
			fail()
		}
		applyErr <- err
	}()

	pruneEvery := time.NewTicker(time.Hour)
	defer pruneEvery.Stop()
	read := p.Applied()
	for {
		u, err := p.build(failed, r)
		if err != nil {
			close(units)
			<-applyErr
			return err
		}
		if u != nil {
			read = u.Position
			select {
			case units <- u:
				continue
			case err := <-applyErr:
				return err
			}
		}
		// Caught up with the durable end of the log.
		if failed.Err() != nil {
			close(units)
			return <-applyErr
		}
		select {
		case <-pruneEvery.C:
			p.prune(ctx)
		default:
		}
		if err := p.log.Wait(failed, read); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, wal.ErrClosed) {
			close(units)
			<-applyErr
			return fmt.Errorf("wait for wal: %w", err)
		}
	}
}

// dedupPruner is implemented by stores that can forget old insert_ids.
type dedupPruner interface {
	PruneDedup(ctx context.Context, before int64) error
}

// prune forgets insert_ids older than the dedup window, in memory and in
// the store, so neither grows without bound.
func (p *Pipeline) prune(ctx context.Context) {
	before := p.opts.Now().Add(-p.opts.DedupWindow).UnixMilli()
	p.dedup.prune(before)
	if s, ok := p.store.(dedupPruner); ok {
		if err := s.PruneDedup(ctx, before); err != nil {
			p.logger.Warn("prune stored insert_ids", "err", err)
		}
	}
}

// applyLoop commits units in order until units is closed.
func (p *Pipeline) applyLoop(ctx context.Context, units <-chan *storage.Unit) error {
	for u := range units {
		start := time.Now()
		if err := p.store.Apply(ctx, u); err != nil {
			return fmt.Errorf("apply unit ending at %d: %w", u.Position, err)
		}
		if p.shared != nil {
			p.shared.publish(ctx, u, p.logger)
		}
		p.logger.Debug("unit applied", "events", len(u.Events), "users", len(u.Users),
			"position", u.Position, "duration", time.Since(start))
		select { // recycle the events buffer
		case p.free <- u.Events[:0]:
		default:
		}
		p.mu.Lock()
		p.applied = u.Position
		if p.applied >= p.startEnd {
			p.ready = true
		}
		close(p.progress)
		p.progress = make(chan struct{})
		p.mu.Unlock()
		if err := p.log.RemoveBefore(u.Position); err != nil {
			p.logger.Warn("remove applied wal segments", "err", err)
		}
	}
	return nil
}

// build reads up to MaxUnitEvents events' worth of records into a unit.
// It returns nil when no record was available. With a shared map, the
// records are decoded first, the unit's new user_ids claimed, and then
// processed (buildShared); ctx only bounds those claims.
func (p *Pipeline) build(ctx context.Context, r *wal.Reader) (*storage.Unit, error) {
	if p.shared != nil {
		return p.buildShared(ctx, r)
	}
	u := &storage.Unit{}
	select {
	case u.Events = <-p.free:
	default:
		u.Events = make([]event.Event, 0, p.opts.MaxUnitEvents+2000)
	}
	records := 0
	var hdr event.Batch
	for len(u.Events) < p.opts.MaxUnitEvents {
		rec, end, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read wal: %w", err)
		}
		records++
		u.Position = end
		start := len(u.Events)
		// The record belongs to us: the events decoded from it share its memory.
		u.Events, err = event.DecodeBatchAppend(rec, &hdr, u.Events)
		if err != nil {
			// A record that passed its checksum but does not decode was
			// written by a buggy or newer binary. Skipping it keeps the
			// server alive; the record stays visible in the log output.
			p.logger.Error("undecodable wal record skipped", "end", end, "err", err)
			continue
		}
		u.Events = p.process(&hdr, u, start, len(u.Events), start)
	}
	if records == 0 {
		p.recycle(u)
		return nil, nil
	}
	p.finish(u)
	return u, nil
}

// recycle returns the events buffer of an empty unit.
func (p *Pipeline) recycle(u *storage.Unit) {
	select {
	case p.free <- u.Events[:0]:
	default:
	}
}

// finish drains the identity state and the counters into u.
func (p *Pipeline) finish(u *storage.Unit) {
	p.res.Drain(u)
	if u.Counters == nil {
		u.Counters = make(map[string]int64)
	}
	u.Counters[counterSeq] = p.nextSeq
}

// process dedups the events of batch b, which were decoded into
// u.Events[start:end], resolves their identities, and keeps those to store
// in order from u.Events[w] on (w <= start). It returns u.Events[:w'] where
// w' is one past the last event kept.
func (p *Pipeline) process(b *event.Batch, u *storage.Unit, start, end, w int) []event.Event {
	evs := u.Events
	if b.Kind == event.KindUndoMerge {
		for i := start; i < end; i++ {
			if _, err := p.res.UndoMerge(b.ProjectID, evs[i].AmplitudeID); err != nil {
				p.logger.Warn("undo merge", "project", b.ProjectID, "from", evs[i].AmplitudeID, "err", err)
			}
		}
		return evs[:w]
	}
	for i := start; i < end; i++ {
		e := &evs[i]
		if key, ok := dedupKey(e); ok {
			if p.dedup.seen(key) {
				continue
			}
			t := e.ServerReceivedTime
			if t == 0 {
				t = b.ServerReceivedTime
			}
			p.dedup.add(key, t)
			u.Dedup = append(u.Dedup, storage.DedupKey{Hash: key, Time: t})
		}
		// The identity resolver records the seq of an event that causes a
		// merge, so it is assigned first; calls of the Identify APIs are
		// not events and get none.
		e.Seq = 0
		if b.Kind == event.KindEvents {
			e.Seq = p.nextSeq
		}
		if !p.res.Process(e, b.Kind) {
			continue
		}
		p.nextSeq++
		if w != i {
			evs[w] = *e
		}
		w++
	}
	return evs[:w]
}
