package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/crest-analytics/crest/internal/meta"
)

const projectCols = `id, org_id, name, time_zone, created`

func scanProject(row interface{ Scan(...any) error }) (meta.Project, error) {
	var p meta.Project
	var created int64
	if err := row.Scan(&p.ID, &p.OrgID, &p.Name, &p.TimeZone, &created); err != nil {
		return meta.Project{}, mapErr(err)
	}
	p.Created = fromMS(created)
	return p, nil
}

// CreateProject implements meta.Store; an empty timeZone means "UTC".
func (s *Store) CreateProject(ctx context.Context, orgID int64, name, timeZone string) (meta.Project, error) {
	var p meta.Project
	err := s.tx(ctx, func(tx *Tx) error {
		var err error
		p, err = createProject(ctx, tx, orgID, name, timeZone, s.now())
		return err
	})
	return p, err
}

func createProject(ctx context.Context, tx *Tx, orgID int64, name, tz string, now time.Time) (meta.Project, error) {
	if tz == "" {
		tz = "UTC"
	}
	p := meta.Project{OrgID: orgID, Name: name, TimeZone: tz, Created: fromMS(ms(now))}
	err := tx.QueryRowContext(ctx, `INSERT INTO projects (org_id, name, time_zone, created) VALUES (?, ?, ?, ?) RETURNING id`,
		orgID, name, tz, ms(now)).Scan(&p.ID)
	return p, mapErr(err)
}

// Project implements meta.Store.
func (s *Store) Project(ctx context.Context, id int64) (meta.Project, error) {
	return scanProject(s.db.QueryRowContext(ctx, `SELECT `+projectCols+` FROM projects WHERE id = ?`, id))
}

// Projects implements meta.Store.
func (s *Store) Projects(ctx context.Context, orgID int64) ([]meta.Project, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+projectCols+` FROM projects WHERE org_id = ? ORDER BY id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []meta.Project
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// UpdateProject implements meta.Store: it sets the name and time zone.
func (s *Store) UpdateProject(ctx context.Context, p meta.Project) error {
	return requireOne(s.db.ExecContext(ctx, `UPDATE projects SET name = ?, time_zone = ? WHERE id = ?`, p.Name, p.TimeZone, p.ID))
}

// ProjectRoles implements meta.Store.
func (s *Store) ProjectRoles(ctx context.Context, projectID int64) ([]meta.ProjectRole, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT r.account_id, a.email, r.role FROM project_roles r
		JOIN accounts a ON a.id = r.account_id WHERE r.project_id = ? ORDER BY a.email`, projectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []meta.ProjectRole
	for rows.Next() {
		r := meta.ProjectRole{ProjectID: projectID}
		if err := rows.Scan(&r.AccountID, &r.Email, &r.Role); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ProjectRole implements meta.Store.
func (s *Store) ProjectRole(ctx context.Context, projectID, accountID int64) (meta.Role, bool, error) {
	var r meta.Role
	err := s.db.QueryRowContext(ctx, `SELECT role FROM project_roles WHERE project_id = ? AND account_id = ?`, projectID, accountID).Scan(&r)
	if err == sql.ErrNoRows {
		return "", false, nil
	}
	return r, err == nil, err
}

// SetProjectRole implements meta.Store.
func (s *Store) SetProjectRole(ctx context.Context, projectID, accountID int64, role meta.Role) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO project_roles (project_id, account_id, role) VALUES (?, ?, ?)
		ON CONFLICT (project_id, account_id) DO UPDATE SET role = excluded.role`, projectID, accountID, string(role))
	return mapErr(err)
}

// DeleteProjectRole implements meta.Store.
func (s *Store) DeleteProjectRole(ctx context.Context, projectID, accountID int64) error {
	return requireOne(s.db.ExecContext(ctx, `DELETE FROM project_roles WHERE project_id = ? AND account_id = ?`, projectID, accountID))
}
