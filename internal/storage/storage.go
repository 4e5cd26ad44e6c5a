// Package storage holds the contracts shared by Crest's storage backends:
// what the pipeline writes (Unit), what it reads back on start (Loader),
// and the rows of user, identity, session and group state. Backends live
// in subpackages named after what they wrap (duckdb, clickhouse); the
// storagetest package runs one conformance suite over each of them.
package storage

import (
	"context"
	"errors"

	"github.com/crest-analytics/crest/internal/event"
)

// ErrClosed is returned by a backend used after Close.
var ErrClosed = errors.New("storage: closed")

// Unit is what the pipeline applies in one step. A backend must make a
// Unit durable atomically: either every row and the new Position are
// stored, or none is. Replaying the WAL from the stored Position then
// yields exactly-once application.
type Unit struct {
	// Position is the WAL position just past the last record in this unit.
	Position uint64

	// Events are the rows to insert, with AmplitudeID, Seq and the user
	// property snapshot (Event.UserProperties) already assigned.
	Events []event.Event

	// Dedup are insert_id keys first seen in this unit.
	Dedup []DedupKey

	// State changes, each an upsert by its key.
	Users    []User
	Devices  []Device
	UserIDs  []UserID
	Merges   []Merge
	Sessions []Session
	Groups   []Group

	// Counters are the pipeline's sequence counters after this unit
	// (next amplitude_id, next seq), keyed by name.
	Counters map[string]int64
}

// DedupKey identifies an insert_id seen for a device (or user, when the
// event had no device) in a project. Hash is a 128-bit hash of
// (project, device or user id, insert_id); Time is server_received_time.
type DedupKey struct {
	Hash [16]byte
	Time int64
}

// User is the current state of one Amplitude ID (spec §2, §3).
type User struct {
	ProjectID   int64
	AmplitudeID int64
	UserID      string // empty while the id is anonymous
	// Properties is the current user property table as a JSON object.
	Properties []byte
	FirstSeen  int64 // time of the first event (any event, active or not)
	LastSeen   int64
	DeviceIDs  []string
	// FirstPlatform and FirstCountry come from the user's first event.
	FirstPlatform string
	FirstCountry  string
	// MergedInto is the canonical Amplitude ID this anonymous id was
	// merged into, or 0.
	MergedInto int64
}

// Device maps a device_id to the Amplitude ID that its anonymous events
// belong to: the device's own anonymous id, or its last known user.
type Device struct {
	ProjectID   int64
	DeviceID    string
	AmplitudeID int64
	// AnonymousID is the id minted for the device's first anonymous event, or 0.
	AnonymousID int64
}

// UserID maps a customer user_id to its Amplitude ID.
type UserID struct {
	ProjectID   int64
	UserID      string
	AmplitudeID int64
}

// Merge records that an anonymous Amplitude ID was merged into a user's
// Amplitude ID. Merges are applied at query time; history is not rewritten.
type Merge struct {
	ProjectID int64
	FromID    int64 // the anonymous id
	IntoID    int64 // the canonical id
	Time      int64 // event_time of the event that caused it
	EventSeq  int64 // Seq of that event
	DeviceID  string
	// Undone is set when an operator undid the merge; the anonymous id is
	// then its own user again at query time.
	Undone bool
}

// Session is per-user session bookkeeping (spec §4): a partial aggregate
// of the active events of one session seen in one Unit. Backends combine
// the partials of a key (min Start, max LastEvent, sum EventCount), by
// merging on write or by aggregating on read. It is keyed by
// (ProjectID, AmplitudeID, SessionID) where AmplitudeID is the id the
// events were stored with.
type Session struct {
	ProjectID   int64
	AmplitudeID int64
	SessionID   int64
	Start       int64 // min event time over the session's active events
	LastEvent   int64 // max event time over the session's active events
	EventCount  int64 // active events
}

// Group is the current property table of one group (spec §1.7).
type Group struct {
	ProjectID  int64
	GroupType  string
	GroupValue string
	Properties []byte
}

// Loader is how the pipeline rebuilds its in-memory state on start.
// Callbacks are called in no particular order; returning an error stops
// the load.
type Loader interface {
	AppliedPosition(ctx context.Context) (uint64, error)
	Counters(ctx context.Context) (map[string]int64, error)
	LoadDedup(ctx context.Context, since int64, fn func(DedupKey) error) error
	LoadUsers(ctx context.Context, fn func(*User) error) error
	LoadDevices(ctx context.Context, fn func(*Device) error) error
	LoadUserIDs(ctx context.Context, fn func(*UserID) error) error
	LoadMerges(ctx context.Context, fn func(*Merge) error) error
	LoadGroups(ctx context.Context, fn func(*Group) error) error
}

// Writer is the pipeline's write path.
type Writer interface {
	Apply(ctx context.Context, u *Unit) error
}
