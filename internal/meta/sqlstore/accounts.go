package sqlstore

import (
	"context"
	"time"

	"github.com/crest-analytics/crest/internal/meta"
)

const accountCols = `id, email, password_hash, created, disabled`

func scanAccount(row interface{ Scan(...any) error }) (meta.Account, error) {
	var a meta.Account
	var created int64
	var disabled int
	if err := row.Scan(&a.ID, &a.Email, &a.PasswordHash, &created, &disabled); err != nil {
		return meta.Account{}, mapErr(err)
	}
	a.Created, a.Disabled = fromMS(created), disabled != 0
	return a, nil
}

// CountAccounts implements meta.Store.
func (s *Store) CountAccounts(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n)
	return n, err
}

// CreateAccount implements meta.Store. The email is stored lowercased.
func (s *Store) CreateAccount(ctx context.Context, email, passwordHash string) (meta.Account, error) {
	var a meta.Account
	err := s.tx(ctx, func(tx *Tx) error {
		var err error
		a, err = createAccount(ctx, tx, email, passwordHash, s.now())
		return err
	})
	return a, err
}

func createAccount(ctx context.Context, tx *Tx, email, hash string, now time.Time) (meta.Account, error) {
	a := meta.Account{Email: normEmail(email), PasswordHash: hash, Created: fromMS(now.UnixMilli())}
	err := tx.QueryRowContext(ctx, `INSERT INTO accounts (email, password_hash, created) VALUES (?, ?, ?) RETURNING id`,
		a.Email, hash, now.UnixMilli()).Scan(&a.ID)
	return a, mapErr(err)
}

// Account implements meta.Store.
func (s *Store) Account(ctx context.Context, id int64) (meta.Account, error) {
	return scanAccount(s.db.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`, id))
}

// AccountByEmail implements meta.Store; the match ignores case.
func (s *Store) AccountByEmail(ctx context.Context, email string) (meta.Account, error) {
	return scanAccount(s.db.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE email = ?`, normEmail(email)))
}

// SetPassword implements meta.Store.
func (s *Store) SetPassword(ctx context.Context, accountID int64, passwordHash string) error {
	return requireOne(s.db.ExecContext(ctx, `UPDATE accounts SET password_hash = ? WHERE id = ?`, passwordHash, accountID))
}

// SetDisabled implements meta.Store.
func (s *Store) SetDisabled(ctx context.Context, accountID int64, disabled bool) error {
	return requireOne(s.db.ExecContext(ctx, `UPDATE accounts SET disabled = ? WHERE id = ?`, boolInt(disabled), accountID))
}
