package identity

import (
	"context"
	"slices"
	"sync"

	"github.com/crest-analytics/crest/internal/storage"
)

// MemMap is a SharedMap kept in memory, for several nodes in one process
// (tests). Node returns each node's view.
type MemMap struct {
	mu     sync.Mutex
	claims map[strKey]memClaim
	users  map[UserRef]memUser
	ver    int64
}

type memClaim struct {
	id   int64
	node string
}

type memUser struct {
	row  storage.User
	node string
	ver  int64
}

// NewMemMap returns an empty MemMap.
func NewMemMap() *MemMap {
	return &MemMap{claims: make(map[strKey]memClaim), users: make(map[UserRef]memUser)}
}

// Node returns the SharedMap of the node named name.
func (m *MemMap) Node(name string) SharedMap {
	return &memNode{m: m, name: name, seen: make(map[UserRef]int64)}
}

// Claimed returns the amplitude_id and node holding the claim of userID.
func (m *MemMap) Claimed(projectID int64, userID string) (id int64, node string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.claims[strKey{projectID, userID}]
	return c.id, c.node
}

type memNode struct {
	m    *MemMap
	name string
	seen map[UserRef]int64
}

func (n *memNode) Claim(_ context.Context, claims []Claim) error {
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	for i := range claims {
		c := &claims[i]
		k := strKey{c.ProjectID, c.UserID}
		w, ok := n.m.claims[k]
		if !ok {
			w = memClaim{c.Proposed, n.name}
			n.m.claims[k] = w
		}
		c.AmplitudeID, c.Node = w.id, w.node
	}
	return nil
}

func (n *memNode) Refresh(_ context.Context, refs []UserRef) ([]storage.User, error) {
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	var out []storage.User
	for _, r := range refs {
		u, ok := n.m.users[r]
		if !ok || u.node == n.name || u.ver <= n.seen[r] {
			continue
		}
		n.seen[r] = u.ver
		row := u.row
		row.DeviceIDs = slices.Clone(row.DeviceIDs)
		out = append(out, row)
	}
	return out, nil
}

func (n *memNode) Publish(_ context.Context, users []storage.User) error {
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	for _, u := range users {
		if u.UserID == "" {
			continue
		}
		r := UserRef{u.ProjectID, u.AmplitudeID}
		n.m.ver++
		u.DeviceIDs = slices.Clone(u.DeviceIDs)
		n.m.users[r] = memUser{row: u, node: n.name, ver: n.m.ver}
		n.seen[r] = n.m.ver
	}
	return nil
}
