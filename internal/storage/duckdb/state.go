package duckdb

import (
	"encoding/binary"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/crest-analytics/crest/internal/storage"
)

// Columns of the state tables, in schema order (schema.go).

var userColumns = []column[storage.User]{
	{name: "project_id", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.User) error { return setInt(ch, c, r, v.ProjectID) }},
	{name: "amplitude_id", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.User) error { return setInt(ch, c, r, v.AmplitudeID) }},
	{name: "user_id", typ: duckdb.TYPE_VARCHAR, set: func(ch *chunk, c, r int, v *storage.User) error { return setStr(ch, c, r, v.UserID) }},
	{name: "properties", typ: duckdb.TYPE_VARCHAR, set: func(ch *chunk, c, r int, v *storage.User) error { return setJSON(ch, c, r, v.Properties) }},
	{name: "first_seen", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.User) error { return setInt(ch, c, r, v.FirstSeen) }},
	{name: "last_seen", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.User) error { return setInt(ch, c, r, v.LastSeen) }},
	{name: "device_ids", typ: duckdb.TYPE_VARCHAR, list: true, set: func(ch *chunk, c, r int, v *storage.User) error {
		if v.DeviceIDs == nil {
			return setNull(ch, c, r)
		}
		return duckdb.SetChunkValue(ch.ch, c, r, v.DeviceIDs)
	}},
	{name: "first_platform", typ: duckdb.TYPE_VARCHAR, set: func(ch *chunk, c, r int, v *storage.User) error { return setStr(ch, c, r, v.FirstPlatform) }},
	{name: "first_country", typ: duckdb.TYPE_VARCHAR, set: func(ch *chunk, c, r int, v *storage.User) error { return setStr(ch, c, r, v.FirstCountry) }},
	{name: "merged_into", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.User) error { return setInt(ch, c, r, v.MergedInto) }},
}

var deviceColumns = []column[storage.Device]{
	{name: "project_id", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.Device) error { return setInt(ch, c, r, v.ProjectID) }},
	{name: "device_id", typ: duckdb.TYPE_VARCHAR, set: func(ch *chunk, c, r int, v *storage.Device) error {
		return ch.string(c, r, v.DeviceID)
	}},
	{name: "amplitude_id", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.Device) error { return setInt(ch, c, r, v.AmplitudeID) }},
	{name: "anonymous_id", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.Device) error { return setInt(ch, c, r, v.AnonymousID) }},
}

var userIDColumns = []column[storage.UserID]{
	{name: "project_id", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.UserID) error { return setInt(ch, c, r, v.ProjectID) }},
	{name: "user_id", typ: duckdb.TYPE_VARCHAR, set: func(ch *chunk, c, r int, v *storage.UserID) error {
		return ch.string(c, r, v.UserID)
	}},
	{name: "amplitude_id", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.UserID) error { return setInt(ch, c, r, v.AmplitudeID) }},
}

var mergeColumns = []column[storage.Merge]{
	{name: "project_id", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.Merge) error { return setInt(ch, c, r, v.ProjectID) }},
	{name: "from_id", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.Merge) error { return setInt(ch, c, r, v.FromID) }},
	{name: "into_id", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.Merge) error { return setInt(ch, c, r, v.IntoID) }},
	{name: "time", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.Merge) error { return setInt(ch, c, r, v.Time) }},
	{name: "event_seq", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.Merge) error { return setInt(ch, c, r, v.EventSeq) }},
	{name: "device_id", typ: duckdb.TYPE_VARCHAR, set: func(ch *chunk, c, r int, v *storage.Merge) error {
		return ch.string(c, r, v.DeviceID)
	}},
	{name: "undone", typ: duckdb.TYPE_BOOLEAN, set: func(ch *chunk, c, r int, v *storage.Merge) error {
		return ch.bool(c, r, v.Undone)
	}},
}

var sessionColumns = []column[storage.Session]{
	{name: "project_id", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.Session) error { return setInt(ch, c, r, v.ProjectID) }},
	{name: "amplitude_id", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.Session) error { return setInt(ch, c, r, v.AmplitudeID) }},
	{name: "session_id", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.Session) error { return setInt(ch, c, r, v.SessionID) }},
	{name: "start", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.Session) error { return setInt(ch, c, r, v.Start) }},
	{name: "last_event", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.Session) error { return setInt(ch, c, r, v.LastEvent) }},
	{name: "event_count", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.Session) error { return setInt(ch, c, r, v.EventCount) }},
}

var groupColumns = []column[storage.Group]{
	{name: "project_id", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.Group) error { return setInt(ch, c, r, v.ProjectID) }},
	{name: "group_type", typ: duckdb.TYPE_VARCHAR, set: func(ch *chunk, c, r int, v *storage.Group) error {
		return ch.string(c, r, v.GroupType)
	}},
	{name: "group_value", typ: duckdb.TYPE_VARCHAR, set: func(ch *chunk, c, r int, v *storage.Group) error {
		return ch.string(c, r, v.GroupValue)
	}},
	{name: "properties", typ: duckdb.TYPE_VARCHAR, set: func(ch *chunk, c, r int, v *storage.Group) error { return setJSON(ch, c, r, v.Properties) }},
}

// The 16-byte dedup hash is stored as two big-endian halves.
var dedupColumns = []column[storage.DedupKey]{
	{name: "hash_hi", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.DedupKey) error {
		return setInt(ch, c, r, int64(binary.BigEndian.Uint64(v.Hash[:8])))
	}},
	{name: "hash_lo", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.DedupKey) error {
		return setInt(ch, c, r, int64(binary.BigEndian.Uint64(v.Hash[8:])))
	}},
	{name: "time", typ: duckdb.TYPE_BIGINT, set: func(ch *chunk, c, r int, v *storage.DedupKey) error { return setInt(ch, c, r, v.Time) }},
}

// lastByKey drops all but the last row of each key, keeping the order of
// the survivors. DuckDB rejects an upsert that touches one key twice.
func lastByKey[T any, K comparable](rows []T, key func(*T) K) []T {
	last := make(map[K]int, len(rows))
	for i := range rows {
		last[key(&rows[i])] = i
	}
	if len(last) == len(rows) {
		return rows
	}
	out := make([]T, 0, len(last))
	for i := range rows {
		if last[key(&rows[i])] == i {
			out = append(out, rows[i])
		}
	}
	return out
}

// combineSessions folds partials of the same key within a unit.
func combineSessions(rows []storage.Session) []storage.Session {
	type key struct{ p, a, s int64 }
	idx := make(map[key]int, len(rows))
	var out []storage.Session
	for _, s := range rows {
		k := key{s.ProjectID, s.AmplitudeID, s.SessionID}
		i, ok := idx[k]
		if !ok {
			idx[k] = len(out)
			out = append(out, s)
			continue
		}
		o := &out[i]
		o.Start = min(o.Start, s.Start)
		o.LastEvent = max(o.LastEvent, s.LastEvent)
		o.EventCount += s.EventCount
	}
	return out
}
