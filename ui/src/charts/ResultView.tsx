// ResultView draws a query result for its analysis type and lists it in
// a table below the chart.
import { useMemo } from 'react';
import type { AnyResult, Definition, FunnelResult, Result, RetentionResult, Series, Viz } from '../api/types';
import { EChart, type ChartClick } from './EChart';
import {
  type ChartOption, formatDuration, formatValue, funnelCSV, funnelOption, funnelSteps, isUsage, retentionCSV, retentionGridHeight, retentionOption, retentionPct,
  segmentationOption, seriesLabel, sessionsOption, toCSV, usageColumns, usageCSV, usageOption, usageShares,
} from './options';
import { sessionsLabel, valueFormat } from '../builder/definition';
import { funnelChartPick, funnelPick, optionalIndex, retentionChartPick, retentionPick, type Pick } from './points';

/** resultCSV renders any result as CSV for its analysis type. */
export function resultCSV(def: Definition, result: AnyResult): string {
  switch (def.type) {
    case 'funnel': return funnelCSV(result as FunnelResult, optionalIndex(def));
    case 'retention': return isUsage(result as RetentionResult) ? usageCSV(result as RetentionResult) : retentionCSV(result as RetentionResult);
    default: return toCSV(named(def, result) as Result);
  }
}

/** chartOption is the ECharts option of a result, or null for a table. */
export function chartOption(def: Definition, result: AnyResult, viz: Viz): ChartOption | null {
  const format = valueFormat(def);
  switch (def.type) {
    case 'funnel':
      return funnelOption(result as FunnelResult, viz === 'over_time' || viz === 'time_to_convert' ? viz : 'steps', optionalIndex(def));
    case 'retention':
      if (isUsage(result as RetentionResult)) return usageOption(result as RetentionResult);
      return retentionOption(result as RetentionResult, viz === 'curve' ? 'curve' : 'grid');
    case 'sessions':
      return viz === 'table' ? null : sessionsOption(result as Result, viz === 'bar' ? 'bar' : 'line', format);
    default:
      return viz === 'table' ? null : segmentationOption(result as Result, viz === 'area' || viz === 'bar' ? viz : 'line', format);
  }
}

function isEmpty(def: Definition, result: AnyResult): boolean {
  if (def.type === 'funnel') return (result as FunnelResult).series.every((s) => (s.counts[0] ?? 0) === 0);
  if (def.type === 'retention') return (result as RetentionResult).series.every((s) => s.users === 0);
  return (result as Result).series.length === 0;
}

/** PointClick is a click on a data point: the series and its x ("" for the whole range). */
export interface PointClick { series: Series; x: string }

/** clickedPoint maps a click on a segmentation chart to its series and x. */
export function clickedPoint(def: Definition, result: AnyResult, viz: Viz, c: ChartClick): PointClick | null {
  if (def.type !== 'segmentation') return null;
  const res = result as Result;
  if (viz === 'bar') {
    const s = res.series[c.dataIndex];
    return s ? { series: s, x: '' } : null;
  }
  const s = res.series[c.seriesIndex];
  const x = res.x_values[c.dataIndex];
  return s && x !== undefined ? { series: s, x } : null;
}

/** pickFor maps a click on a funnel or retention chart to the users behind it. */
export function pickFor(def: Definition, result: AnyResult, viz: Viz, c: ChartClick): Pick | null {
  if (def.type === 'funnel') return funnelChartPick(def, result as FunnelResult, viz === 'over_time' ? 'over_time' : viz === 'time_to_convert' ? viz : 'steps', c);
  if (def.type === 'retention') return isUsage(result as RetentionResult) ? null : retentionChartPick(result as RetentionResult, viz === 'curve' ? 'curve' : 'grid', c);
  return null;
}

/** named gives a sessions result's series the measure's name instead of its key. */
function named(def: Definition, result: AnyResult): AnyResult {
  if (def.type !== 'sessions') return result;
  const r = result as Result;
  return { ...r, series: r.series.map((s) => ({ ...s, label: sessionsLabel(def, s.label) })) };
}

export function ResultView({ def, result: raw, viz, height = 360, table = true, onPoint, onPick }: {
  def: Definition; result: AnyResult; viz: Viz; height?: number; table?: boolean;
  /** onPoint, when set, makes segmentation data points and table cells clickable. */
  onPoint?: (p: PointClick) => void;
  /** onPick, when set, makes funnel bars, retention cells and their table cells clickable. */
  onPick?: (p: Pick) => void;
}) {
  const result = useMemo(() => named(def, raw), [def, raw]);
  const option = useMemo(() => chartOption(def, result, viz), [def, result, viz]);
  const onClick = onPoint && def.type === 'segmentation' ? (c: ChartClick) => {
    const p = clickedPoint(def, result, viz, c);
    if (p) onPoint(p);
  } : onPick && (def.type === 'funnel' || def.type === 'retention') ? (c: ChartClick) => {
    const p = pickFor(def, result, viz, c);
    if (p) onPick(p);
  } : undefined;
  if (isEmpty(def, result)) {
    return <div className="empty" role="status"><h3>No data</h3><p>Nothing matched in this date range. Try a longer range or fewer filters.</p></div>;
  }
  return (
    <div className="result">
      {def.type === 'funnel' && viz === 'time_to_convert' && (result as FunnelResult).series[0] && (
        <div className="figures">
          <span>Median time to convert <strong>{formatDuration((result as FunnelResult).series[0].median_convert_ms)}</strong></span>
          <span>Average <strong>{formatDuration((result as FunnelResult).series[0].avg_convert_ms)}</strong></span>
        </div>
      )}
      {option && <EChart option={option} label={`${def.type} chart`} onClick={onClick}
        height={def.type === 'retention' && viz !== 'curve' && table && !isUsage(result as RetentionResult) ? retentionGridHeight(result as RetentionResult, height) : height} />}
      {(table || !option) && <ResultTableFor def={def} result={result} onPoint={onPoint} onPick={onPick} />}
    </div>
  );
}

function ResultTableFor({ def, result, onPoint, onPick }: { def: Definition; result: AnyResult; onPoint?: (p: PointClick) => void; onPick?: (p: Pick) => void }) {
  switch (def.type) {
    case 'funnel': return <FunnelTable result={result as FunnelResult} o={optionalIndex(def)} onPick={onPick} />;
    case 'retention': return isUsage(result as RetentionResult) ? <UsageTable result={result as RetentionResult} /> : <RetentionTable result={result as RetentionResult} onPick={onPick} />;
    default: return <ResultTable result={result as Result} format={valueFormat(def)} onPoint={def.type === 'segmentation' ? onPoint : undefined} />;
  }
}

export function ResultTable({ result, format, onPoint }: { result: Result; format?: string; onPoint?: (p: PointClick) => void }) {
  const fmt = (v: number, f?: string) => formatValue(v, f || format || undefined);
  // A cell is a button when its users can be listed.
  const cell = (s: Series, x: string, text: string) => onPoint && s.event >= 0 && !s.compare && !s.bucket
    ? <button type="button" className="cell-link" title={`Users behind ${seriesLabel(s)} · ${x || 'whole range'}`} onClick={() => onPoint({ series: s, x })}>{text}</button>
    : text;
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label="Result table">
      <table className="grid result-table" data-testid="result-table">
        <thead>
          <tr><th scope="col">Series</th><th scope="col" className="num">Whole range</th>{result.x_values.map((x) => <th key={x} scope="col" className="num">{x}</th>)}</tr>
        </thead>
        <tbody>
          {result.series.map((s, i) => (
            <tr key={i}>
              <th scope="row" title={seriesLabel(s)}>{seriesLabel(s)}</th>
              <td className="num strong">{cell(s, '', fmt(s.collapsed, s.format))}</td>
              {s.values.map((v, j) => <td key={j} className="num">{cell(s, result.x_values[j], fmt(v, s.format))}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** pickCell renders text as a button listing the users of p, when p and onPick exist. */
function pickCell(text: string, p: Pick | null, onPick?: (p: Pick) => void) {
  return onPick && p
    ? <button type="button" className="cell-link" title={`Users: ${p.title}`} onClick={() => onPick(p)}>{text}</button>
    : text;
}

function FunnelTable({ result, o, onPick }: { result: FunnelResult; o: number; onPick?: (p: Pick) => void }) {
  const rows = (k: number, label: string, without: boolean) => {
    const steps = funnelSteps(result, k, without, o);
    return steps.map((st, i) => (
      <tr key={`${k}-${without}-${i}`}>
        {i === 0 ? <th scope="rowgroup" rowSpan={steps.length}>{label}</th> : null}
        <th scope="row">{i + 1}. {st.label}</th>
        <td className="num">{pickCell(formatValue(st.count), funnelPick(result, k, i, 'converted', without, '', o), onPick)}</td>
        <td className="num">{formatValue(st.overall)}%</td><td className="num">{formatValue(st.fromPrevious)}%</td>
        <td className="num">{i === 0 ? formatValue(st.dropOff) : pickCell(formatValue(st.dropOff), funnelPick(result, k, i - 1, 'dropped', without, '', o), onPick)}</td>
        <td className="num">{i === 0 ? '' : formatDuration(st.medianMs)}</td>
      </tr>
    ));
  };
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label="Result table">
      <table className="grid" data-testid="result-table">
        <thead><tr><th>Series</th><th>Step</th><th className="num">Count</th><th className="num">Conversion</th><th className="num">From previous</th><th className="num">Dropped off</th><th className="num">Median time</th></tr></thead>
        <tbody>
          {result.series.map((s, k) => [
            ...rows(k, s.label, false),
            ...(s.without ? rows(k, `${s.label} (without the optional step)`, true) : []),
          ])}
        </tbody>
      </table>
      {onPick && <p className="muted small">Click a count or a drop-off to list those users.</p>}
    </div>
  );
}

/** UsageTable lists the usage interval view: per series, the users of each median gap and the running share. */
function UsageTable({ result }: { result: RetentionResult }) {
  const n = usageColumns(result);
  const shares = result.series.map(usageShares);
  return (
    <div className="table-wrap">
      <table className="result-table" data-testid="result-table">
        <thead>
          <tr><th scope="col" rowSpan={2}>Median gap</th>{result.series.map((s, k) => <th key={k} scope="colgroup" colSpan={2}>{s.label} ({formatValue(s.users)} users)</th>)}</tr>
          <tr>{result.series.map((_, k) => [<th key={`${k}n`} scope="col" className="num">Users</th>, <th key={`${k}c`} scope="col" className="num">This or less</th>])}</tr>
        </thead>
        <tbody>
          {result.columns.slice(0, n).map((c, j) => (
            <tr key={c}><th scope="row">{c}</th>
              {result.series.map((s, k) => [
                <td key={`${k}n`} className="num">{formatValue(s.usage?.[j] ?? 0)}</td>,
                <td key={`${k}c`} className="num">{shares[k][j] ? `${shares[k][j].cumulative}%` : ''}</td>,
              ])}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RetentionTable({ result, onPick }: { result: RetentionResult; onPick?: (p: Pick) => void }) {
  const pct = (c: Parameters<typeof retentionPct>[0]) => {
    if (c?.incomplete) return '*';
    const v = retentionPct(c);
    return v === null ? '–' : `${v}%`;
  };
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label="Result table">
      <table className="grid result-table" data-testid="result-table">
        <thead><tr><th>Series</th><th>Cohort</th><th className="num">Users</th>{result.columns.map((c) => <th key={c} className="num">{c}</th>)}</tr></thead>
        <tbody>
          {result.series.map((s, k) => [
            <tr key={`${k}-o`} className="strong"><th scope="row">{s.label}</th><th scope="row">Overall</th>
              <td className="num">{pickCell(formatValue(s.users), retentionPick(result, k, '', 'size'), onPick)}</td>
              {s.overall.map((c, j) => <td key={j} className="num">{c.incomplete ? pct(c) : pickCell(pct(c), retentionPick(result, k, '', j), onPick)}</td>)}</tr>,
            ...s.rows.map((r) => (
              <tr key={`${k}-${r.cohort}`}><td></td><td>{r.cohort}</td>
                <td className="num">{pickCell(formatValue(r.size), retentionPick(result, k, r.cohort, 'size'), onPick)}</td>
                {r.cells.map((c, j) => <td key={j} className="num">{c?.incomplete ? pct(c) : pickCell(pct(c), retentionPick(result, k, r.cohort, j), onPick)}</td>)}</tr>
            )),
          ])}
        </tbody>
      </table>
      <p className="muted small">* the interval has not fully elapsed for this cohort; left out of the overall row.</p>
    </div>
  );
}
