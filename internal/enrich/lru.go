package enrich

import "sync"

// lru is a bounded least-recently-used map, safe for concurrent use. Entries form a doubly linked
// list in recency order through their prev/next indexes into entries, so
// the cache allocates nothing once it is full.
type lru[K comparable, V any] struct {
	mu      sync.Mutex
	max     int
	index   map[K]int32 // key → position in entries
	entries []lruEntry[K, V]
	head    int32 // most recently used, -1 when empty
	tail    int32 // least recently used, -1 when empty
}

type lruEntry[K comparable, V any] struct {
	key        K
	val        V
	prev, next int32
}

func newLRU[K comparable, V any](max int) *lru[K, V] {
	if max < 1 {
		max = 1
	}
	return &lru[K, V]{
		max:     max,
		index:   make(map[K]int32, max),
		entries: make([]lruEntry[K, V], 0, max),
		head:    -1,
		tail:    -1,
	}
}

// get returns the value of key and marks it most recently used.
func (c *lru[K, V]) get(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.index[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.moveToFront(i)
	return c.entries[i].val, true
}

// add stores key → val as most recently used, evicting the least recently
// used entry when the cache is full.
func (c *lru[K, V]) add(key K, val V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.index[key]; ok {
		c.entries[i].val = val
		c.moveToFront(i)
		return
	}
	var i int32
	if len(c.entries) < c.max {
		i = int32(len(c.entries))
		c.entries = append(c.entries, lruEntry[K, V]{prev: -1, next: -1})
	} else {
		i = c.tail
		c.unlink(i)
		delete(c.index, c.entries[i].key)
	}
	c.entries[i].key = key
	c.entries[i].val = val
	c.index[key] = i
	c.pushFront(i)
}

// len returns the number of entries.
func (c *lru[K, V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.index)
}

func (c *lru[K, V]) moveToFront(i int32) {
	if c.head == i {
		return
	}
	c.unlink(i)
	c.pushFront(i)
}

func (c *lru[K, V]) unlink(i int32) {
	e := &c.entries[i]
	if e.prev >= 0 {
		c.entries[e.prev].next = e.next
	} else {
		c.head = e.next
	}
	if e.next >= 0 {
		c.entries[e.next].prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = -1, -1
}

func (c *lru[K, V]) pushFront(i int32) {
	e := &c.entries[i]
	e.prev = -1
	e.next = c.head
	if c.head >= 0 {
		c.entries[c.head].prev = i
	}
	c.head = i
	if c.tail < 0 {
		c.tail = i
	}
}
