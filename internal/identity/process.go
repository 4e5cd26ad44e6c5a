package identity

import (
	"strings"

	"github.com/valyala/fastjson"

	"github.com/crest-analytics/crest/internal/event"
)

// Process resolves one event, in WAL order, and applies its state changes.
//
// For kind KindEvents it sets e.AmplitudeID, copies the user_properties as
// sent into e.UserPropertyOps, applies them to the canonical user's
// property table (unless e.SkipUserPropertiesSync), replaces
// e.UserProperties with the table as of this event (nil when empty),
// applies group_properties of a $groupidentify event to its groups,
// updates first/last seen, device ids, first platform/country and, for
// active events with a session, the session partial; it returns true.
//
// For KindIdentify (/identify) it resolves the ids and applies the user
// properties and groups, but touches no seen times or sessions and
// returns false. For KindGroupIdentify (/groupidentify) it only applies
// group_properties to the groups in e.Groups and returns false.
//
// The pipeline should assign e.Seq before calling Process: a merge
// records it.
func (r *Resolver) Process(e *event.Event, kind event.Kind) (store bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch kind {
	case event.KindGroupIdentify:
		r.groupIdentify(e)
		return false
	case event.KindIdentify:
		u := r.resolve(e)
		if u == nil {
			return false
		}
		r.userProps(e, r.canonical(u), true)
		return false
	}

	u := r.resolve(e)
	if u == nil {
		// Neither user_id nor device_id: ingest rejects such events, but if
		// one arrives it becomes a user of its own.
		u = r.newUser(e.ProjectID, "")
		e.AmplitudeID = u.id
	}
	c := r.canonical(u)
	if e.EventType == event.TypeGroupIdentify {
		r.groupIdentify(e)
	}
	r.userProps(e, c, e.EventType == event.TypeIdentify)
	r.seen(c, e)
	if e.SessionID > 0 && event.IsActive(e.EventType) {
		r.session(e)
	}
	return true
}

// resolve finds or creates the Amplitude ID of e by the rules of spec §3,
// sets e.AmplitudeID and returns the user, or nil when e has no ids.
func (r *Resolver) resolve(e *event.Event) *user {
	p := e.ProjectID
	var d *device
	if e.DeviceID != "" {
		d = r.devices[strKey{p, e.DeviceID}]
	}
	var u *user
	switch {
	case e.UserID == "" && e.DeviceID == "":
		return nil
	case e.UserID == "":
		if d != nil {
			// Known device: its last known user, else its anonymous id.
			u = r.user(p, d.amplitudeID)
		} else {
			// Unseen device: a new anonymous id.
			u = r.newUser(p, "")
			d = r.newDevice(p, e.DeviceID, u.id, u.id)
			r.addDevice(u, d.id)
		}
	default:
		key := strKey{p, e.UserID}
		if id, ok := r.userIDs[key]; ok {
			// Known user_id: its id on any device.
			u = r.user(p, id)
			if u.userID == "" && u.mergedInto == 0 {
				// Pinned from the shared map (Pin) to the device's
				// anonymous id, or a fresh one: adopt it now.
				u.userID = e.UserID
				r.markUser(u)
			}
			if d != nil && d.amplitudeID != id {
				if cur := r.users[d.amplitudeID]; cur != nil && cur.userID == "" && cur.mergedInto == 0 {
					// The device holds another, anonymous id: merge it.
					r.merge(cur, u, e, d)
				}
				// Either way the device's last known user is now this one.
				d.amplitudeID = id
				r.markDevice(d)
			}
		} else {
			if d != nil {
				if cur := r.users[d.amplitudeID]; cur != nil && cur.userID == "" && cur.mergedInto == 0 {
					// The device's id never carried a user id: adopt it.
					u = cur
					u.userID = e.UserID
					r.markUser(u)
				}
			}
			if u == nil {
				// New user_id on an unseen device, without a device, or on
				// a device whose last user is another user id.
				u = r.newUser(p, e.UserID)
			}
			r.userIDs[key] = u.id
			r.newUserIDs = append(r.newUserIDs, storageUserID(p, e.UserID, u.id))
			if d != nil && d.amplitudeID != u.id {
				d.amplitudeID = u.id
				r.markDevice(d)
			}
		}
		if d == nil && e.DeviceID != "" {
			d = r.newDevice(p, e.DeviceID, u.id, 0)
		}
		if d != nil {
			r.addDevice(u, d.id)
		}
	}
	e.AmplitudeID = u.id
	return u
}

// user returns the user with id, creating an empty one if the loaded state
// lacks it (a device or user_id row without its user row).
func (r *Resolver) user(p, id int64) *user {
	if u := r.users[id]; u != nil {
		return u
	}
	u := &user{project: p, id: id}
	r.users[id] = u
	r.markUser(u)
	r.bump(id)
	return u
}

func (r *Resolver) newUser(p int64, userID string) *user {
	u := &user{project: p, id: r.next, userID: userID}
	r.next++
	r.users[u.id] = u
	r.markUser(u)
	return u
}

func (r *Resolver) newDevice(p int64, id string, amplitudeID, anonymousID int64) *device {
	d := &device{project: p, amplitudeID: amplitudeID, anonymousID: anonymousID, id: id}
	r.devices[strKey{p, id}] = d
	r.markDevice(d)
	return d
}

func (r *Resolver) addDevice(u *user, id string) {
	for _, x := range u.deviceIDs {
		if x == id {
			return
		}
	}
	u.deviceIDs = append(u.deviceIDs, id)
	r.markUser(u)
}

// canonical follows MergedInto to the user whose state an event updates.
func (r *Resolver) canonical(u *user) *user {
	for i := 0; u.mergedInto != 0 && i < 16; i++ {
		n := r.users[u.mergedInto]
		if n == nil {
			break
		}
		u = n
	}
	return u
}

// merge records that the anonymous id from is merged into into, and folds
// from's seen times, devices and properties (where into has none) into
// into.
func (r *Resolver) merge(from, into *user, e *event.Event, d *device) {
	from.mergedInto = into.id
	r.markUser(from)
	m := &merge{m: mergeRow(e.ProjectID, from.id, into.id, e.Time, e.Seq, d.id)}
	if _, ok := r.merges[from.id]; !ok {
		r.into[into.id] = append(r.into[into.id], from.id)
	}
	r.merges[from.id] = m
	r.markMerge(m)

	if from.firstSeen != 0 && (into.firstSeen == 0 || from.firstSeen < into.firstSeen) {
		into.firstSeen = from.firstSeen
		if from.firstPlatform != "" {
			into.firstPlatform = from.firstPlatform
		}
		if from.firstCountry != "" {
			into.firstCountry = from.firstCountry
		}
	}
	into.lastSeen = max(into.lastSeen, from.lastSeen)
	for _, id := range from.deviceIDs {
		r.addDevice(into, id)
	}
	if p, changed := r.ap.fill(into.props, from.props); changed {
		into.props = p
	}
	r.markUser(into)
}

// userProps applies e's user properties to u and sets the snapshot.
func (r *Resolver) userProps(e *event.Event, u *user, identify bool) {
	raw := e.UserProperties
	e.UserPropertyOps = nil
	if len(raw) > 0 && string(raw) != "{}" {
		e.UserPropertyOps = raw
	} else {
		raw = nil
	}
	var sets []kv
	if identify && len(e.Groups) > 0 && !e.SkipUserPropertiesSync {
		sets = r.groupSets(e.Groups)
	}
	if !e.SkipUserPropertiesSync && (raw != nil || len(sets) > 0) {
		if p, changed := r.ap.change(u.props, raw, sets); changed {
			u.props = p
			r.markUser(u)
		}
	}
	e.UserProperties = u.props
}

// groupSets turns an event's groups into $set entries of user properties
// (setGroup): {type: value}, value being a string or an array.
func (r *Resolver) groupSets(groups []byte) []kv {
	v, err := r.ap.pTmp.ParseBytes(groups)
	if err != nil {
		return nil
	}
	o, err := v.Object()
	if err != nil {
		return nil
	}
	r.setsBuf = r.setsBuf[:0]
	type span struct{ k0, k1, v1 int }
	var spans []span
	o.Visit(func(k []byte, v *fastjson.Value) {
		k0 := len(r.setsBuf)
		r.setsBuf = append(r.setsBuf, k...)
		k1 := len(r.setsBuf)
		r.setsBuf = appendCanon(r.setsBuf, v)
		spans = append(spans, span{k0, k1, len(r.setsBuf)})
	})
	r.sets = r.sets[:0]
	for _, s := range spans {
		r.sets = append(r.sets, kv{k: r.setsBuf[s.k0:s.k1:s.k1], v: r.setsBuf[s.k1:s.v1:s.v1]})
	}
	return r.sets
}

// groupIdentify applies e.GroupProperties to every group named in e.Groups.
func (r *Resolver) groupIdentify(e *event.Event) {
	if len(e.Groups) == 0 {
		return
	}
	v, err := r.ap.pTmp.ParseBytes(e.Groups)
	if err != nil {
		return
	}
	o, err := v.Object()
	if err != nil {
		return
	}
	var keys []groupKey
	value := func(typ string, v *fastjson.Value) {
		switch v.Type() {
		case fastjson.TypeString:
			s, _ := v.StringBytes()
			keys = append(keys, groupKey{e.ProjectID, typ, string(s)})
		case fastjson.TypeNumber:
			keys = append(keys, groupKey{e.ProjectID, typ, string(v.MarshalTo(nil))})
		}
	}
	o.Visit(func(k []byte, v *fastjson.Value) {
		typ := strings.Clone(string(k))
		if v.Type() == fastjson.TypeArray {
			arr, _ := v.Array()
			for _, x := range arr {
				value(typ, x)
			}
			return
		}
		value(typ, v)
	})
	for _, k := range keys {
		g, ok := r.groups[k]
		if !ok {
			g = &group{}
			r.groups[k] = g
		}
		p, changed := g.props, false
		if len(e.GroupProperties) > 0 {
			p, changed = r.ap.change(g.props, e.GroupProperties, nil)
		}
		if changed {
			g.props = p
		}
		if (changed || !ok) && !g.dirty {
			g.dirty = true
			r.dirtyGroups = append(r.dirtyGroups, k)
		}
	}
}

// seen updates the first/last seen times and first platform/country of u
// for a stored event.
func (r *Resolver) seen(u *user, e *event.Event) {
	changed := false
	if u.firstSeen == 0 || e.Time < u.firstSeen {
		u.firstSeen = e.Time
		changed = true
		if e.Platform != "" && e.Platform != u.firstPlatform {
			u.firstPlatform = e.Platform
		}
		if e.Country != "" && e.Country != u.firstCountry {
			u.firstCountry = e.Country
		}
	}
	if u.firstPlatform == "" && e.Platform != "" {
		u.firstPlatform = e.Platform
		changed = true
	}
	if u.firstCountry == "" && e.Country != "" {
		u.firstCountry = e.Country
		changed = true
	}
	if e.Time > u.lastSeen {
		u.lastSeen = e.Time
		changed = true
	}
	if changed {
		r.markUser(u)
	}
}

// session adds an active event to its session partial, keyed by the
// Amplitude ID the event is stored with.
func (r *Resolver) session(e *event.Event) {
	k := sessionKey{e.ProjectID, e.AmplitudeID, e.SessionID}
	if i, ok := r.sessions[k]; ok {
		s := &r.sessionBuf[i]
		s.Start = min(s.Start, e.Time)
		s.LastEvent = max(s.LastEvent, e.Time)
		s.EventCount++
		return
	}
	r.sessions[k] = len(r.sessionBuf)
	r.sessionBuf = append(r.sessionBuf, sessionRow(k, e.Time))
}
