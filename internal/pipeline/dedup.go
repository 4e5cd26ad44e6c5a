package pipeline

import (
	"encoding/binary"
	"hash/fnv"

	"github.com/crest-analytics/crest/internal/event"
)

// dedupSet remembers the insert_id keys of the dedup window with the
// server time they were first seen. It is owned by the Run goroutine.
type dedupSet struct {
	m map[[16]byte]int64
}

func newDedupSet() *dedupSet { return &dedupSet{m: make(map[[16]byte]int64)} }

func (d *dedupSet) seen(k [16]byte) bool { _, ok := d.m[k]; return ok }

func (d *dedupSet) add(k [16]byte, t int64) { d.m[k] = t }

// prune forgets keys first seen before the given time (UTC ms).
func (d *dedupSet) prune(before int64) {
	for k, t := range d.m {
		if t < before {
			delete(d.m, k)
		}
	}
}

func (d *dedupSet) len() int { return len(d.m) }

// dedupKey returns the deduplication key of e (spec §1.10): the insert_id
// per device_id (per user_id when the event has no device), or, without
// an insert_id, the (event_id, client event time, device) triple. Events
// with neither are never deduplicated.
func dedupKey(e *event.Event) ([16]byte, bool) {
	var k [16]byte
	owner, ownerTag := e.DeviceID, byte('d')
	if owner == "" {
		owner, ownerTag = e.UserID, 'u'
	}
	h := fnv.New128a()
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], uint64(e.ProjectID))
	h.Write(buf[:])
	h.Write([]byte{ownerTag})
	h.Write([]byte(owner))
	h.Write([]byte{0})
	switch {
	case e.InsertID != "":
		h.Write([]byte{'i'})
		h.Write([]byte(e.InsertID))
	case e.EventID != event.NoEventID:
		h.Write([]byte{'e'})
		binary.LittleEndian.PutUint64(buf[:], uint64(e.EventID))
		h.Write(buf[:])
		binary.LittleEndian.PutUint64(buf[:], uint64(e.ClientEventTime))
		h.Write(buf[:])
	default:
		return k, false
	}
	h.Sum(k[:0])
	return k, true
}
