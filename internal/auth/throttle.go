package auth

import (
	"sync"
	"time"
)

// Throttle counts failures per key (an account's email or a remote
// address) in a sliding window, in memory. A restart forgets them; with
// several nodes each counts alone (documented in docs/security.md).
type Throttle struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu       sync.Mutex
	failures map[string][]time.Time
}

// maxThrottleKeys bounds memory under a flood of distinct keys; when
// reached, entries with no failure inside the window are dropped first.
const maxThrottleKeys = 100_000

// NewThrottle returns a throttle that blocks a key after limit failures
// within window, until the oldest of them leaves the window.
func NewThrottle(limit int, window time.Duration, now func() time.Time) *Throttle {
	return &Throttle{limit: limit, window: window, now: now, failures: map[string][]time.Time{}}
}

// Blocked reports whether key is blocked and, if so, for how long.
func (t *Throttle) Blocked(key string) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	f := t.prune(key, now)
	if len(f) < t.limit {
		return 0, false
	}
	return f[len(f)-t.limit].Add(t.window).Sub(now), true
}

// Fail records a failure for key.
func (t *Throttle) Fail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.failures) >= maxThrottleKeys {
		for k := range t.failures {
			if len(t.prune(k, now)) == 0 {
				delete(t.failures, k)
			}
		}
	}
	t.failures[key] = append(t.prune(key, now), now)
}

// Reset forgets key's failures (after a successful login).
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, key)
}

func (t *Throttle) prune(key string, now time.Time) []time.Time {
	f := t.failures[key]
	i := 0
	for i < len(f) && !f[i].Add(t.window).After(now) {
		i++
	}
	f = f[i:]
	if len(f) == 0 {
		delete(t.failures, key)
		return nil
	}
	t.failures[key] = f
	return f
}
