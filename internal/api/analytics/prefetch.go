package analytics

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/crest-analytics/crest/internal/query"
)

// Prefetching a dashboard's charts. When a signed-in viewer (or above) opens a
// dashboard's link, the server starts its charts' analyses as it sends
// the page (Service.Prefetch), instead of ~0.4 s later when the app's
// script has loaded, rendered and asked for them. The app's first query
// with the same definition (as parsed: the same key) takes the result,
// waiting for it if it is still running; each prefetched result is
// handed out once, and dropped when nobody claims it within flightTTL of
// its end. A result handed out was computed at most that long before it
// was asked for, as if the query had been sent a moment earlier.

const (
	// flightTTL is how long a finished, unclaimed prefetch is kept.
	flightTTL = 15 * time.Second
	// maxFlights bounds the prefetched analyses waiting or kept at once
	// across the server, and maxPrefetch those of one page.
	maxFlights  = 64
	maxPrefetch = 24
	// prefetchTimeout bounds a prefetched analysis, its wait for a slot
	// included: nobody waits for one that long.
	prefetchTimeout = 2 * time.Minute
)

// flights are the prefetched analyses by key.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

// flight is one prefetched analysis; v and err are set when done closes.
type flight struct {
	done chan struct{}
	v    any
	err  error
}

func newFlights() *flights { return &flights{m: map[string]*flight{}} }

// start runs fn as the flight of key unless one is already there or too
// many are; it reports whether it started.
func (fs *flights) start(key string, fn func() (any, error)) bool {
	fs.mu.Lock()
	if _, ok := fs.m[key]; ok || len(fs.m) >= maxFlights {
		fs.mu.Unlock()
		return false
	}
	f := &flight{done: make(chan struct{})}
	fs.m[key] = f
	fs.mu.Unlock()
	go func() {
		f.v, f.err = fn()
		close(f.done)
		time.AfterFunc(flightTTL, func() { fs.drop(key, f) })
	}()
	return true
}

// claim takes the flight of key, if any: nobody else will get it.
func (fs *flights) claim(key string) *flight {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f := fs.m[key]
	delete(fs.m, key)
	return f
}

// drop forgets f if it is still key's flight (not claimed).
func (fs *flights) drop(key string, f *flight) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.m[key] == f {
		delete(fs.m, key)
	}
}

// len is the number of flights waiting, running or kept.
func (fs *flights) len() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.m)
}

// wait returns the flight's result once it is done, or ctx's error.
func (f *flight) wait(ctx context.Context) (any, error) {
	select {
	case <-f.done:
		return f.v, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// prefetched is an answer taken from a prefetch: the response says so in
// its X-Crest-Prefetched header (for tests and curious operators).
type prefetched struct{ v any }

// Prefetch starts the analyses of defs (a dashboard's charts, in tile
// order) for project p, each behind the analysis gate like any query,
// and returns how many it started. Definitions that do not parse, and
// those already prefetched and unclaimed, are skipped: the app's own
// query reports errors. The caller must have checked that the person
// asking may view p.
func (s *Service) Prefetch(p query.Project, defs []json.RawMessage) int {
	h := s.h
	n := 0
	for _, def := range defs {
		if n == maxPrefetch {
			break
		}
		a, err := h.prepare(p, def)
		if err != nil {
			continue
		}
		started := h.flights.start(a.key, func() (any, error) {
			ctx, cancel := context.WithTimeout(context.Background(), prefetchTimeout)
			defer cancel()
			if err := h.gate.acquire(ctx); err != nil {
				return nil, err
			}
			defer h.gate.release()
			return a.run(ctx, h.d.Now())
		})
		if started {
			n++
		}
	}
	return n
}
