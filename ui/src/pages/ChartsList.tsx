import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { api } from '../api/client';
import { Empty, ErrorBox, Spinner, fmtTime } from '../components/ui';
import { useProject, useProjectId } from '../hooks';
import { rangeLabel } from '../state/url';

export function ChartsList() {
  const pid = useProjectId();
  const { canEdit } = useProject();
  const qc = useQueryClient();
  const charts = useQuery({ queryKey: ['charts', pid], queryFn: () => api.charts(pid) });
  if (charts.isPending) return <Spinner />;
  if (charts.isError) return <ErrorBox error={charts.error} />;
  return (
    <div className="page">
      <div className="page-head"><h1>Saved charts</h1><span className="spacer" />{canEdit && <Link className="button primary" to={`/projects/${pid}/chart`}>New chart</Link>}</div>
      {charts.data.items.length === 0 ? (
        <Empty title="No saved charts yet"><p>Build a chart and save it to find it here and put it on dashboards.</p></Empty>
      ) : (
        <table className="grid">
          <thead><tr><th>Name</th><th>Type</th><th>Range</th><th>Updated</th>{canEdit && <th></th>}</tr></thead>
          <tbody>
            {charts.data.items.map((c) => (
              <tr key={c.id}>
                <td><Link to={`/projects/${pid}/charts/${c.id}`}>{c.name}</Link>{c.description && <div className="muted small">{c.description}</div>}</td>
                <td>{c.definition.type}</td>
                <td>{rangeLabel(c.definition.range)}</td>
                <td>{fmtTime(c.updated)}</td>
                {canEdit && <td><button type="button" className="link danger" onClick={async () => {
                  if (!confirm(`Delete the chart “${c.name}”?`)) return;
                  await api.deleteChart(pid, c.id);
                  await qc.invalidateQueries({ queryKey: ['charts', pid] });
                }}>Delete</button></td>}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
