import { useEffect, useState } from 'react';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { api, ApiError } from '../api/client';
import type {
  AnalysisType, AnyPoint, Definition, FunnelDef, SavedChart, Interval, Metric, RetentionDef, Segment, SegmentationDef, SessionFilter, SessionMetric, SessionsDef,
  StepSpec, Viz,
} from '../api/types';
import { EventRow, FilterRow, PropertyPicker, RangePicker } from '../builder/pickers';
import { cleanDefinition, isEventMetric, letter, missing, sessionMetrics } from '../builder/definition';
import { ResultView, resultCSV, type PointClick } from '../charts/ResultView';
import { PointUsersPanel, pointFor, segmentationPick } from '../charts/PointUsers';
import type { Pick } from '../charts/points';
import { removeStep, setOptionalStep } from '../builder/funnel';
import { Boundary, ErrorBox, Spinner, Tabs, download, errorText } from '../components/ui';
import { useProject, useProjectId } from '../hooks';
import { decodeState, defaultDefinition, encodeState, rangeLabel, vizFor } from '../state/url';

/** useDebounced returns value once it has stopped changing for ms. */
function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

const metrics: { key: Metric; label: string }[] = [
  { key: 'uniques', label: 'Uniques' }, { key: 'totals', label: 'Event totals' }, { key: 'active_pct', label: 'Active %' },
  { key: 'average', label: 'Average per user' }, { key: 'frequency', label: 'Frequency' },
  { key: 'prop_sum', label: 'Sum of property' }, { key: 'prop_avg', label: 'Average of property' },
  { key: 'prop_min', label: 'Min of property' }, { key: 'prop_max', label: 'Max of property' },
  { key: 'prop_median', label: 'Median of property' }, { key: 'prop_distribution', label: 'Distribution of property' },
  { key: 'formula', label: 'Formula' },
];
const intervalsFor: Record<AnalysisType, Interval[]> = {
  segmentation: ['realtime', 'hour', 'day', 'week', 'month', 'quarter'],
  funnel: ['hour', 'day', 'week', 'month'],
  retention: ['day', 'week', 'month'],
  sessions: ['day', 'week', 'month'],
};
const typeTabs: { key: AnalysisType; label: string }[] = [
  { key: 'segmentation', label: 'Event segmentation' }, { key: 'funnel', label: 'Funnel' },
  { key: 'retention', label: 'Retention' }, { key: 'sessions', label: 'Sessions' },
];
const vizLabels: Record<Viz, string> = {
  line: 'Line', area: 'Stacked area', bar: 'Bar', table: 'Table', steps: 'Conversion by step',
  over_time: 'Conversion over time', time_to_convert: 'Time to convert', grid: 'Heat grid', curve: 'Curve',
};

export function ChartBuilder() {
  const pid = useProjectId();
  const { cid } = useParams();
  const chartId = cid ? Number(cid) : 0;
  const [params, setParams] = useSearchParams();
  const saved = useQuery({ queryKey: ['chart', pid, chartId], queryFn: () => api.chart(pid, chartId), enabled: chartId > 0 });

  // A saved chart's link without state opens the chart as saved.
  const seed = chartId > 0 && !params.get('q');
  useEffect(() => {
    if (seed && saved.data) {
      setParams(encodeState({ def: saved.data.definition, viz: saved.data.options.viz ?? 'line' }), { replace: true });
    }
  }, [seed, saved.data, setParams]);

  if (chartId && saved.isError) return <ErrorBox error={saved.error} title="Cannot open this chart" />;
  if ((chartId && saved.isPending) || seed) return <Spinner />;
  // Keyed by chart, so the builder starts from the URL's state at once.
  return <Builder key={chartId} pid={pid} chartId={chartId} saved={saved.data} />;
}

function Builder({ pid, chartId, saved }: { pid: number; chartId: number; saved?: SavedChart }) {
  const [params, setParams] = useSearchParams();
  const { project, canEdit } = useProject();
  const state = decodeState(params.toString());
  const { def, viz } = state;
  const setDef = (d: Definition) => setParams(encodeState({ def: d, viz }), { replace: true });
  const setViz = (v: Viz) => setParams(encodeState({ def, viz: v }), { replace: true });

  const pending = useDebounced(def, 350);
  const need = missing(pending);
  const sent = cleanDefinition(pending);
  const result = useQuery({
    queryKey: ['query', pid, sent.type, JSON.stringify(sent)],
    queryFn: () => api.query(pid, sent),
    enabled: need === null,
    // While a changed chart runs, keep showing the last result of the same type.
    placeholderData: (prev, prevQuery) => (prevQuery?.queryKey[2] === sent.type ? keepPreviousData(prev) : undefined),
    staleTime: 60_000,
  });
  // The data point whose users are listed, with the definition it came from.
  const [picked, setPicked] = useState<{ def: Definition; point: AnyPoint; title: string; noun: string } | null>(null);
  const canList = sent.type === 'segmentation' ? !sent.rolling && !sent.cumulative : sent.type === 'funnel' || (sent.type === 'retention' && sent.view !== 'usage_interval');
  const onPoint = (c: PointClick) => {
    const point = pointFor(sent, c.series, c.x);
    if (point) setPicked({ def: sent, ...segmentationPick(point, c.series) });
  };
  const onPick = (p: Pick) => setPicked({ def: sent, ...p });

  return (
    <div className="page builder">
      <div className="page-head">
        <h1>{saved ? saved.name : 'New chart'}</h1>
        {saved?.description && <p className="muted">{saved.description}</p>}
      </div>
      <Tabs label="Analysis" value={def.type} tabs={typeTabs}
        onChange={(t) => setDef(t === def.type ? def : { ...defaultDefinition(t), range: def.range })} />
      <div className="builder-grid">
        <aside className="panel" aria-label="Chart definition">
          {def.type === 'segmentation' && <SegmentationForm pid={pid} def={def} onChange={setDef} />}
          {def.type === 'funnel' && <FunnelForm pid={pid} def={def} onChange={setDef} />}
          {def.type === 'retention' && <RetentionForm pid={pid} def={def} onChange={setDef} />}
          {def.type === 'sessions' && <SessionsForm pid={pid} def={def} onChange={setDef} />}
          <SegmentsForm pid={pid} segments={def.segments ?? []} onChange={(segments) => setDef({ ...def, segments } as Definition)} />
          <RangePicker value={def.range} timeZone={project?.time_zone} onChange={(range) => setDef({ ...def, range } as Definition)} />
          <label>Interval
            <select value={def.interval ?? 'day'} onChange={(e) => setDef({ ...def, interval: e.target.value as Interval } as Definition)}>
              {intervalsFor[def.type].map((i) => <option key={i} value={i}>{i === 'realtime' ? 'real-time (5 min)' : i}</option>)}
            </select>
          </label>
        </aside>
        <section className="panel result-panel" aria-label="Result">
          <div className="result-head">
            {def.type === 'retention' && def.view === 'usage_interval'
              ? <strong className="small">Usage interval</strong>
              : <Tabs label="Visualisation" value={viz} onChange={setViz} tabs={vizFor[def.type].map((v) => ({ key: v, label: vizLabels[v] }))} />}
            <span className="muted small">{rangeLabel(def.range)} · {project?.time_zone ?? 'UTC'}</span>
            <span className="spacer" />
            {result.isFetching && <span className="muted small" role="status">Updating…</span>}
            <span className="actions">
              <button type="button" disabled={!result.data} onClick={() => result.data && download(`${saved?.name ?? def.type}.csv`, resultCSV(cleanDefinition(def), result.data.result))}>Download CSV</button>
              <button type="button" onClick={() => void navigator.clipboard?.writeText(location.href)} title="Copy a link to this exact view">Copy link</button>
            </span>
          </div>
          {pending.type !== def.type ? (
            <Spinner label="Running the analysis…" />
          ) : need !== null ? (
            <div className="empty"><h3>Almost there</h3><p>{need}</p></div>
          ) : result.isError ? (
            <QueryError error={result.error} type={def.type} />
          ) : result.isPending ? (
            <Spinner label="Running the analysis…" />
          ) : (
            <div className={result.isPlaceholderData || JSON.stringify(def) !== JSON.stringify(pending) ? 'stale' : ''}>
              <Boundary key={sent.type}><ResultView def={sent} result={result.data.result} viz={viz} onPoint={canList ? onPoint : undefined} onPick={canList ? onPick : undefined} /></Boundary>
              {canList && !picked && <p className="muted small">Click {sent.type === 'funnel' ? 'a bar' : sent.type === 'retention' ? 'a cell' : 'a point'} or a table cell to list the users behind it.</p>}
            </div>
          )}
          {picked && picked.def.type === sent.type && (
            <PointUsersPanel key={JSON.stringify(picked)} pid={pid} def={picked.def} point={picked.point} title={picked.title} noun={picked.noun} onClose={() => setPicked(null)} />
          )}
          {canEdit ? <SaveBar pid={pid} chartId={chartId} def={cleanDefinition(def)} viz={viz} savedName={saved?.name} savedDescription={saved?.description} />
            : <p className="muted small" data-testid="viewer-note">You have view access: you can explore and share this chart, but not save it.</p>}
        </section>
      </div>
    </div>
  );
}

function QueryError({ error, type }: { error: unknown; type: AnalysisType }) {
  if (type !== 'segmentation' && error instanceof ApiError && error.status === 400 && /type/.test(error.message)) {
    return <div className="empty" role="alert"><h3>Not available yet</h3><p>This server does not run {type} analyses yet ({errorText(error)}).</p></div>;
  }
  return <ErrorBox error={error} title="The analysis failed" />;
}

function SegmentationForm({ pid, def, onChange }: { pid: number; def: SegmentationDef; onChange: (d: Definition) => void }) {
  const metric = def.metric ?? 'uniques';
  const needsProp = metric.startsWith('prop_');
  return (
    <>
      <fieldset>
        <legend>Events</legend>
        {def.events.map((e, i) => (
          <EventRow key={i} pid={pid} letter={letter(i)} value={e} property={needsProp}
            onChange={(ne) => onChange({ ...def, events: def.events.map((x, j) => (j === i ? ne : x)) })}
            onRemove={def.events.length > 1 ? () => onChange({ ...def, events: def.events.filter((_, j) => j !== i) }) : undefined} />
        ))}
        {def.events.length < 10 && <button type="button" className="link" onClick={() => onChange({ ...def, events: [...def.events, { event_type: '' }] })}>+ Add event</button>}
      </fieldset>
      <fieldset>
        <legend>Measured as</legend>
        <select aria-label="Metric" value={metric} onChange={(e) => onChange({ ...def, metric: e.target.value as Metric })}>
          {metrics.map((m) => <option key={m.key} value={m.key}>{m.label}</option>)}
        </select>
        {metric === 'formula' && (
          <label>Formula <span className="muted small">(letters are events; ; separates formulas)</span>
            <input value={def.formula ?? ''} placeholder="UNIQUES(A) / UNIQUES(B)" onChange={(e) => onChange({ ...def, formula: e.target.value })} />
          </label>
        )}
        <label className="check"><input type="checkbox" checked={!!def.cumulative} disabled={!['uniques', 'totals', 'prop_sum'].includes(metric)}
          onChange={(e) => onChange({ ...def, cumulative: e.target.checked || undefined, rolling: undefined })} /> Cumulative</label>
        <label className="check"><input type="checkbox" checked={!!def.rolling}
          onChange={(e) => onChange({ ...def, rolling: e.target.checked ? { window: 7, mode: 'average' } : undefined, cumulative: undefined })} /> Rolling</label>
        {def.rolling && (
          <div className="inline">
            <label>over <input type="number" min={1} max={90} value={def.rolling.window} aria-label="Rolling window"
              onChange={(e) => onChange({ ...def, rolling: { ...def.rolling!, window: Math.max(1, Number(e.target.value) || 1) } })} /> intervals</label>
            <select aria-label="Rolling mode" value={def.rolling.mode ?? 'average'} onChange={(e) => onChange({ ...def, rolling: { ...def.rolling!, mode: e.target.value as 'average' | 'window' } })}>
              <option value="average">average</option><option value="window">window</option>
            </select>
          </div>
        )}
      </fieldset>
      <fieldset>
        <legend>Compare to past</legend>
        <select aria-label="Compare to past" value={def.compare ? (def.compare.period ?? String(def.compare.days)) : ''}
          onChange={(e) => {
            const v = e.target.value;
            onChange({ ...def, compare: v === '' ? undefined : v === 'previous' ? { period: 'previous' } : { days: Number(v) } });
          }}>
          <option value="">No comparison</option>
          <option value="previous">Previous period</option>
          <option value="7">7 days earlier</option>
          <option value="28">28 days earlier</option>
          <option value="365">A year earlier</option>
        </select>
      </fieldset>
    </>
  );
}

/** StepRow edits a funnel step or retention event: an event and its filters. */
function StepRow({ pid, letter, value, onChange, onRemove, noun = 'Step' }: {
  pid: number; letter: string; value: StepSpec; onChange: (e: StepSpec) => void; onRemove?: () => void; noun?: string;
}) {
  return <EventRow pid={pid} letter={letter} value={value} groupBy={false} noun={noun} onChange={(e) => onChange({ ...value, event_type: e.event_type, filters: e.filters })} onRemove={onRemove} />;
}

const windowUnits: { s: number; label: string }[] = [{ s: 1, label: 'seconds' }, { s: 60, label: 'minutes' }, { s: 3600, label: 'hours' }, { s: 86400, label: 'days' }];

function FunnelForm({ pid, def, onChange }: { pid: number; def: FunnelDef; onChange: (d: Definition) => void }) {
  const win = def.window_seconds ?? 86400;
  const unit = [...windowUnits].reverse().find((u) => win % u.s === 0) ?? windowUnits[0];
  const exclusions = def.exclusions ?? [];
  const hold = def.hold ?? [];
  return (
    <>
      <fieldset>
        <legend>Steps</legend>
        {def.steps.map((e, i) => (
          <div key={i}>
            <StepRow pid={pid} letter={String(i + 1)} value={e}
              onChange={(ne) => onChange({ ...def, steps: def.steps.map((x, j) => (j === i ? ne : x)) })}
              onRemove={def.steps.length > 2 ? () => onChange(removeStep(def, i)) : undefined} />
            {i > 0 && i < def.steps.length - 1 && (
              <label className="check small"><input type="checkbox" checked={!!e.optional} onChange={(ev) => onChange(setOptionalStep(def, ev.target.checked ? i : -1))} /> Step {i + 1} is optional</label>
            )}
          </div>
        ))}
        {def.steps.length < 20 && <button type="button" className="link" onClick={() => onChange({ ...def, steps: [...def.steps, { event_type: '' }] })}>+ Add step</button>}
      </fieldset>
      <fieldset>
        <legend>Conversion</legend>
        <label>Order<select value={def.order ?? 'this'} onChange={(e) => onChange({ ...def, order: e.target.value as FunnelDef['order'] })}>
          <option value="this">This order</option><option value="any">Any order</option><option value="exact">Exact order</option>
        </select></label>
        <div className="inline">
          <label>Within <input type="number" min={1} value={win / unit.s} aria-label="Conversion window"
            onChange={(e) => onChange({ ...def, window_seconds: Math.max(1, Number(e.target.value) || 1) * unit.s })} /></label>
          <select aria-label="Conversion window unit" value={unit.s} onChange={(e) => onChange({ ...def, window_seconds: (win / unit.s) * Number(e.target.value) })}>
            {windowUnits.map((u) => <option key={u.s} value={u.s}>{u.label}</option>)}
          </select>
        </div>
        <label>Count<select value={def.counting ?? 'uniques'} onChange={(e) => onChange({ ...def, counting: e.target.value as FunnelDef['counting'] })}>
          <option value="uniques">Unique users</option><option value="totals">Every attempt (totals)</option>
        </select></label>
        <label>Users<select value={def.new_users ?? ''} onChange={(e) => onChange({ ...def, new_users: (e.target.value || undefined) as FunnelDef['new_users'] })}>
          <option value="">All users</option><option value="any_day">New users, entering any day</option><option value="first_day">New users, on their first day</option>
        </select></label>
      </fieldset>
      <fieldset>
        <legend>Breakdown</legend>
        <div className="filter-row">
          <span className="where">group by</span>
          <PropertyPicker pid={pid} value={def.group_by ?? { type: 'event', key: '' }} eventType={def.steps[(def.group_by?.step ?? 1) - 1]?.event_type}
            label="Funnel group-by" onChange={(p) => onChange({ ...def, group_by: { ...p, step: def.group_by?.step } })} />
        </div>
        {hold.map((h, i) => (
          <div className="filter-row" key={i}>
            <span className="where">hold constant</span>
            <PropertyPicker pid={pid} value={h} label={`Hold constant ${i + 1}`} onChange={(p) => onChange({ ...def, hold: hold.map((x, j) => (j === i ? p : x)) })} />
            <button type="button" className="icon" aria-label={`Remove hold constant ${i + 1}`} onClick={() => onChange({ ...def, hold: hold.filter((_, j) => j !== i) })}>×</button>
          </div>
        ))}
        <button type="button" className="link" onClick={() => onChange({ ...def, hold: [...hold, { type: 'device', key: 'session_id' }] })}>+ Hold a property constant</button>
      </fieldset>
      <fieldset>
        <legend>Exclude users who did</legend>
        {exclusions.map((e, i) => (
          <StepRow key={i} pid={pid} letter={String(i + 1)} noun="Exclusion" value={e}
            onChange={(ne) => onChange({ ...def, exclusions: exclusions.map((x, j) => (j === i ? { ...x, ...ne } : x)) })}
            onRemove={() => onChange({ ...def, exclusions: exclusions.filter((_, j) => j !== i) })} />
        ))}
        <button type="button" className="link" onClick={() => onChange({ ...def, exclusions: [...exclusions, { event_type: '' }] })}>+ Exclusion (between all steps)</button>
      </fieldset>
    </>
  );
}

function RetentionForm({ pid, def, onChange }: { pid: number; def: RetentionDef; onChange: (d: Definition) => void }) {
  const usage = def.view === 'usage_interval';
  return (
    <>
      <fieldset>
        <legend>Users who did</legend>
        <StepRow pid={pid} letter="S" noun="Start event" value={def.start} onChange={(e) => onChange({ ...def, start: e })} />
      </fieldset>
      <fieldset>
        <legend>View</legend>
        <select aria-label="Retention view" value={def.view ?? 'retention'} onChange={(e) => {
          const view = e.target.value === 'usage_interval' ? 'usage_interval' : undefined;
          // New users have no usage interval: start from any active event instead.
          const start = view && def.start.event_type === '_new' ? { event_type: '_active' } : def.start;
          onChange({ ...def, view, start });
        }}>
          <option value="retention">Retention: who came back</option><option value="usage_interval">Usage interval: how often users do it</option>
        </select>
        {usage && <p className="muted small">Each user's median gap between the days on which they did the start event in the date range, for users who did it on two days or more. A 15-day range matches Amplitude's.</p>}
      </fieldset>
      {!usage && <fieldset>
        <legend>and came back to do</legend>
        {def.return.map((r, i) => (
          <StepRow key={i} pid={pid} letter={`R${i + 1}`} noun="Return event" value={r}
            onChange={(e) => onChange({ ...def, return: def.return.map((x, j) => (j === i ? e : x)) })}
            onRemove={def.return.length > 1 ? () => onChange({ ...def, return: def.return.filter((_, j) => j !== i) }) : undefined} />
        ))}
        {def.return.length < 2 && <button type="button" className="link" onClick={() => onChange({ ...def, return: [...def.return, { event_type: '_active' }] })}>+ Second return event</button>}
      </fieldset>}
      <fieldset>
        <legend>{usage ? 'Usage interval' : 'Retention'}</legend>
        {!usage && <label>Measured<select value={def.mode ?? 'n_day'} onChange={(e) => onChange({ ...def, mode: e.target.value as RetentionDef['mode'] })}>
          <option value="n_day">Return on (N-day)</option><option value="unbounded">Return on or after (unbounded)</option>
        </select></label>}
        {!usage && <label className="check"><input type="checkbox" checked={!!def.calendar} onChange={(e) => onChange({ ...def, calendar: e.target.checked || undefined })} /> Calendar days (not 24-hour windows)</label>}
        <div className="filter-row">
          <span className="where">group by</span>
          <PropertyPicker pid={pid} value={def.group_by ?? { type: 'event', key: '' }} label="Retention group-by" onChange={(p) => onChange({ ...def, group_by: p })} />
        </div>
      </fieldset>
    </>
  );
}


const sessionFilterKinds: { type: SessionFilter['type']; label: string }[] = [
  { type: 'contains', label: 'Contains event' }, { type: 'duration', label: 'Duration' },
  { type: 'first', label: 'First event' }, { type: 'last', label: 'Last event' },
];

function SessionsForm({ pid, def, onChange }: { pid: number; def: SessionsDef; onChange: (d: Definition) => void }) {
  const filters = def.filters ?? [];
  const setFilter = (i: number, f: SessionFilter) => onChange({ ...def, filters: filters.map((x, j) => (j === i ? f : x)) });
  const removeFilter = (i: number) => onChange({ ...def, filters: filters.filter((_, j) => j !== i) });
  const seconds = (ms?: number) => (ms ? String(ms / 1000) : '');
  return (
    <>
      <fieldset>
        <legend>Sessions</legend>
        <select aria-label="Session measure" value={def.metric} onChange={(e) => {
          const metric = e.target.value as SessionMetric;
          onChange({ ...def, metric, event: isEventMetric(metric) ? def.event ?? { event_type: '_active' } : undefined });
        }}>
          {sessionMetrics.map((m) => <option key={m.key} value={m.key}>{m.label}</option>)}
        </select>
        {isEventMetric(def.metric) && def.event && (
          <StepRow pid={pid} letter="E" noun="Counted event" value={def.event} onChange={(e) => onChange({ ...def, event: e })} />
        )}
      </fieldset>
      <fieldset>
        <legend>Only sessions that</legend>
        {filters.length === 0 && <p className="muted small">All sessions. Keep those that contain an event, last a while, or start or end a certain way.</p>}
        {filters.map((f, i) => (
          <div className="segment" key={i}>
            <div className="event-head">
              <strong className="small">{sessionFilterKinds.find((k) => k.type === f.type)?.label}</strong>
              <span className="spacer" />
              <button type="button" className="icon" aria-label={`Remove session filter ${i + 1}`} onClick={() => removeFilter(i)}>×</button>
            </div>
            {f.type === 'contains' && f.event && (
              <>
                <StepRow pid={pid} letter="C" noun="Contained event" value={f.event} onChange={(e) => setFilter(i, { ...f, event: { ...f.event, event_type: e.event_type, filters: e.filters } })} />
                <div className="inline">
                  <select aria-label={`Session filter ${i + 1} count operator`} value={f.event.op ?? '>='} onChange={(e) => setFilter(i, { ...f, event: { ...f.event!, op: e.target.value } })}>
                    {['>=', '>', '=', '<', '<=', '!='].map((o) => <option key={o} value={o}>{o}</option>)}
                  </select>
                  <input type="number" min={0} aria-label={`Session filter ${i + 1} count`} value={f.event.count ?? 1} onChange={(e) => setFilter(i, { ...f, event: { ...f.event!, count: Number(e.target.value) } })} />
                  <span className="small muted">times</span>
                </div>
              </>
            )}
            {f.type === 'duration' && (
              <div className="inline">
                <label>At least <input type="number" min={0} aria-label={`Session filter ${i + 1} minimum seconds`} value={seconds(f.min_ms)} placeholder="0"
                  onChange={(e) => setFilter(i, { ...f, min_ms: Math.round(Number(e.target.value) * 1000) || undefined })} /> s</label>
                <label>under <input type="number" min={0} aria-label={`Session filter ${i + 1} maximum seconds`} value={seconds(f.max_ms)} placeholder="any"
                  onChange={(e) => setFilter(i, { ...f, max_ms: Math.round(Number(e.target.value) * 1000) || undefined })} /> s</label>
              </div>
            )}
            {(f.type === 'first' || f.type === 'last') && f.filter && (
              <FilterRow pid={pid} value={f.filter} label={`Session filter ${i + 1}`} onChange={(nf) => setFilter(i, { ...f, filter: nf })} onRemove={() => removeFilter(i)} />
            )}
          </div>
        ))}
        <div className="inline wrap">
          {sessionFilterKinds.map((k) => (
            <button key={k.type} type="button" className="link" onClick={() => onChange({ ...def, filters: [...filters, newSessionFilter(k.type)] })}>+ {k.label}</button>
          ))}
        </div>
      </fieldset>
    </>
  );
}

function newSessionFilter(type: SessionFilter['type']): SessionFilter {
  switch (type) {
    case 'contains': return { type, event: { event_type: '', op: '>=', count: 1 } };
    case 'duration': return { type, min_ms: 60_000 };
    default: return { type, filter: { type: 'event', key: '', op: 'is', values: [] } };
  }
}

function SegmentsForm({ pid, segments, onChange }: { pid: number; segments: Segment[]; onChange: (s: Segment[]) => void }) {
  return (
    <fieldset>
      <legend>Segments</legend>
      {segments.length === 0 && <p className="muted small">All users. Add segments to compare groups side by side.</p>}
      {segments.map((s, i) => {
        const filters = s.filters ?? [];
        const set = (ns: Segment) => onChange(segments.map((x, j) => (j === i ? ns : x)));
        return (
          <div className="segment" key={i}>
            <div className="event-head">
              <input aria-label={`Segment ${i + 1} name`} value={s.name ?? ''} placeholder={`Segment ${i + 1}`} onChange={(e) => set({ ...s, name: e.target.value })} />
              <select aria-label={`Segment ${i + 1} users`} value={s.users ?? 'any'} onChange={(e) => set({ ...s, users: e.target.value as Segment['users'] })}>
                <option value="any">Any users</option><option value="active">Active users</option><option value="new">New users</option>
              </select>
              <button type="button" className="icon" aria-label={`Remove segment ${i + 1}`} onClick={() => onChange(segments.filter((_, j) => j !== i))}>×</button>
            </div>
            {filters.map((f, k) => (
              <FilterRow key={k} pid={pid} value={f} label={`Segment ${i + 1} filter ${k + 1}`}
                onChange={(nf) => set({ ...s, filters: filters.map((x, j) => (j === k ? nf : x)) })}
                onRemove={() => set({ ...s, filters: filters.filter((_, j) => j !== k) })} />
            ))}
            <button type="button" className="link" onClick={() => set({ ...s, filters: [...filters, { type: 'user', key: '', op: 'is', values: [] }] })}>+ Filter</button>
          </div>
        );
      })}
      {segments.length < 10 && <button type="button" className="link" onClick={() => onChange([...segments, { name: '', users: 'any' }])}>+ Add segment</button>}
    </fieldset>
  );
}

/** SaveBar saves the chart (new or update) and adds it to a dashboard. */
function SaveBar({ pid, chartId, def, viz, savedName, savedDescription }: {
  pid: number; chartId: number; def: Definition; viz: Viz; savedName?: string; savedDescription?: string;
}) {
  const qc = useQueryClient();
  const nav = useNavigate();
  const [name, setName] = useState(savedName ?? '');
  const [description, setDescription] = useState(savedDescription ?? '');
  const [msg, setMsg] = useState<string | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const [dash, setDash] = useState('');
  const dashboards = useQuery({ queryKey: ['dashboards', pid], queryFn: () => api.dashboards(pid), enabled: chartId > 0 });
  useEffect(() => { setName(savedName ?? ''); setDescription(savedDescription ?? ''); }, [savedName, savedDescription]);
  const save = async (asNew: boolean) => {
    setErr(null);
    setMsg(null);
    try {
      const body = { name: name.trim(), description, definition: def, options: { viz } };
      const c = chartId && !asNew ? await api.updateChart(pid, chartId, body) : await api.createChart(pid, body);
      await qc.invalidateQueries({ queryKey: ['charts', pid] });
      qc.setQueryData(['chart', pid, c.id], c);
      setMsg(`Saved “${c.name}”.`);
      if (c.id !== chartId) nav(`/projects/${pid}/charts/${c.id}` + encodeState({ def, viz }));
    } catch (e) {
      setErr(e);
    }
  };
  const addToDashboard = async () => {
    setErr(null);
    try {
      let id = Number(dash);
      if (dash === 'new') {
        const d = await api.createDashboard(pid, { name: `${name || 'My'} dashboard`, description: '', items: [] });
        id = d.id;
      }
      const d = await api.dashboard(pid, id);
      const updated = await api.updateDashboard(pid, id, { name: d.name, description: d.description, items: [...d.items, { chart_id: chartId, width: 6, height: 2 }] });
      await qc.invalidateQueries({ queryKey: ['dashboards', pid] });
      setMsg(`Added to “${updated.name}”.`);
    } catch (e) {
      setErr(e);
    }
  };
  return (
    <form className="save-bar" onSubmit={(e) => { e.preventDefault(); void save(false); }}>
      <h2 className="small-head">{chartId ? 'Saved chart' : 'Save this chart'}</h2>
      <div className="inline wrap">
        <label>Name<input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} placeholder="Daily active users" /></label>
        <label className="grow">Description<input maxLength={2000} value={description} onChange={(e) => setDescription(e.target.value)} placeholder="What this chart answers" /></label>
        <button type="submit" className="primary">{chartId ? 'Save changes' : 'Save chart'}</button>
        {chartId > 0 && <button type="button" onClick={() => void save(true)} disabled={!name.trim()}>Save as new</button>}
      </div>
      {chartId > 0 && (
        <div className="inline wrap">
          <label>Add to dashboard
            <select value={dash} onChange={(e) => setDash(e.target.value)}>
              <option value="">Choose…</option>
              {(dashboards.data?.items ?? []).map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
              <option value="new">New dashboard…</option>
            </select>
          </label>
          <button type="button" disabled={!dash} onClick={() => void addToDashboard()}>Add</button>
          <Link to={`/projects/${pid}/dashboards`}>Dashboards</Link>
        </div>
      )}
      {msg && <p className="ok" role="status">{msg}</p>}
      {err !== null && <ErrorBox error={err} title="Cannot save" />}
    </form>
  );
}
