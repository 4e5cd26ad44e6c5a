package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/crest-analytics/crest/internal/meta"
)

const chartCols = `id, project_id, name, description, definition, options, created_by, created, updated`

func scanChart(row interface{ Scan(...any) error }) (meta.Chart, error) {
	var c meta.Chart
	var def, opts string
	var created, updated int64
	if err := row.Scan(&c.ID, &c.ProjectID, &c.Name, &c.Description, &def, &opts, &c.CreatedBy, &created, &updated); err != nil {
		return meta.Chart{}, mapErr(err)
	}
	c.Definition, c.Options = json.RawMessage(def), json.RawMessage(opts)
	c.Created, c.Updated = fromMS(created), fromMS(updated)
	return c, nil
}

func jsonText(raw json.RawMessage, empty string) string {
	if len(raw) == 0 {
		return empty
	}
	return string(raw)
}

// CreateChart implements meta.Store.
func (s *Store) CreateChart(ctx context.Context, c meta.Chart) (meta.Chart, error) {
	now := ms(s.now())
	return scanChart(s.db.QueryRowContext(ctx, `INSERT INTO charts (project_id, name, description, definition, options, created_by, created, updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+chartCols,
		c.ProjectID, c.Name, c.Description, jsonText(c.Definition, "{}"), jsonText(c.Options, "{}"), c.CreatedBy, now, now))
}

// Chart implements meta.Store.
func (s *Store) Chart(ctx context.Context, projectID, id int64) (meta.Chart, error) {
	return scanChart(s.db.QueryRowContext(ctx, `SELECT `+chartCols+` FROM charts WHERE project_id = ? AND id = ?`, projectID, id))
}

// Charts implements meta.Store.
func (s *Store) Charts(ctx context.Context, projectID int64) ([]meta.Chart, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+chartCols+` FROM charts WHERE project_id = ? ORDER BY updated DESC, id DESC`, projectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []meta.Chart{}
	for rows.Next() {
		c, err := scanChart(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// UpdateChart implements meta.Store.
func (s *Store) UpdateChart(ctx context.Context, c meta.Chart) (meta.Chart, error) {
	return scanChart(s.db.QueryRowContext(ctx, `UPDATE charts SET name = ?, description = ?, definition = ?, options = ?, updated = ?
		WHERE project_id = ? AND id = ? RETURNING `+chartCols,
		c.Name, c.Description, jsonText(c.Definition, "{}"), jsonText(c.Options, "{}"), ms(s.now()), c.ProjectID, c.ID))
}

// DeleteChart implements meta.Store.
func (s *Store) DeleteChart(ctx context.Context, projectID, id int64) error {
	return s.deleteRow(ctx, `DELETE FROM charts WHERE project_id = ? AND id = ?`, projectID, id)
}

func (s *Store) deleteRow(ctx context.Context, q string, args ...any) error {
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return meta.ErrNotFound
	}
	return nil
}

const dashboardCols = `id, project_id, name, description, items, created_by, created, updated`

func scanDashboard(row interface{ Scan(...any) error }) (meta.Dashboard, error) {
	var d meta.Dashboard
	var items string
	var created, updated int64
	if err := row.Scan(&d.ID, &d.ProjectID, &d.Name, &d.Description, &items, &d.CreatedBy, &created, &updated); err != nil {
		return meta.Dashboard{}, mapErr(err)
	}
	if err := json.Unmarshal([]byte(items), &d.Items); err != nil {
		return meta.Dashboard{}, fmt.Errorf("dashboard %d items: %w", d.ID, err)
	}
	if d.Items == nil {
		d.Items = []meta.DashboardItem{}
	}
	d.Created, d.Updated = fromMS(created), fromMS(updated)
	return d, nil
}

func itemsText(items []meta.DashboardItem) (string, error) {
	if items == nil {
		items = []meta.DashboardItem{}
	}
	b, err := json.Marshal(items)
	if err != nil {
		return "", fmt.Errorf("dashboard items: %w", err)
	}
	return string(b), nil
}

// CreateDashboard implements meta.Store.
func (s *Store) CreateDashboard(ctx context.Context, d meta.Dashboard) (meta.Dashboard, error) {
	items, err := itemsText(d.Items)
	if err != nil {
		return meta.Dashboard{}, err
	}
	now := ms(s.now())
	return scanDashboard(s.db.QueryRowContext(ctx, `INSERT INTO dashboards (project_id, name, description, items, created_by, created, updated)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING `+dashboardCols, d.ProjectID, d.Name, d.Description, items, d.CreatedBy, now, now))
}

// Dashboard implements meta.Store.
func (s *Store) Dashboard(ctx context.Context, projectID, id int64) (meta.Dashboard, error) {
	return scanDashboard(s.db.QueryRowContext(ctx, `SELECT `+dashboardCols+` FROM dashboards WHERE project_id = ? AND id = ?`, projectID, id))
}

// Dashboards implements meta.Store.
func (s *Store) Dashboards(ctx context.Context, projectID int64) ([]meta.Dashboard, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+dashboardCols+` FROM dashboards WHERE project_id = ? ORDER BY updated DESC, id DESC`, projectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []meta.Dashboard{}
	for rows.Next() {
		d, err := scanDashboard(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// UpdateDashboard implements meta.Store.
func (s *Store) UpdateDashboard(ctx context.Context, d meta.Dashboard) (meta.Dashboard, error) {
	items, err := itemsText(d.Items)
	if err != nil {
		return meta.Dashboard{}, err
	}
	return scanDashboard(s.db.QueryRowContext(ctx, `UPDATE dashboards SET name = ?, description = ?, items = ?, updated = ?
		WHERE project_id = ? AND id = ? RETURNING `+dashboardCols, d.Name, d.Description, items, ms(s.now()), d.ProjectID, d.ID))
}

// DeleteDashboard implements meta.Store.
func (s *Store) DeleteDashboard(ctx context.Context, projectID, id int64) error {
	return s.deleteRow(ctx, `DELETE FROM dashboards WHERE project_id = ? AND id = ?`, projectID, id)
}
