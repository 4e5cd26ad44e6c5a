package identity

import (
	"context"
	"slices"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/storage"
)

// SharedMap is the user_id → amplitude_id map of several Crest nodes
// (docs/scale-out.md, "Several Crest nodes"), and the latest row of each
// identified user as last written by any node. A single node has none: its
// Resolver's own maps are the whole truth. With one, the pipeline calls,
// for each unit before processing it, Plan, Claim, Pin and Refresh, and
// after the unit is applied, Publish.
type SharedMap interface {
	// Claim claims each c.UserID of its project for c.Proposed, unless
	// some node (this one included, before a crash) claimed it already;
	// atomically per user_id, so two nodes claiming at once get one
	// winner. It sets c.AmplitudeID to the id holding the claim and
	// c.Node to the node that made it. All claims go in one round trip
	// when none is taken.
	Claim(ctx context.Context, claims []Claim) error
	// Refresh returns the shared rows of the given users that another node
	// wrote after the version this node last saw or wrote.
	Refresh(ctx context.Context, users []UserRef) ([]storage.User, error)
	// Publish stores the rows of identified users this node changed (rows
	// with an empty UserID are ignored).
	Publish(ctx context.Context, users []storage.User) error
}

// Claim is a user_id a node meets for the first time.
type Claim struct {
	ProjectID int64
	UserID    string
	// Proposed is the id the claiming node would give the user_id: the
	// anonymous id of the device it logs in on, or a fresh one.
	Proposed int64
	// AmplitudeID and Node are set by SharedMap.Claim: the winning claim.
	AmplitudeID int64
	Node        string
}

// UserRef names one user.
type UserRef struct {
	ProjectID, AmplitudeID int64
}

// Plan is what a unit needs from the shared map before it is processed:
// claims for the user_ids the Resolver does not know, with the ids it
// would give them, and the identified users the unit touches.
type Plan struct {
	Claims  []Claim
	Touched []UserRef

	claimed map[strKey]struct{}
	taken   map[strKey]struct{} // devices whose anonymous id this unit may not adopt any more
	touched map[int64]struct{}
}

// Reset empties p for the next unit, keeping its memory.
func (p *Plan) Reset() {
	p.Claims = p.Claims[:0]
	p.Touched = p.Touched[:0]
	clear(p.claimed)
	clear(p.taken)
	clear(p.touched)
}

// Plan adds to p what evs (events of one KindEvents or KindIdentify
// record, in WAL order, called for every such record of the unit in
// order) need: a claim for each user_id the Resolver does not know, and
// the identified users the events touch.
//
// The proposed id is the one Process would give: the anonymous id of the
// event's device when the device is known before the unit, its id has
// never carried a user_id and no earlier identified event of the unit
// used the device; otherwise a fresh id, reserved now. (A device first
// seen in the same unit as its login gets a fresh id and, at Process, its
// anonymous id is merged into it: a single node adopts it instead. The
// counts are the same.)
func (r *Resolver) Plan(p *Plan, evs []event.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.claimed == nil {
		p.claimed = make(map[strKey]struct{})
		p.taken = make(map[strKey]struct{})
		p.touched = make(map[int64]struct{})
	}
	for i := range evs {
		e := &evs[i]
		pid := e.ProjectID
		dk := strKey{pid, e.DeviceID}
		var d *device
		if e.DeviceID != "" {
			d = r.devices[dk]
		}
		if e.UserID == "" {
			if d != nil {
				p.touch(r, pid, d.amplitudeID)
			}
			continue
		}
		key := strKey{pid, e.UserID}
		if id, ok := r.userIDs[key]; ok {
			p.touch(r, pid, id)
			p.taken[dk] = struct{}{}
			continue
		}
		if _, ok := p.claimed[key]; ok {
			p.taken[dk] = struct{}{}
			continue
		}
		proposed := int64(0)
		if _, used := p.taken[dk]; d != nil && !used {
			if cur := r.users[d.amplitudeID]; cur != nil && cur.userID == "" && cur.mergedInto == 0 {
				proposed = cur.id
			}
		}
		if proposed == 0 {
			proposed = r.next
			r.next++
		}
		if e.DeviceID != "" {
			p.taken[dk] = struct{}{}
		}
		p.claimed[key] = struct{}{}
		p.Claims = append(p.Claims, Claim{ProjectID: pid, UserID: e.UserID, Proposed: proposed})
	}
}

// touch records the canonical user of id if it carries a user_id.
func (p *Plan) touch(r *Resolver, project, id int64) {
	u := r.users[id]
	if u == nil {
		return
	}
	u = r.canonical(u)
	if u.userID == "" {
		return
	}
	if _, ok := p.touched[u.id]; !ok {
		p.touched[u.id] = struct{}{}
		p.Touched = append(p.Touched, UserRef{project, u.id})
	}
}

// Pin records the claims' winners as known user_ids (after
// SharedMap.Claim), so Process resolves them to the winning ids: the
// proposed anonymous id is then adopted on its device as on a single
// node, and a device holding another anonymous id is merged into the
// winner, as on a single node where the other node's login came first.
// Each pinned user_id is emitted as a UserIDs row by the next Drain.
func (r *Resolver) Pin(claims []Claim) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range claims {
		if c.AmplitudeID == 0 {
			continue
		}
		key := strKey{c.ProjectID, c.UserID}
		if _, ok := r.userIDs[key]; ok {
			continue
		}
		r.userIDs[key] = c.AmplitudeID
		r.newUserIDs = append(r.newUserIDs, storageUserID(c.ProjectID, c.UserID, c.AmplitudeID))
		r.bump(c.AmplitudeID)
	}
}

// Refresh replaces the state of a user with a newer row written by
// another node (SharedMap.Refresh): its property table is taken whole
// (it is the result of every operation the other node applied after this
// node's last write), seen times are widened and device ids united. A
// user this node does not have is added as LoadUser would.
func (r *Resolver) Refresh(su *storage.User) {
	r.mu.Lock()
	defer r.mu.Unlock()
	u := r.users[su.AmplitudeID]
	if u == nil {
		u = &user{project: su.ProjectID, id: su.AmplitudeID}
		r.users[u.id] = u
		r.bump(u.id)
	}
	u.props = r.canonicalTable(su.Properties)
	if su.UserID != "" {
		u.userID = su.UserID
	}
	if su.MergedInto != 0 {
		u.mergedInto = su.MergedInto
	}
	if su.FirstSeen != 0 && (u.firstSeen == 0 || su.FirstSeen < u.firstSeen) {
		u.firstSeen = su.FirstSeen
		if su.FirstPlatform != "" {
			u.firstPlatform = su.FirstPlatform
		}
		if su.FirstCountry != "" {
			u.firstCountry = su.FirstCountry
		}
	}
	if u.firstPlatform == "" {
		u.firstPlatform = su.FirstPlatform
	}
	if u.firstCountry == "" {
		u.firstCountry = su.FirstCountry
	}
	u.lastSeen = max(u.lastSeen, su.LastSeen)
	ids := slices.Clone(su.DeviceIDs)
	for _, id := range u.deviceIDs {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	u.deviceIDs = ids
	// The next write of this user (by Process) carries the merged row; an
	// unchanged user needs none, the other node's row is stored already.
}

// SetIDRange limits the ids this Resolver mints to [lo, hi): ids outside
// it, loaded or learnt from other nodes, are known but never move the
// counter (node i of several mints from i<<40, docs/scale-out.md). The
// counter starts at lo if below. hi <= 0 means no upper limit.
func (r *Resolver) SetIDRange(lo, hi int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lo, r.hi = lo, hi
	if r.next < lo {
		r.next = lo
	}
}
