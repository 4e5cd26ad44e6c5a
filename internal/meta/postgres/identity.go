package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/crest-analytics/crest/internal/identity"
	"github.com/crest-analytics/crest/internal/storage"
)

// IdentityMap is identity.SharedMap on PostgreSQL (migration 3): the
// user_id → amplitude_id claims of several Crest nodes and the latest row
// of each identified user. It is safe for concurrent use.
type IdentityMap struct {
	db   *sql.DB
	node string

	mu   sync.Mutex
	seen map[identity.UserRef]int64 // version of each user's row this node last read or wrote
}

var _ identity.SharedMap = (*IdentityMap)(nil)

// OpenIdentityMap connects to the database of dsn, whose schema Open has
// migrated, as the node named node.
func OpenIdentityMap(ctx context.Context, dsn, node string) (*IdentityMap, error) {
	if node == "" {
		return nil, fmt.Errorf("identity map: the node needs a name")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open identity map: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open identity map: %w", err)
	}
	return &IdentityMap{db: db, node: node, seen: make(map[identity.UserRef]int64)}, nil
}

// Close closes the connections.
func (m *IdentityMap) Close() error { return m.db.Close() }

// claimChunk bounds the arrays of one statement.
const claimChunk = 5000

// Claim inserts every claim that no node has made yet, in one statement
// (INSERT ... ON CONFLICT DO NOTHING RETURNING), and reads the winners of
// the others in a second one. The primary key (project_id, user_id) makes
// concurrent claims of one user_id have one winner: the losing INSERT
// waits for the winner's to commit and then does nothing, and the second
// statement, a new snapshot, reads it. Rows are inserted in key order, so
// two nodes claiming overlapping sets wait for each other instead of
// deadlocking.
func (m *IdentityMap) Claim(ctx context.Context, claims []identity.Claim) error {
	for len(claims) > 0 {
		n := min(len(claims), claimChunk)
		if err := m.claim(ctx, claims[:n]); err != nil {
			return err
		}
		claims = claims[n:]
	}
	return nil
}

type claimKey struct {
	project int64
	userID  string
}

func (m *IdentityMap) claim(ctx context.Context, claims []identity.Claim) error {
	projects := make([]int64, len(claims))
	users := make([]string, len(claims))
	proposed := make([]int64, len(claims))
	idx := make(map[claimKey]int, len(claims))
	for i, c := range claims {
		projects[i], users[i], proposed[i] = c.ProjectID, c.UserID, c.Proposed
		idx[claimKey{c.ProjectID, c.UserID}] = i
		claims[i].AmplitudeID, claims[i].Node = 0, ""
	}
	rows, err := m.db.QueryContext(ctx, `
INSERT INTO identity_user_ids (project_id, user_id, amplitude_id, node, claimed)
SELECT t.p, t.u, t.a, $4, $5 FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS t(p, u, a)
ORDER BY t.p, t.u
ON CONFLICT (project_id, user_id) DO NOTHING
RETURNING project_id, user_id, amplitude_id`, projects, users, proposed, m.node, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("claim user ids: %w", err)
	}
	won, err := m.scanClaims(rows, claims, idx, false)
	if err != nil {
		return fmt.Errorf("claim user ids: %w", err)
	}
	if won == len(claims) {
		return nil
	}
	projects, users = projects[:0], users[:0]
	for _, c := range claims {
		if c.AmplitudeID == 0 {
			projects, users = append(projects, c.ProjectID), append(users, c.UserID)
		}
	}
	rows, err = m.db.QueryContext(ctx, `
SELECT c.project_id, c.user_id, c.amplitude_id, c.node
FROM unnest($1::bigint[], $2::text[]) AS t(p, u)
JOIN identity_user_ids c ON c.project_id = t.p AND c.user_id = t.u`, projects, users)
	if err != nil {
		return fmt.Errorf("read claimed user ids: %w", err)
	}
	got, err := m.scanClaims(rows, claims, idx, true)
	if err != nil {
		return fmt.Errorf("read claimed user ids: %w", err)
	}
	if won+got != len(claims) {
		return fmt.Errorf("read claimed user ids: %d of %d claims have no row", len(claims)-won-got, len(claims))
	}
	return nil
}

func (m *IdentityMap) scanClaims(rows *sql.Rows, claims []identity.Claim, idx map[claimKey]int, withNode bool) (int, error) {
	defer rows.Close()
	n := 0
	for rows.Next() {
		var k claimKey
		var id int64
		node := m.node
		var err error
		if withNode {
			err = rows.Scan(&k.project, &k.userID, &id, &node)
		} else {
			err = rows.Scan(&k.project, &k.userID, &id)
		}
		if err != nil {
			return n, err
		}
		i, ok := idx[k]
		if !ok || claims[i].AmplitudeID != 0 {
			continue
		}
		claims[i].AmplitudeID, claims[i].Node = id, node
		n++
	}
	return n, rows.Err()
}

// Refresh returns the rows of users that another node published after
// the version this node last read or wrote.
func (m *IdentityMap) Refresh(ctx context.Context, refs []identity.UserRef) ([]storage.User, error) {
	var out []storage.User
	for len(refs) > 0 {
		n := min(len(refs), claimChunk)
		var err error
		if out, err = m.refresh(ctx, refs[:n], out); err != nil {
			return nil, err
		}
		refs = refs[n:]
	}
	return out, nil
}

func (m *IdentityMap) refresh(ctx context.Context, refs []identity.UserRef, out []storage.User) ([]storage.User, error) {
	projects := make([]int64, len(refs))
	ids := make([]int64, len(refs))
	vers := make([]int64, len(refs))
	m.mu.Lock()
	for i, r := range refs {
		projects[i], ids[i], vers[i] = r.ProjectID, r.AmplitudeID, m.seen[r]
	}
	m.mu.Unlock()
	rows, err := m.db.QueryContext(ctx, `
SELECT u.project_id, u.amplitude_id, u.user_id, u.properties, u.first_seen, u.last_seen, u.device_ids,
	u.first_platform, u.first_country, u.merged_into, u.ver
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS t(p, a, v)
JOIN identity_users u ON u.project_id = t.p AND u.amplitude_id = t.a
WHERE u.node <> $4 AND u.ver > t.v`, projects, ids, vers, m.node)
	if err != nil {
		return nil, fmt.Errorf("refresh users: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u storage.User
		var props, devices string
		var ver int64
		if err := rows.Scan(&u.ProjectID, &u.AmplitudeID, &u.UserID, &props, &u.FirstSeen, &u.LastSeen, &devices,
			&u.FirstPlatform, &u.FirstCountry, &u.MergedInto, &ver); err != nil {
			return nil, fmt.Errorf("refresh users: %w", err)
		}
		if props != "" {
			u.Properties = []byte(props)
		}
		if err := json.Unmarshal([]byte(devices), &u.DeviceIDs); err != nil {
			return nil, fmt.Errorf("refresh users: device ids of %d: %w", u.AmplitudeID, err)
		}
		m.mu.Lock()
		r := identity.UserRef{ProjectID: u.ProjectID, AmplitudeID: u.AmplitudeID}
		m.seen[r] = max(m.seen[r], ver)
		m.mu.Unlock()
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("refresh users: %w", err)
	}
	return out, nil
}

// Publish upserts the rows of identified users, each with a new version
// and this node's name; of two rows of one user, the later one is kept.
func (m *IdentityMap) Publish(ctx context.Context, users []storage.User) error {
	last := make(map[identity.UserRef]int, len(users))
	keep := make([]storage.User, 0, len(users))
	for _, u := range users {
		if u.UserID == "" {
			continue
		}
		r := identity.UserRef{ProjectID: u.ProjectID, AmplitudeID: u.AmplitudeID}
		if i, ok := last[r]; ok {
			keep[i] = u
			continue
		}
		last[r] = len(keep)
		keep = append(keep, u)
	}
	for len(keep) > 0 {
		n := min(len(keep), claimChunk)
		if err := m.publish(ctx, keep[:n]); err != nil {
			return err
		}
		keep = keep[n:]
	}
	return nil
}

func (m *IdentityMap) publish(ctx context.Context, users []storage.User) error {
	n := len(users)
	projects, ids, firstSeen, lastSeen, merged := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	userIDs, props, devices, platforms, countries := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, u := range users {
		projects[i], ids[i], firstSeen[i], lastSeen[i], merged[i] = u.ProjectID, u.AmplitudeID, u.FirstSeen, u.LastSeen, u.MergedInto
		userIDs[i], props[i], platforms[i], countries[i] = u.UserID, string(u.Properties), u.FirstPlatform, u.FirstCountry
		d := u.DeviceIDs
		if d == nil {
			d = []string{}
		}
		b, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("publish users: %w", err)
		}
		devices[i] = string(b)
	}
	rows, err := m.db.QueryContext(ctx, `
INSERT INTO identity_users (project_id, amplitude_id, user_id, properties, first_seen, last_seen, device_ids,
	first_platform, first_country, merged_into, node)
SELECT t.*, $11 FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[],
	$8::text[], $9::text[], $10::bigint[]) AS t(p, a)
ORDER BY t.p, t.a
ON CONFLICT (project_id, amplitude_id) DO UPDATE SET
	user_id = EXCLUDED.user_id, properties = EXCLUDED.properties, first_seen = EXCLUDED.first_seen,
	last_seen = EXCLUDED.last_seen, device_ids = EXCLUDED.device_ids, first_platform = EXCLUDED.first_platform,
	first_country = EXCLUDED.first_country, merged_into = EXCLUDED.merged_into, node = EXCLUDED.node,
	ver = nextval('identity_users_ver')
RETURNING project_id, amplitude_id, ver`,
		projects, ids, userIDs, props, firstSeen, lastSeen, devices, platforms, countries, merged, m.node)
	if err != nil {
		return fmt.Errorf("publish users: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r identity.UserRef
		var ver int64
		if err := rows.Scan(&r.ProjectID, &r.AmplitudeID, &ver); err != nil {
			return fmt.Errorf("publish users: %w", err)
		}
		m.mu.Lock()
		m.seen[r] = max(m.seen[r], ver)
		m.mu.Unlock()
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("publish users: %w", err)
	}
	return nil
}
