// Chart-option builders: pure functions from the query result model to
// ECharts options, one per visualisation. They are unit-tested and know
// nothing of React or the DOM.
import type { FunnelResult, Result, RetentionCell, RetentionResult, RetentionSeries, Series } from '../api/types';

// A plain-object option; ECharts' own type is too wide to be useful here.
export interface ChartOption {
  [k: string]: unknown;
  series: Record<string, unknown>[];
}

export const palette = [
  '#4f46e5', '#0891b2', '#f59e0b', '#e11d48', '#16a34a', '#9333ea', '#ea580c', '#0d9488', '#64748b', '#db2777',
  '#2563eb', '#65a30d',
];

/** maxDrawn is how many series a chart draws; the table lists all. */
export const maxDrawn = 12;

/** formatValue renders a figure with its unit ("%" or "$" formulas, percentages). */
export function formatValue(v: number | null | undefined, format?: string): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  const abs = Math.abs(v);
  const digits = Number.isInteger(v) ? 0 : abs >= 100 ? 1 : abs >= 1 ? 2 : 3;
  const s = v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  if (format === '%') return s + '%';
  if (format === '$') return '$' + s;
  if (format === 's') return s + ' s';
  return s;
}

/** seriesLabel is a series' legend name, marking compared periods. */
export function seriesLabel(s: Series): string {
  return s.compare && !/compare|previous/i.test(s.label) ? `${s.label} (previous)` : s.label;
}

function baseOption(): Record<string, unknown> {
  return {
    color: palette,
    animation: false,
    grid: { left: 56, right: 24, top: 40, bottom: 40, containLabel: true },
    tooltip: { trigger: 'axis', confine: true },
    legend: { type: 'scroll', top: 0 },
  };
}

export type TimeViz = 'line' | 'area' | 'bar';

/**
 * segmentationOption draws an event segmentation result: "line" and
 * "area" (stacked) over time, "bar" the whole-range figure of each series.
 * Compared periods are drawn dashed on the same x positions.
 */
export function segmentationOption(res: Result, viz: TimeViz, format?: string): ChartOption {
  const drawn = res.series.slice(0, maxDrawn);
  const valueAxis = {
    type: 'value',
    axisLabel: { formatter: (v: number) => formatValue(v, format) },
  };
  if (viz === 'bar') {
    // Horizontal bars: long series names stay readable.
    return {
      ...baseOption(),
      tooltip: { trigger: 'item', confine: true },
      legend: { show: false },
      grid: { left: 16, right: 64, top: 8, bottom: 24, containLabel: true },
      yAxis: { type: 'category', inverse: true, data: drawn.map(seriesLabel), axisLabel: { width: 220, overflow: 'truncate' } },
      xAxis: valueAxis,
      series: [{
        type: 'bar',
        name: 'Whole range',
        data: drawn.map((s, i) => ({ value: s.collapsed, itemStyle: { color: palette[i % palette.length] } })),
        label: { show: true, position: 'right', formatter: (p: { value: number }) => formatValue(p.value, format) },
        barMaxWidth: 28,
      }],
    };
  }
  return {
    ...baseOption(),
    xAxis: { type: 'category', data: res.x_values, boundaryGap: false },
    yAxis: valueAxis,
    series: drawn.map((s) => ({
      type: 'line',
      name: seriesLabel(s),
      data: s.values,
      showSymbol: res.x_values.length <= 31,
      smooth: false,
      ...(viz === 'area' && !s.compare ? { stack: 'total', areaStyle: { opacity: 0.5 } } : {}),
      ...(s.compare ? { lineStyle: { type: 'dashed' } } : {}),
    })),
  };
}

/** funnelSteps are the per-step figures of one funnel series. */
export interface FunnelStep {
  label: string;
  count: number;
  /** conversion from the first step, 0..100 */
  overall: number;
  /** conversion from the previous step, 0..100 */
  fromPrevious: number;
  dropOff: number;
  /** median time from the previous step, ms */
  medianMs: number;
}

export function funnelSteps(res: FunnelResult, seriesIndex = 0, without = false, o = -1): FunnelStep[] {
  const s = without ? res.series[seriesIndex]?.without : res.series[seriesIndex];
  if (!s) return [];
  const labels = without ? res.steps.filter((_, i) => i !== o) : res.steps;
  return labels.map((label, i) => {
    const count = s.counts[i] ?? 0;
    const prev = i === 0 ? count : (s.counts[i - 1] ?? 0);
    return {
      label,
      count,
      overall: (s.cumulative[i] ?? 0) * 100,
      fromPrevious: (s.step_by_step[i] ?? 0) * 100,
      dropOff: Math.max(prev - count, 0),
      medianMs: s.median_trans_ms?.[i] ?? 0,
    };
  });
}

/** formatDuration renders milliseconds for people: 850 ms, 12 s, 3 min, 2.5 h, 3 d. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${formatValue(s)} s`;
  if (s < 3600) return `${formatValue(s / 60)} min`;
  if (s < 86400) return `${formatValue(s / 3600)} h`;
  return `${formatValue(s / 86400)} d`;
}

/**
 * funnelOption draws a funnel result: "steps" bars (one series: the users
 * converted with the drop-off stacked above, and beside them the same
 * without the optional step o when the funnel has one; several segments or
 * groups: side by side), "over_time" the conversion of each entry bucket,
 * and "time_to_convert" the histogram of the first series.
 */
export function funnelOption(res: FunnelResult, viz: 'steps' | 'over_time' | 'time_to_convert', o = -1): ChartOption {
  const drawn = res.series.slice(0, maxDrawn);
  if (viz === 'over_time') {
    return {
      ...baseOption(),
      xAxis: { type: 'category', data: res.x_values, boundaryGap: false },
      yAxis: { type: 'value', axisLabel: { formatter: '{value}%' } },
      series: drawn.map((s) => ({
        type: 'line',
        name: s.label,
        data: (s.over_time ?? []).map((c) => (c[0] ? Math.round(((c[c.length - 1] ?? 0) / c[0]) * 1000) / 10 : 0)),
      })),
    };
  }
  if (viz === 'time_to_convert') {
    const bins = drawn[0]?.time_to_convert?.bins ?? [];
    return {
      ...baseOption(),
      legend: { show: false },
      xAxis: { type: 'category', data: bins.map((b) => `${formatDuration(b.start)}–${formatDuration(b.end)}`) },
      yAxis: { type: 'value' },
      series: [{ type: 'bar', name: 'Conversions', data: bins.map((b) => b.count), barCategoryGap: '10%' }],
    };
  }
  const categories = res.steps.map((l, i) => `${i + 1}. ${l}`);
  if (drawn.length === 1) {
    const steps = funnelSteps(res);
    const w = drawn[0]?.without;
    // Without the optional step: its bars beside each other step's.
    const without: Record<string, unknown>[] = [];
    if (w && o > 0) {
      const at = (i: number) => (i === o ? -1 : i < o ? i : i - 1);
      const conv = res.steps.map((_, i) => (at(i) < 0 ? null : w.counts[at(i)] ?? 0));
      const drop = res.steps.map((_, i) => (at(i) <= 0 ? null : Math.max((w.counts[at(i) - 1] ?? 0) - (w.counts[at(i)] ?? 0), 0)));
      without.push(
        {
          type: 'bar', name: 'Converted without the optional step', stack: 'without', data: conv, barMaxWidth: 80, itemStyle: { color: '#0891b2' },
          label: { show: true, position: 'insideTop', color: '#fff', formatter: (p: { dataIndex: number }) => `${formatValue((w.cumulative[at(p.dataIndex)] ?? 0) * 100)}%` },
        },
        { type: 'bar', name: 'Dropped off without it', stack: 'without', data: drop, barMaxWidth: 80, itemStyle: { color: '#e2e8f0' } },
      );
    }
    return {
      ...baseOption(),
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true },
      xAxis: { type: 'category', data: categories },
      yAxis: { type: 'value' },
      series: [
        {
          type: 'bar', name: 'Converted', stack: 'funnel', data: steps.map((s) => s.count), barMaxWidth: 80,
          label: { show: true, position: 'insideTop', color: '#fff', formatter: (p: { dataIndex: number }) => `${formatValue(steps[p.dataIndex]?.overall ?? 0)}%` },
        },
        { type: 'bar', name: 'Dropped off', stack: 'funnel', data: steps.map((s) => s.dropOff), barMaxWidth: 80, itemStyle: { color: '#cbd5e1' } },
        ...without,
      ],
    };
  }
  return {
    ...baseOption(),
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true },
    xAxis: { type: 'category', data: categories },
    yAxis: { type: 'value', axisLabel: { formatter: '{value}%' } },
    series: drawn.map((s) => ({ type: 'bar', name: s.label, data: s.cumulative.map((c) => Math.round(c * 1000) / 10) })),
  };
}

/** retentionPct is a cell's retained share in percent, null when incomplete or empty. */
export function retentionPct(c: RetentionCell | undefined): number | null {
  if (!c || c.incomplete || c.outof <= 0) return null;
  return Math.round((c.count / c.outof) * 1000) / 10;
}

/**
 * retentionOption draws a retention result: "grid" the heat-grid of the
 * first series (cohorts down, intervals across; incomplete cells left
 * blank), "curve" the overall row of every series.
 */
export function retentionOption(res: RetentionResult, viz: 'grid' | 'curve'): ChartOption {
  if (viz === 'curve') {
    return {
      ...baseOption(),
      xAxis: { type: 'category', data: res.columns, boundaryGap: false },
      yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
      series: res.series.slice(0, maxDrawn).map((s) => ({ type: 'line', name: s.label, data: s.overall.map(retentionPct), connectNulls: false })),
    };
  }
  const s = res.series[0];
  const rows = s ? [{ cohort: 'Overall', size: s.users, cells: s.overall }, ...s.rows] : [];
  const data: [number, number, number][] = [];
  rows.forEach((r, y) => r.cells.forEach((c, x) => {
    const v = retentionPct(c);
    if (v !== null) data.push([x, y, v]);
  }));
  return {
    ...baseOption(),
    legend: { show: false },
    tooltip: { trigger: 'item', confine: true },
    grid: { left: 16, right: 24, top: 16, bottom: 56, containLabel: true },
    xAxis: { type: 'category', data: res.columns, position: 'top', splitArea: { show: true } },
    yAxis: { type: 'category', data: rows.map((r) => `${r.cohort} (${r.size})`), inverse: true, splitArea: { show: true } },
    visualMap: { min: 0, max: 100, calculable: false, orient: 'horizontal', left: 'center', bottom: 0, inRange: { color: ['#eef2ff', '#4f46e5'] } },
    series: [{
      type: 'heatmap', name: 'Retained %', data,
      // Figures in the cells only while they fit; the table below has them all.
      label: { show: res.columns.length <= 16, fontSize: 11, formatter: (p: { value: number[] }) => `${p.value[2]}%` },
    }],
  };
}

/** isUsage reports whether a retention result is the usage interval view. */
export function isUsage(res: RetentionResult): boolean {
  return res.series.some((s) => s.usage !== undefined);
}

/** usageShares gives, per column of a usage interval series, its share of the users and the running total (percent, one decimal). */
export function usageShares(s: RetentionSeries): { pct: number; cumulative: number }[] {
  let run = 0;
  return (s.usage ?? []).map((n) => {
    run += n;
    const pct = (v: number) => (s.users > 0 ? Math.round((v / s.users) * 1000) / 10 : 0);
    return { pct: pct(n), cumulative: pct(run) };
  });
}

/** usageColumns is how many columns of the usage interval view to show: up to the last one any series has users in (at least one). */
export function usageColumns(res: RetentionResult): number {
  let n = 1;
  for (const s of res.series) (s.usage ?? []).forEach((v, i) => { if (v > 0) n = Math.max(n, i + 1); });
  return Math.min(n, res.columns.length);
}

/** usageOption draws the usage interval view: bars of each column's share of users, lines of the running total. */
export function usageOption(res: RetentionResult): ChartOption {
  const drawn = res.series.slice(0, maxDrawn);
  const n = usageColumns(res);
  return {
    ...baseOption(),
    xAxis: { type: 'category', data: res.columns.slice(0, n) },
    yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
    series: [
      ...drawn.map((s) => ({ type: 'bar', name: `${s.label}: median gap`, data: usageShares(s).slice(0, n).map((u) => u.pct) })),
      ...drawn.map((s) => ({ type: 'line', name: `${s.label}: this or less`, data: usageShares(s).slice(0, n).map((u) => u.cumulative) })),
    ],
  };
}

/** usageCSV renders the usage interval view: per series the users per column, then their running share. */
export function usageCSV(res: RetentionResult): string {
  const rows: (string | number)[][] = [['Series', 'Measure', 'Users', ...res.columns]];
  for (const s of res.series) {
    rows.push([s.label, 'Users', s.users, ...(s.usage ?? [])]);
    rows.push([s.label, 'This or less %', s.users, ...usageShares(s).map((u) => u.cumulative)]);
  }
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** retentionGridHeight is the pixel height that gives each cohort row room. */
export function retentionGridHeight(res: RetentionResult, min: number): number {
  return Math.max(min, ((res.series[0]?.rows.length ?? 0) + 1) * 24 + 110);
}

/** sessionsOption draws a sessions result: "bar" the whole range of each series (the length histogram), "line" over time. */
export function sessionsOption(res: Result, viz: 'line' | 'bar', format?: string): ChartOption {
  return segmentationOption(res, viz, format);
}

function csvCell(v: string | number): string {
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** funnelCSV renders a funnel: one row per series and step (then per step without the optional step o). */
export function funnelCSV(res: FunnelResult, o = -1): string {
  const rows: (string | number)[][] = [['Series', 'Step', 'Count', 'Conversion %', 'From previous %', 'Median time from previous (ms)']];
  res.series.forEach((s, k) => {
    funnelSteps(res, k).forEach((st) => rows.push([s.label, st.label, st.count, st.overall, st.fromPrevious, st.medianMs]));
    funnelSteps(res, k, true, o).forEach((st) => rows.push([`${s.label} (without the optional step)`, st.label, st.count, st.overall, st.fromPrevious, st.medianMs]));
  });
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** retentionCSV renders a retention table: one row per series and cohort, the percentages per column. */
export function retentionCSV(res: RetentionResult): string {
  const rows: (string | number)[][] = [['Series', 'Cohort', 'Users', ...res.columns]];
  for (const s of res.series) {
    rows.push([s.label, 'Overall', s.users, ...s.overall.map((c) => retentionPct(c) ?? '')]);
    for (const r of s.rows) rows.push([s.label, r.cohort, r.size, ...r.cells.map((c) => retentionPct(c) ?? '')]);
  }
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** toCSV renders a result as CSV: one row per series, one column per x value, then the whole range. */
export function toCSV(res: Result): string {
  const rows: (string | number)[][] = [['Series', ...res.x_values, 'Whole range']];
  for (const s of res.series) rows.push([seriesLabel(s), ...s.values, s.collapsed]);
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
