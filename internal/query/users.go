package query

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"
)

// ErrUserNotFound is returned when an Amplitude ID is unknown in a project.
var ErrUserNotFound = errors.New("user not found")

// Search match types, as the Dashboard API's usersearch names them.
const (
	MatchExact  = "match_user_or_device_id"
	MatchPrefix = "match_user_prefix"
	MatchProp   = "match_user_property"
	NoMatch     = "nomatch"
)

// UserMatch is one user found by a search, by canonical Amplitude ID.
type UserMatch struct {
	UserID      string `json:"user_id"`
	AmplitudeID int64  `json:"amplitude_id"`
	LastSeen    int64  `json:"last_seen"`
}

// UserSearch is what SearchUsers found.
type UserSearch struct {
	Type    string      `json:"type"`
	Matches []UserMatch `json:"matches"`
}

// SearchUsers finds users (spec §5.11) by Amplitude ID, user_id or
// device_id; failing an exact match, by user_id prefix (ignoring case).
// With prop set, it finds users whose current property prop equals q.
// Merged ids resolve to their canonical user. At most limit matches,
// most recently seen first.
func (e *Engine) SearchUsers(ctx context.Context, p Project, q string, prop string, limit int) (*UserSearch, error) {
	if strings.TrimSpace(q) == "" {
		return nil, fieldErr("user", "missing search text")
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	d := e.d
	var conds []string
	typ := MatchExact
	if prop != "" {
		typ = MatchProp
		conds = append(conds, d.Property("u.properties", prop)+" = "+d.String(q))
	} else {
		if id, err := strconv.ParseInt(q, 10, 64); err == nil {
			conds = append(conds, "u.amplitude_id = "+strconv.FormatInt(id, 10))
		}
		conds = append(conds, "u.user_id = "+d.String(q),
			fmt.Sprintf("u.amplitude_id IN (SELECT amplitude_id FROM devices WHERE project_id = %d AND device_id = %s)", p.ID, d.String(q)))
	}
	run := func(conds []string) ([]UserMatch, error) {
		sqlText := fmt.Sprintf("/* query.SearchUsers */\nWITH m AS (SELECT from_id, into_id FROM merges WHERE project_id = %[1]d AND NOT undone),\n"+
			"hit AS (SELECT DISTINCT coalesce(m.into_id, u.amplitude_id) AS id FROM users u LEFT JOIN m ON m.from_id = u.amplitude_id "+
			"WHERE u.project_id = %[1]d AND (%[2]s))\n"+
			"SELECT hit.id, coalesce(u.user_id, ''), u.last_seen FROM hit JOIN users u ON u.project_id = %[1]d AND u.amplitude_id = hit.id "+
			"ORDER BY u.last_seen DESC, hit.id LIMIT %[3]d", p.ID, strings.Join(conds, " OR "), limit)
		rows, err := e.q.QueryContext(ctx, sqlText)
		if err != nil {
			return nil, fmt.Errorf("search users: %w", err)
		}
		defer rows.Close()
		out := []UserMatch{}
		for rows.Next() {
			var m UserMatch
			if err := rows.Scan(&m.AmplitudeID, &m.UserID, &m.LastSeen); err != nil {
				return nil, fmt.Errorf("search users: %w", err)
			}
			out = append(out, m)
		}
		return out, rows.Err()
	}
	ms, err := run(conds)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 && prop == "" {
		typ = MatchPrefix
		if ms, err = run([]string{d.HasPrefixFold("u.user_id", q)}); err != nil {
			return nil, err
		}
	}
	if len(ms) == 0 {
		typ = NoMatch
	}
	return &UserSearch{Type: typ, Matches: ms}, nil
}

// MergedID is an anonymous Amplitude ID merged into a user, with the time
// of the merge (UTC ms).
type MergedID struct {
	AmplitudeID int64 `json:"amplitude_id"`
	Time        int64 `json:"merge_time"`
}

// Location is a latitude and longitude.
type Location struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

// Profile is a user's look-up page (spec §5.11): current properties and
// the figures over all its merged ids. Times are UTC ms.
type Profile struct {
	AmplitudeID  int64           `json:"canonical_amplitude_id"`
	UserID       string          `json:"user_id"`
	MergedIDs    []MergedID      `json:"merged_amplitude_ids"`
	DeviceIDs    []string        `json:"device_ids"`
	Properties   json.RawMessage `json:"properties"`
	FirstSeen    int64           `json:"first_used"`
	LastSeen     int64           `json:"last_used"`
	NumEvents    int64           `json:"num_events"`
	NumSessions  int64           `json:"num_sessions"`
	UsageTime    int64           `json:"usage_time"` // ms in sessions
	Purchases    int64           `json:"purchases"`
	Revenue      float64         `json:"revenue"`
	Platform     string          `json:"platform"`
	OS           string          `json:"os"`
	Version      string          `json:"version"`
	Device       string          `json:"device"`
	DeviceType   string          `json:"device_type"`
	Carrier      string          `json:"carrier"`
	Country      string          `json:"country"`
	Region       string          `json:"region"`
	City         string          `json:"city"`
	DMA          string          `json:"dma"`
	Language     string          `json:"language"`
	StartVersion string          `json:"start_version"`
	LastLocation *Location       `json:"last_location"`

	ids []int64 // canonical first, then merged
}

// idList returns the ids as an SQL list.
func (pr *Profile) idList() string {
	s := make([]string, len(pr.ids))
	for i, id := range pr.ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}

// UserProfile returns the profile of the user owning amplitudeID (which
// may be a merged anonymous id), or ErrUserNotFound.
func (e *Engine) UserProfile(ctx context.Context, p Project, amplitudeID int64) (*Profile, error) {
	pr, err := e.resolveUser(ctx, p, amplitudeID)
	if err != nil {
		return nil, err
	}
	ids := pr.idList()
	// Four independent reads run concurrently: each is a few ms of mostly
	// latency on an embedded engine.
	g, gctx := errgroup.WithContext(ctx)
	var found bool
	g.Go(func() error {
		var err error
		found, err = e.profileUsers(gctx, p, pr, ids)
		return err
	})
	g.Go(func() error {
		return e.scanOne(gctx, fmt.Sprintf("/* query.UserProfile.events */\n"+
			"SELECT count(*), count(DISTINCT CASE WHEN session_id > 0 THEN session_id END), "+
			"count(coalesce(revenue, price)), coalesce(sum(coalesce(revenue, price * coalesce(quantity, 1))), 0) "+
			"FROM events WHERE project_id = %d AND amplitude_id IN (%s)", p.ID, ids),
			&pr.NumEvents, &pr.NumSessions, &pr.Purchases, &pr.Revenue)
	})
	g.Go(func() error { return e.profileLatest(gctx, p, pr, ids) })
	g.Go(func() error {
		// Usage time: the session partials combined per session.
		var usage sql.NullFloat64
		err := e.scanOne(gctx, fmt.Sprintf("/* query.UserProfile.sessions */\n"+
			"SELECT sum(l - s) FROM (SELECT session_id, min(start) AS s, max(last_event) AS l FROM sessions "+
			"WHERE project_id = %d AND amplitude_id IN (%s) GROUP BY session_id) x", p.ID, ids), &usage)
		pr.UsageTime = int64(usage.Float64)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("amplitude id %d: %w", amplitudeID, ErrUserNotFound)
	}
	return pr, nil
}

// profileUsers reads the users rows of the ids: the canonical one's
// properties, and seen times and devices over all. It reports whether the
// canonical user exists.
func (e *Engine) profileUsers(ctx context.Context, p Project, pr *Profile, ids string) (bool, error) {
	rows, err := e.q.QueryContext(ctx, fmt.Sprintf("/* query.UserProfile.users */\n"+
		"SELECT amplitude_id, coalesce(user_id, ''), properties, first_seen, last_seen, device_ids FROM users "+
		"WHERE project_id = %d AND amplitude_id IN (%s)", p.ID, ids))
	if err != nil {
		return false, fmt.Errorf("user profile: %w", err)
	}
	defer rows.Close()
	found := false
	seen := map[string]bool{}
	for rows.Next() {
		var (
			id          int64
			uid         string
			props       sql.NullString
			first, last int64
			devs        any
		)
		if err := rows.Scan(&id, &uid, &props, &first, &last, &devs); err != nil {
			return false, fmt.Errorf("user profile: %w", err)
		}
		if id == pr.AmplitudeID {
			found = true
			pr.UserID = uid
			if props.Valid && props.String != "" {
				pr.Properties = json.RawMessage(props.String)
			}
		}
		if first > 0 && (pr.FirstSeen == 0 || first < pr.FirstSeen) { // 0: no event yet
			pr.FirstSeen = first
		}
		pr.LastSeen = max(pr.LastSeen, last)
		for _, d := range stringList(devs) {
			if !seen[d] {
				seen[d] = true
				pr.DeviceIDs = append(pr.DeviceIDs, d)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("user profile: %w", err)
	}
	if pr.Properties == nil {
		pr.Properties = json.RawMessage("{}")
	}
	if pr.DeviceIDs == nil {
		pr.DeviceIDs = []string{}
	}
	return found, nil
}

// profileLatest fills the device and location fields from the latest event.
func (e *Engine) profileLatest(ctx context.Context, p Project, pr *Profile, ids string) error {
	var lat, lng sql.NullFloat64
	var strs [12]sql.NullString
	dest := []any{}
	for i := range strs {
		dest = append(dest, &strs[i])
	}
	dest = append(dest, &lat, &lng)
	err := e.scanOne(ctx, fmt.Sprintf("/* query.UserProfile.latest */\n"+
		"SELECT platform, os_name, app_version, device_model, device_type, carrier, country, region, city, dma, language, start_version, "+
		"location_lat, location_lng FROM events WHERE project_id = %d AND amplitude_id IN (%s) ORDER BY event_time DESC, seq DESC LIMIT 1", p.ID, ids), dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	for i, f := range []*string{&pr.Platform, &pr.OS, &pr.Version, &pr.Device, &pr.DeviceType, &pr.Carrier, &pr.Country, &pr.Region, &pr.City, &pr.DMA, &pr.Language, &pr.StartVersion} {
		*f = strs[i].String
	}
	if lat.Valid && lng.Valid {
		pr.LastLocation = &Location{lat.Float64, lng.Float64}
	}
	return nil
}

// resolveUser finds the canonical id of amplitudeID and its merged ids.
func (e *Engine) resolveUser(ctx context.Context, p Project, amplitudeID int64) (*Profile, error) {
	pr := &Profile{AmplitudeID: amplitudeID, MergedIDs: []MergedID{}}
	var into sql.NullInt64
	err := e.scanOne(ctx, fmt.Sprintf("/* query.UserProfile.canonical */\n"+
		"SELECT max(into_id) FROM merges WHERE project_id = %d AND from_id = %d AND NOT undone", p.ID, amplitudeID), &into)
	if err != nil {
		return nil, err
	}
	if into.Valid {
		pr.AmplitudeID = into.Int64
	}
	pr.ids = []int64{pr.AmplitudeID}
	rows, err := e.q.QueryContext(ctx, fmt.Sprintf("/* query.UserProfile.merges */\n"+
		"SELECT from_id, time FROM merges WHERE project_id = %d AND into_id = %d AND NOT undone ORDER BY time, from_id", p.ID, pr.AmplitudeID))
	if err != nil {
		return nil, fmt.Errorf("user merges: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m MergedID
		if err := rows.Scan(&m.AmplitudeID, &m.Time); err != nil {
			return nil, fmt.Errorf("user merges: %w", err)
		}
		pr.MergedIDs = append(pr.MergedIDs, m)
		pr.ids = append(pr.ids, m.AmplitudeID)
	}
	return pr, rows.Err()
}

// scanOne runs a query expected to return one row and scans it.
func (e *Engine) scanOne(ctx context.Context, q string, dest ...any) error {
	rows, err := e.q.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("%s: %w", queryName(q), err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: %w", queryName(q), err)
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return fmt.Errorf("%s: %w", queryName(q), err)
	}
	return rows.Err()
}

// queryName returns the origin comment of a generated query.
func queryName(q string) string {
	if strings.HasPrefix(q, "/* ") {
		if i := strings.Index(q, " */"); i > 0 {
			return q[3:i]
		}
	}
	return "query"
}

// stringList converts a scanned list column ([]any or []string) to strings.
func stringList(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
