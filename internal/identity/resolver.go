package identity

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/crest-analytics/crest/internal/storage"
)

// CounterNextAmplitudeID is the Counters key holding the next Amplitude ID
// to assign.
const CounterNextAmplitudeID = "next_amplitude_id"

// ErrNoMerge is returned by UndoMerge when the id was never merged.
var ErrNoMerge = errors.New("identity: no merge from this amplitude id")

// strKey keys a per-project string (device_id, user_id).
type strKey struct {
	project int64
	s       string
}

type groupKey struct {
	project    int64
	typ, value string
}

type sessionKey struct {
	project, amplitudeID, sessionID int64
}

// user is the in-memory state of one Amplitude ID.
type user struct {
	project    int64
	id         int64
	mergedInto int64
	firstSeen  int64
	lastSeen   int64
	userID     string
	// props is the current property table as canonical JSON (sorted keys),
	// nil when empty. It is never modified in place: a change makes a new
	// slice, so it doubles as the cached snapshot shared by events.
	props         []byte
	deviceIDs     []string
	firstPlatform string
	firstCountry  string
	dirty         bool
}

type device struct {
	project     int64
	amplitudeID int64
	anonymousID int64
	id          string
	dirty       bool
}

type group struct {
	props []byte
	dirty bool
}

type merge struct {
	m     storage.Merge
	dirty bool
}

// Resolver assigns Amplitude IDs, keeps user and group property tables,
// and collects session partials (spec §2–§4). It holds all state in
// memory; Drain hands the changes to the pipeline to store, and the Load
// methods rebuild it on start. A Resolver is safe for concurrent use, but
// the results depend on the order of Process calls, which must follow the
// WAL.
type Resolver struct {
	mu sync.Mutex

	next   int64 // next Amplitude ID
	lo, hi int64 // SetIDRange: the ids this Resolver mints; hi 0 = unbounded

	users   map[int64]*user
	devices map[strKey]*device
	userIDs map[strKey]int64
	merges  map[int64]*merge  // by FromID
	into    map[int64][]int64 // IntoID → FromIDs
	groups  map[groupKey]*group

	sessions   map[sessionKey]int
	sessionBuf []storage.Session

	dirtyUsers   []*user
	dirtyDevices []*device
	newUserIDs   []storage.UserID
	dirtyMerges  []*merge
	dirtyGroups  []groupKey

	ap      applier
	setsBuf []byte
	sets    []kv
}

// New returns an empty Resolver whose first Amplitude ID is 1.
func New() *Resolver {
	return &Resolver{
		next:     1,
		users:    make(map[int64]*user),
		devices:  make(map[strKey]*device),
		userIDs:  make(map[strKey]int64),
		merges:   make(map[int64]*merge),
		into:     make(map[int64][]int64),
		groups:   make(map[groupKey]*group),
		sessions: make(map[sessionKey]int),
	}
}

// SetCounters restores the counters saved by Drain (CounterNextAmplitudeID).
// The next id never goes below one past the largest loaded user.
func (r *Resolver) SetCounters(c map[string]int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := c[CounterNextAmplitudeID]; n > r.next {
		r.next = n
	}
}

// LoadUser adds a stored user. It is called before any Process.
func (r *Resolver) LoadUser(su *storage.User) {
	r.mu.Lock()
	defer r.mu.Unlock()
	u := &user{
		project:       su.ProjectID,
		id:            su.AmplitudeID,
		mergedInto:    su.MergedInto,
		firstSeen:     su.FirstSeen,
		lastSeen:      su.LastSeen,
		userID:        su.UserID,
		props:         su.Properties,
		deviceIDs:     slices.Clone(su.DeviceIDs),
		firstPlatform: su.FirstPlatform,
		firstCountry:  su.FirstCountry,
	}
	u.props = r.canonicalTable(u.props)
	r.users[u.id] = u
	r.bump(u.id)
}

// LoadDevice adds a stored device mapping.
func (r *Resolver) LoadDevice(d *storage.Device) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.devices[strKey{d.ProjectID, d.DeviceID}] = &device{
		project: d.ProjectID, amplitudeID: d.AmplitudeID, anonymousID: d.AnonymousID, id: d.DeviceID,
	}
	r.bump(d.AmplitudeID)
	r.bump(d.AnonymousID)
}

// LoadUserID adds a stored user_id mapping.
func (r *Resolver) LoadUserID(u *storage.UserID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.userIDs[strKey{u.ProjectID, u.UserID}] = u.AmplitudeID
	r.bump(u.AmplitudeID)
}

// LoadMerge adds a stored merge.
func (r *Resolver) LoadMerge(m *storage.Merge) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.merges[m.FromID]; !ok {
		r.into[m.IntoID] = append(r.into[m.IntoID], m.FromID)
	}
	r.merges[m.FromID] = &merge{m: *m}
}

// LoadGroup adds a stored group property table.
func (r *Resolver) LoadGroup(g *storage.Group) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.canonicalTable(g.Properties)
	r.groups[groupKey{g.ProjectID, g.GroupType, g.GroupValue}] = &group{props: p}
}

// canonicalTable returns a stored property table in canonical form (a
// backend may have reformatted the JSON), nil when empty. Text that does
// not parse as an object is kept as is.
func (r *Resolver) canonicalTable(p []byte) []byte {
	if len(p) == 0 {
		return nil
	}
	if err := r.ap.load(p); err != nil {
		return p
	}
	out := r.ap.marshal()
	if bytes.Equal(out, p) {
		return p
	}
	return out
}

// bump keeps the counter past id, if id is in this Resolver's range.
func (r *Resolver) bump(id int64) {
	if id >= r.next && id >= r.lo && (r.hi <= 0 || id < r.hi) {
		r.next = id + 1
	}
}

// Stats returns the number of known Amplitude IDs and devices.
func (r *Resolver) Stats() (users, devices int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.users), len(r.devices)
}

// Drain appends every row changed since the last Drain to u (Users,
// Devices, UserIDs, Merges, Sessions, Groups) and sets
// u.Counters[CounterNextAmplitudeID]. Slices in the rows are not shared
// with the Resolver, except Properties, which the Resolver never
// modifies in place.
func (r *Resolver) Drain(u *storage.Unit) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.dirtyUsers {
		x.dirty = false
		u.Users = append(u.Users, x.row())
	}
	clear(r.dirtyUsers)
	r.dirtyUsers = r.dirtyUsers[:0]
	for _, d := range r.dirtyDevices {
		d.dirty = false
		u.Devices = append(u.Devices, storage.Device{
			ProjectID: d.project, DeviceID: d.id,
			AmplitudeID: d.amplitudeID, AnonymousID: d.anonymousID,
		})
	}
	clear(r.dirtyDevices)
	r.dirtyDevices = r.dirtyDevices[:0]
	u.UserIDs = append(u.UserIDs, r.newUserIDs...)
	r.newUserIDs = r.newUserIDs[:0]
	for _, m := range r.dirtyMerges {
		m.dirty = false
		u.Merges = append(u.Merges, m.m)
	}
	clear(r.dirtyMerges)
	r.dirtyMerges = r.dirtyMerges[:0]
	u.Sessions = append(u.Sessions, r.sessionBuf...)
	r.sessionBuf = r.sessionBuf[:0]
	clear(r.sessions)
	for _, k := range r.dirtyGroups {
		g := r.groups[k]
		g.dirty = false
		u.Groups = append(u.Groups, storage.Group{
			ProjectID: k.project, GroupType: k.typ, GroupValue: k.value, Properties: g.props,
		})
	}
	r.dirtyGroups = r.dirtyGroups[:0]
	if u.Counters == nil {
		u.Counters = make(map[string]int64, 2)
	}
	u.Counters[CounterNextAmplitudeID] = r.next
}

func (u *user) row() storage.User {
	return storage.User{
		ProjectID:     u.project,
		AmplitudeID:   u.id,
		UserID:        u.userID,
		Properties:    u.props,
		FirstSeen:     u.firstSeen,
		LastSeen:      u.lastSeen,
		DeviceIDs:     slices.Clone(u.deviceIDs),
		FirstPlatform: u.firstPlatform,
		FirstCountry:  u.firstCountry,
		MergedInto:    u.mergedInto,
	}
}

// UndoMerge marks the merge of the anonymous Amplitude ID from as undone:
// at query time from is its own user again. The device keeps pointing at
// the user it was last seen with, and property tables are not split. It
// returns the updated row, which the next Drain also emits, or ErrNoMerge.
func (r *Resolver) UndoMerge(projectID, from int64) (storage.Merge, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.merges[from]
	if !ok || m.m.ProjectID != projectID {
		return storage.Merge{}, fmt.Errorf("undo merge of %d in project %d: %w", from, projectID, ErrNoMerge)
	}
	if m.m.Undone {
		return m.m, nil
	}
	m.m.Undone = true
	r.markMerge(m)
	if u := r.users[from]; u != nil && u.mergedInto != 0 {
		u.mergedInto = 0
		r.markUser(u)
	}
	return m.m, nil
}

// Merges returns the merges into or from amplitudeID in the project,
// undone ones included, ordered by time then FromID.
func (r *Resolver) Merges(projectID, amplitudeID int64) []storage.Merge {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []storage.Merge
	if m, ok := r.merges[amplitudeID]; ok && m.m.ProjectID == projectID {
		out = append(out, m.m)
	}
	for _, from := range r.into[amplitudeID] {
		if m := r.merges[from]; m.m.ProjectID == projectID {
			out = append(out, m.m)
		}
	}
	slices.SortFunc(out, func(a, b storage.Merge) int {
		return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(a.FromID, b.FromID))
	})
	return out
}

func (r *Resolver) markUser(u *user) {
	if !u.dirty {
		u.dirty = true
		r.dirtyUsers = append(r.dirtyUsers, u)
	}
}

func (r *Resolver) markDevice(d *device) {
	if !d.dirty {
		d.dirty = true
		r.dirtyDevices = append(r.dirtyDevices, d)
	}
}

func (r *Resolver) markMerge(m *merge) {
	if !m.dirty {
		m.dirty = true
		r.dirtyMerges = append(r.dirtyMerges, m)
	}
}

func storageUserID(p int64, userID string, id int64) storage.UserID {
	return storage.UserID{ProjectID: p, UserID: userID, AmplitudeID: id}
}

func mergeRow(p, from, into, t, seq int64, deviceID string) storage.Merge {
	return storage.Merge{ProjectID: p, FromID: from, IntoID: into, Time: t, EventSeq: seq, DeviceID: deviceID}
}

func sessionRow(k sessionKey, t int64) storage.Session {
	return storage.Session{
		ProjectID: k.project, AmplitudeID: k.amplitudeID, SessionID: k.sessionID,
		Start: t, LastEvent: t, EventCount: 1,
	}
}
