// Funnel bars and retention cells to the points whose users the server
// lists (POST .../query/users, docs/funnels.md). Pure functions, tested in
// points.test.ts.
import type { FunnelDef, FunnelPoint, FunnelResult, RetentionPoint, RetentionResult } from '../api/types';

/** Pick is a point to list the users of, with a title and what the count means. */
export interface Pick {
  point: FunnelPoint | RetentionPoint;
  title: string;
  /** noun completes "N users …" (e.g. "reached this step"). */
  noun: string;
}

/** ChartHit is a click on a chart item: the series, the data index and the item's value. */
export interface ChartHit { seriesIndex: number; dataIndex: number; value?: unknown }

/** optionalIndex is the 0-based optional step of a funnel, or -1. */
export function optionalIndex(def: FunnelDef): number {
  return def.steps.findIndex((s, i) => s.optional && i > 0 && i < def.steps.length - 1);
}

/**
 * withoutIndex maps step i of the funnel to its index in the funnel
 * without the optional step o: -1 for the optional step itself.
 */
export function withoutIndex(i: number, o: number): number {
  if (o < 0 || i < o) return i;
  return i === o ? -1 : i - 1;
}

/** withoutSteps are the step labels of the funnel without the optional step o. */
export function withoutSteps(steps: string[], o: number): string[] {
  return steps.filter((_, i) => i !== o);
}

function groupPart(s: { group?: string[] }): { group?: string[] } {
  return s.group && s.group.length > 0 ? { group: s.group } : {};
}

/**
 * funnelPick is the users of series k at step (an index of its counts, or
 * of without.counts when without): those who reached it, or who reached it
 * but not the next step (dropped). x picks an entry bucket.
 */
export function funnelPick(res: FunnelResult, k: number, step: number, outcome: 'converted' | 'dropped', without = false, x = '', o = -1): Pick | null {
  const s = res.series[k];
  if (!s) return null;
  const v = without ? s.without : s;
  const labels = without ? withoutSteps(res.steps, o) : res.steps;
  if (!v || step < 0 || step >= v.counts.length || (outcome === 'dropped' && step >= v.counts.length - 1)) return null;
  const point: FunnelPoint = { segment: s.segment, ...groupPart(s), step, outcome };
  if (without) point.without = true;
  if (x) point.x = x;
  const where = `${step + 1}. ${labels[step]}${without ? ' (without the optional step)' : ''}${x ? ` · entered ${x}` : ''}`;
  return outcome === 'dropped'
    ? { point, title: `${s.label} · dropped off after ${where}`, noun: `reached step ${step + 1} but not step ${step + 2}` }
    : { point, title: `${s.label} · ${where}`, noun: 'reached this step' };
}

/**
 * funnelChartPick maps a click on the funnel chart (funnelOption) to its
 * users. Steps with one series: bars 0/1 are converted/dropped off, 2/3
 * the same without the optional step; a dropped-off bar at step i is the
 * users who reached the step before it and not i. Several series: bar k
 * is series k, converted. Over time: series k converting through the
 * last step in entry bucket dataIndex.
 */
export function funnelChartPick(def: FunnelDef, res: FunnelResult, viz: string, c: ChartHit): Pick | null {
  const o = optionalIndex(def);
  const i = c.dataIndex;
  if (viz === 'over_time') {
    const x = res.x_values[i];
    return x === undefined ? null : funnelPick(res, c.seriesIndex, res.steps.length - 1, 'converted', false, x);
  }
  if (viz !== 'steps') return null;
  if (res.series.length > 1) return funnelPick(res, c.seriesIndex, i, 'converted');
  switch (c.seriesIndex) {
    case 0: return funnelPick(res, 0, i, 'converted');
    case 1: return i > 0 ? funnelPick(res, 0, i - 1, 'dropped') : null;
    case 2: {
      const w = withoutIndex(i, o);
      return w < 0 ? null : funnelPick(res, 0, w, 'converted', true, '', o);
    }
    case 3: {
      const w = withoutIndex(i, o);
      return w > 0 ? funnelPick(res, 0, w - 1, 'dropped', true, '', o) : null;
    }
  }
  return null;
}

/**
 * retentionPick is the users of series k's cell: cohort "" is the overall
 * row, column "size" the cohort's users.
 */
export function retentionPick(res: RetentionResult, k: number, cohort: string, column: number | 'size'): Pick | null {
  const s = res.series[k];
  if (!s) return null;
  const point: RetentionPoint = { segment: s.segment, event: s.event, ...groupPart(s), column: column === 'size' ? 0 : column };
  if (cohort) point.cohort = cohort;
  if (column === 'size') point.size = true;
  else if (column < 0 || column >= res.columns.length) return null;
  const row = cohort || 'Overall';
  return column === 'size'
    ? { point, title: `${s.label} · ${row} · users`, noun: cohort ? 'in this cohort' : 'in any cohort' }
    : { point, title: `${s.label} · ${row} · ${res.columns[column]}`, noun: cohort ? 'returned here' : 'returned here, over the complete cohorts' };
}

/**
 * retentionChartPick maps a click on the retention chart (retentionOption)
 * to its users: a grid cell is [column, row, %] of the first series, row 0
 * the overall row; a curve point is series k's overall cell.
 */
export function retentionChartPick(res: RetentionResult, viz: string, c: ChartHit): Pick | null {
  if (viz === 'curve') return retentionPick(res, c.seriesIndex, '', c.dataIndex);
  const v = c.value;
  if (!Array.isArray(v) || v.length < 2) return null;
  const [x, y] = v as number[];
  const s = res.series[0];
  if (!s) return null;
  const cohort = y === 0 ? '' : s.rows[y - 1]?.cohort;
  return cohort === undefined ? null : retentionPick(res, 0, cohort, x);
}
