import { useMemo, useState } from 'react';
import { type QueryClient, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { api } from '../api/client';
import type { Dashboard, DashboardItem, Definition, Range, SavedChart } from '../api/types';
import { RangePicker } from '../builder/pickers';
import { cleanDefinition } from '../builder/definition';
import { ResultView, resultCSV } from '../charts/ResultView';
import { Boundary, Empty, ErrorBox, Spinner, download, fmtTime } from '../components/ui';
import { useProject, useProjectId } from '../hooks';
import { decodeRange, defaultRange, encodeState, rangeLabel, withRange } from '../state/url';

export function Dashboards() {
  const pid = useProjectId();
  const { canEdit } = useProject();
  const nav = useNavigate();
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ['dashboards', pid], queryFn: () => api.dashboards(pid) });
  const [name, setName] = useState('');
  const [err, setErr] = useState<unknown>(null);
  if (list.isPending) return <Spinner />;
  if (list.isError) return <ErrorBox error={list.error} />;
  return (
    <div className="page">
      <h1>Dashboards</h1>
      {canEdit && (
        <form className="toolbar" onSubmit={async (e) => {
          e.preventDefault();
          try {
            const d = await api.createDashboard(pid, { name, description: '', items: [] });
            await qc.invalidateQueries({ queryKey: ['dashboards', pid] });
            nav(`/projects/${pid}/dashboards/${d.id}`);
          } catch (e) { setErr(e); }
        }}>
          <label>New dashboard<input required value={name} onChange={(e) => setName(e.target.value)} placeholder="Weekly growth" /></label>
          <button type="submit" className="primary">Create</button>
        </form>
      )}
      {err !== null && <ErrorBox error={err} />}
      {list.data.items.length === 0 ? (
        <Empty title="No dashboards yet"><p>Dashboards gather saved charts on one page your team can share by its link.</p></Empty>
      ) : (
        <ul className="tiles">
          {list.data.items.map((d) => (
            <li key={d.id}><Link to={`/projects/${pid}/dashboards/${d.id}`}><strong>{d.name}</strong>
              <span className="muted small">{d.items.length} chart(s) · updated {fmtTime(d.updated)}</span></Link></li>
          ))}
        </ul>
      )}
    </div>
  );
}

const widths = [{ w: 4, label: 'Third' }, { w: 6, label: 'Half' }, { w: 12, label: 'Full' }];

/** DashboardPage shows a grid of saved charts; members add, remove, resize and reorder them. */
export function DashboardPage() {
  const pid = useProjectId();
  const did = Number(useParams().did);
  const { canEdit, project } = useProject();
  const qc = useQueryClient();
  const nav = useNavigate();
  const [params, setParams] = useSearchParams();
  // Stable while the link's range stays: tiles redraw only when their
  // definition or result changes, not on every render of the page.
  const rangeParam = params.get('range');
  const override = useMemo(() => decodeRange(rangeParam ? new URLSearchParams({ range: rangeParam }).toString() : ''), [rangeParam]);
  const dash = useQuery({ queryKey: ['dashboard', pid, did], queryFn: () => api.dashboard(pid, did) });
  const charts = useQuery({ queryKey: ['charts', pid], queryFn: () => api.charts(pid) });
  const [editing, setEditing] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  const [adding, setAdding] = useState('');
  if (dash.isPending) return <Spinner />;
  if (dash.isError) return <ErrorBox error={dash.error} title="Cannot open this dashboard" />;
  const d = dash.data;
  const byId = new Map((charts.data?.items ?? []).map((c) => [c.id, c]));
  const save = async (items: DashboardItem[], patch: Partial<Dashboard> = {}) => {
    setErr(null);
    try {
      const u = await api.updateDashboard(pid, did, { name: patch.name ?? d.name, description: patch.description ?? d.description, items });
      qc.setQueryData(['dashboard', pid, did], u);
      await qc.invalidateQueries({ queryKey: ['dashboards', pid] });
    } catch (e) { setErr(e); }
  };
  const move = (i: number, by: number) => {
    const items = [...d.items];
    const j = i + by;
    if (j < 0 || j >= items.length) return;
    [items[i], items[j]] = [items[j], items[i]];
    void save(items);
  };
  const setRange = (r: Range | null) => {
    const p = new URLSearchParams(params);
    if (r) p.set('range', JSON.stringify(r)); else p.delete('range');
    setParams(p, { replace: true });
  };
  return (
    <div className="page dashboard">
      <div className="page-head">
        <h1>{d.name}</h1>
        <span className="spacer" />
        <button type="button" onClick={() => void qc.invalidateQueries({ queryKey: ['query', pid] })}>Refresh</button>
        <button type="button" onClick={() => void navigator.clipboard?.writeText(location.href)}>Copy link</button>
        {canEdit && <button type="button" className={editing ? 'primary' : ''} onClick={() => setEditing(!editing)}>{editing ? 'Done' : 'Edit dashboard'}</button>}
      </div>
      {d.description && <p className="muted">{d.description}</p>}
      <div className="range-bar">
        <label className="check"><input type="checkbox" checked={override !== null} onChange={(e) => setRange(e.target.checked ? defaultRange : null)} /> Same date range for every chart</label>
        {override && <RangePicker value={override} onChange={setRange} timeZone={project?.time_zone} />}
        {!override && <span className="muted small">Each chart uses its own range.</span>}
      </div>
      {err !== null && <ErrorBox error={err} title="Cannot change the dashboard" />}
      {editing && (
        <div className="toolbar">
          <label>Add a saved chart
            <select value={adding} onChange={(e) => setAdding(e.target.value)}>
              <option value="">Choose…</option>
              {(charts.data?.items ?? []).map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
            </select>
          </label>
          <button type="button" disabled={!adding} onClick={() => { void save([...d.items, { chart_id: Number(adding), width: 6, height: 2 }]); setAdding(''); }}>Add</button>
          <Link to={`/projects/${pid}/chart`}>Build a new chart</Link>
          <span className="spacer" />
          <form className="inline" onSubmit={(e) => {
            e.preventDefault();
            const f = new FormData(e.currentTarget);
            void save(d.items, { name: String(f.get('name') ?? ''), description: String(f.get('description') ?? '') });
          }}>
            <label>Name<input name="name" required defaultValue={d.name} /></label>
            <label>Description<input name="description" defaultValue={d.description} /></label>
            <button type="submit">Rename</button>
          </form>
          <button type="button" className="danger" onClick={async () => {
            if (!confirm(`Delete the dashboard “${d.name}”? Its charts stay saved.`)) return;
            try {
              await api.deleteDashboard(pid, did);
              await qc.invalidateQueries({ queryKey: ['dashboards', pid] });
              nav(`/projects/${pid}/dashboards`);
            } catch (e) { setErr(e); }
          }}>Delete dashboard</button>
        </div>
      )}
      {d.items.length === 0 ? (
        <Empty title="This dashboard is empty">{canEdit ? <p>Open a saved chart and choose “Add to dashboard”, or edit this dashboard to add one.</p> : <p>Members of the project can add charts to it.</p>}</Empty>
      ) : (
        <div className="dash-grid">
          {d.items.map((it, i) => (
            <div key={i} className="tile" style={{ gridColumn: `span ${it.width}` }} data-testid="dashboard-tile">
              <Tile pid={pid} chart={byId.get(it.chart_id)} loading={charts.isPending} height={it.height} override={override} />
              {editing && (
                <div className="tile-edit" role="group" aria-label="Arrange chart">
                  <button type="button" onClick={() => move(i, -1)} disabled={i === 0} aria-label="Move earlier">←</button>
                  <button type="button" onClick={() => move(i, 1)} disabled={i === d.items.length - 1} aria-label="Move later">→</button>
                  <select aria-label="Width" value={it.width} onChange={(e) => void save(d.items.map((x, j) => (j === i ? { ...x, width: Number(e.target.value) } : x)))}>
                    {widths.map((w) => <option key={w.w} value={w.w}>{w.label}</option>)}
                  </select>
                  <select aria-label="Height" value={it.height} onChange={(e) => void save(d.items.map((x, j) => (j === i ? { ...x, height: Number(e.target.value) } : x)))}>
                    {[1, 2, 3].map((h) => <option key={h} value={h}>{['Short', 'Medium', 'Tall'][h - 1]}</option>)}
                  </select>
                  <button type="button" className="danger" onClick={() => void save(d.items.filter((_, j) => j !== i))}>Remove</button>
                </div>
              )}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

/** tileDefinition is what a dashboard tile runs: its chart's definition with the dashboard's range override. */
function tileDefinition(chart: SavedChart, override: Range | null): Definition {
  return cleanDefinition(withRange(chart.definition, override));
}

/** tileKey is the query key of a tile's result (shared with the chart builder's cache). */
function tileKey(pid: number, def: Definition | null) {
  return ['query', pid, def?.type, JSON.stringify(def)];
}

/**
 * prefetchDashboard starts a dashboard's chart list and every tile's
 * query as soon as the app's script runs (main.tsx), instead of after the
 * session, the layout and the page have rendered: the queries are most of
 * a dashboard's time. Failures are left to the page's own requests.
 */
export async function prefetchDashboard(qc: QueryClient, pid: number, did: number, search: string): Promise<void> {
  const [d, cs] = await Promise.all([
    qc.fetchQuery({ queryKey: ['dashboard', pid, did], queryFn: () => api.dashboard(pid, did) }),
    qc.fetchQuery({ queryKey: ['charts', pid], queryFn: () => api.charts(pid) }),
  ]);
  const override = decodeRange(new URLSearchParams(search).toString());
  const byId = new Map(cs.items.map((c) => [c.id, c]));
  for (const it of d.items) {
    const chart = byId.get(it.chart_id);
    if (!chart) continue;
    const def = tileDefinition(chart, override);
    void qc.prefetchQuery({ queryKey: tileKey(pid, def), queryFn: () => api.query(pid, def), staleTime: 60_000 });
  }
}

function Tile({ pid, chart, loading, height, override }: { pid: number; chart?: SavedChart; loading: boolean; height: number; override: Range | null }) {
  const def = useMemo(() => (chart ? tileDefinition(chart, override) : null), [chart, override]);
  const [q] = useQueries({
    queries: [{ queryKey: tileKey(pid, def), queryFn: () => api.query(pid, def!), enabled: def !== null, staleTime: 60_000 }],
  });
  if (!chart) return loading ? <Spinner /> : <div className="muted">This chart was deleted.</div>;
  const viz = chart.options.viz ?? 'line';
  return (
    <>
      <div className="tile-head">
        <Link to={`/projects/${pid}/charts/${chart.id}` + encodeState({ def: def!, viz })}><strong>{chart.name}</strong></Link>
        <span className="muted small">{rangeLabel(def!.range)}</span>
        <span className="spacer" />
        {q.data && <button type="button" className="link small" onClick={() => download(`${chart.name}.csv`, resultCSV(def!, q.data.result))}>CSV</button>}
      </div>
      {q.isPending ? <Spinner label="Loading chart…" /> : q.isError ? <ErrorBox error={q.error} title="Chart failed" /> : (
        <Boundary><ResultView def={def!} result={q.data.result} viz={viz === 'table' && def!.type === 'segmentation' ? 'line' : viz} height={120 + height * 100} table={false} /></Boundary>
      )}
    </>
  );
}
