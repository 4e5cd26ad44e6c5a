package sqlstore

import (
	"context"
	"time"

	"github.com/crest-analytics/crest/internal/meta"
)

const sessionCols = `id, account_id, token_hash, created, expires, last_seen, revoked, last_address`

func scanSession(row interface{ Scan(...any) error }) (meta.Session, error) {
	var x meta.Session
	var created, expires, seen int64
	var revoked int
	if err := row.Scan(&x.ID, &x.AccountID, &x.TokenHash, &created, &expires, &seen, &revoked, &x.LastAddress); err != nil {
		return meta.Session{}, mapErr(err)
	}
	x.Created, x.Expires, x.LastSeen, x.Revoked = fromMS(created), fromMS(expires), fromMS(seen), revoked != 0
	return x, nil
}

// CreateSession implements meta.Store.
func (s *Store) CreateSession(ctx context.Context, x meta.Session) (meta.Session, error) {
	err := s.db.QueryRowContext(ctx, `INSERT INTO sessions (account_id, token_hash, created, expires, last_seen, last_address)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		x.AccountID, x.TokenHash, ms(x.Created), ms(x.Expires), ms(x.LastSeen), x.LastAddress).Scan(&x.ID)
	return x, mapErr(err)
}

// SessionByTokenHash implements meta.Store.
func (s *Store) SessionByTokenHash(ctx context.Context, tokenHash string) (meta.Session, error) {
	return scanSession(s.db.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE token_hash = ?`, tokenHash))
}

// TouchSession implements meta.Store.
func (s *Store) TouchSession(ctx context.Context, id int64, at time.Time, addr string) error {
	return requireOne(s.db.ExecContext(ctx, `UPDATE sessions SET last_seen = ?, last_address = ? WHERE id = ?`, ms(at), addr, id))
}

// Sessions implements meta.Store.
func (s *Store) Sessions(ctx context.Context, accountID int64) ([]meta.Session, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sessionCols+` FROM sessions
		WHERE account_id = ? AND revoked = 0 AND expires > ? ORDER BY id DESC`, accountID, ms(s.now()))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []meta.Session
	for rows.Next() {
		x, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// RevokeSession implements meta.Store.
func (s *Store) RevokeSession(ctx context.Context, accountID, sessionID int64) error {
	return requireOne(s.db.ExecContext(ctx, `UPDATE sessions SET revoked = 1 WHERE id = ? AND account_id = ?`, sessionID, accountID))
}

// RevokeSessions implements meta.Store.
func (s *Store) RevokeSessions(ctx context.Context, accountID, exceptID int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sessions SET revoked = 1 WHERE account_id = ? AND id <> ?`, accountID, exceptID)
	return err
}
