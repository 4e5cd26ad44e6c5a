import { describe, expect, it } from 'vitest';
import type { FunnelDef, FunnelResult, FunnelSeries, RetentionResult } from '../api/types';
import { funnelChartPick, funnelPick, optionalIndex, retentionChartPick, retentionPick, withoutIndex, withoutSteps } from './points';
import { funnelOption } from './options';

const series = (counts: number[], extra: Partial<FunnelSeries> = {}): FunnelSeries => ({
  label: 'All Users', segment: 0, counts, cumulative: counts.map((c) => c / counts[0]), step_by_step: counts.map(() => 1),
  avg_trans_ms: [], median_trans_ms: [], over_time: [counts, [0, 0, 0, 0]], time_to_convert: { width: 1000, bins: [] },
  median_convert_ms: 0, avg_convert_ms: 0, ...extra,
});

// The funnel of internal/query/testdata/cases/funnel_optional.txt: the
// coupon (step 2) is optional.
const def: FunnelDef = {
  type: 'funnel', version: 1, range: { start: '2024-03-01', end: '2024-03-02' },
  steps: [{ event_type: 'Land' }, { event_type: 'Coupon', optional: true }, { event_type: 'Cart' }, { event_type: 'Buy' }],
};
const res: FunnelResult = {
  steps: ['Land', 'Coupon', 'Cart', 'Buy'], x_values: ['2024-03-01', '2024-03-02'],
  series: [series([6, 3, 2, 1], { without: series([6, 4, 2]) })],
};

describe('optional step indexes', () => {
  it('finds the optional middle step and maps steps to the funnel without it', () => {
    expect(optionalIndex(def)).toBe(1);
    expect(optionalIndex({ ...def, steps: [{ event_type: 'A', optional: true }, { event_type: 'B' }] })).toBe(-1);
    expect([0, 1, 2, 3].map((i) => withoutIndex(i, 1))).toEqual([0, -1, 1, 2]);
    expect([0, 1, 2].map((i) => withoutIndex(i, -1))).toEqual([0, 1, 2]);
    expect(withoutSteps(res.steps, 1)).toEqual(['Land', 'Cart', 'Buy']);
  });
});

describe('funnelPick', () => {
  it('names converted and dropped-off users of a step', () => {
    expect(funnelPick(res, 0, 1, 'converted')).toEqual({
      point: { segment: 0, step: 1, outcome: 'converted' }, title: 'All Users · 2. Coupon', noun: 'reached this step',
    });
    const d = funnelPick(res, 0, 0, 'dropped');
    expect(d?.point).toEqual({ segment: 0, step: 0, outcome: 'dropped' });
    expect(d?.noun).toBe('reached step 1 but not step 2');
    expect(funnelPick(res, 0, 3, 'dropped')).toBeNull(); // no step after the last
    expect(funnelPick(res, 0, 2, 'converted', true, '', 1)?.point).toEqual({ segment: 0, step: 2, outcome: 'converted', without: true });
    expect(funnelPick(res, 0, 2, 'converted', true, '', 1)?.title).toBe('All Users · 3. Buy (without the optional step)');
    expect(funnelPick(res, 0, 3, 'converted', true, '', 1)).toBeNull(); // the funnel without it has 3 steps
    expect(funnelPick(res, 0, 3, 'converted', false, '2024-03-01')?.point).toMatchObject({ x: '2024-03-01' });
    expect(funnelPick({ ...res, series: [series([2, 1], { group: ['ad'] })] }, 0, 1, 'converted')?.point).toEqual({ segment: 0, group: ['ad'], step: 1, outcome: 'converted' });
  });
});

describe('funnelChartPick', () => {
  // The bars drawn: converted, dropped off, then both without the optional step.
  const o = funnelOption(res, 'steps', 1);
  it('draws the funnel without the optional step beside each other step', () => {
    expect(o.series.map((s) => s.name)).toEqual(['Converted', 'Dropped off', 'Converted without the optional step', 'Dropped off without it']);
    expect(o.series[2].data).toEqual([6, null, 4, 2]);
    expect(o.series[3].data).toEqual([null, null, 2, 2]);
    expect(funnelOption(res, 'steps').series).toHaveLength(2);
  });
  it('maps each bar to its users', () => {
    const pick = (seriesIndex: number, dataIndex: number) => funnelChartPick(def, res, 'steps', { seriesIndex, dataIndex })?.point ?? null;
    expect(pick(0, 2)).toEqual({ segment: 0, step: 2, outcome: 'converted' });
    expect(pick(1, 2)).toEqual({ segment: 0, step: 1, outcome: 'dropped' }); // reached the coupon, not the cart
    expect(pick(1, 0)).toBeNull();
    expect(pick(2, 1)).toBeNull(); // the optional step has no bar without it
    expect(pick(2, 3)).toEqual({ segment: 0, step: 2, outcome: 'converted', without: true });
    expect(pick(3, 2)).toEqual({ segment: 0, step: 0, outcome: 'dropped', without: true }); // landed, no cart
    expect(pick(3, 3)).toEqual({ segment: 0, step: 1, outcome: 'dropped', without: true });
    expect(funnelChartPick(def, res, 'over_time', { seriesIndex: 0, dataIndex: 1 })?.point).toEqual({ segment: 0, step: 3, outcome: 'converted', x: '2024-03-02' });
    expect(funnelChartPick(def, res, 'time_to_convert', { seriesIndex: 0, dataIndex: 1 })).toBeNull();
  });
});

const ret: RetentionResult = {
  cohorts: ['2024-01-01', '2024-01-02'], columns: ['Day 0', 'Day 1'],
  series: [{
    label: 'Play · All Users', segment: 0, event: 1, users: 3,
    rows: [{ cohort: '2024-01-01', size: 2, cells: [{ count: 1, outof: 2 }, { count: 1, outof: 2 }] },
      { cohort: '2024-01-02', size: 1, cells: [{ count: 0, outof: 1 }, { count: 0, outof: 1, incomplete: true }] }],
    overall: [{ count: 1, outof: 3 }, { count: 1, outof: 2 }],
  }],
};

describe('retention picks', () => {
  it('names a cohort cell, its size and the overall row', () => {
    expect(retentionPick(ret, 0, '2024-01-02', 1)).toEqual({
      point: { segment: 0, event: 1, cohort: '2024-01-02', column: 1 }, title: 'Play · All Users · 2024-01-02 · Day 1', noun: 'returned here',
    });
    expect(retentionPick(ret, 0, '2024-01-01', 'size')?.point).toEqual({ segment: 0, event: 1, cohort: '2024-01-01', column: 0, size: true });
    expect(retentionPick(ret, 0, '', 0)?.point).toEqual({ segment: 0, event: 1, column: 0 });
    expect(retentionPick(ret, 0, '', 2)).toBeNull();
  });
  it('maps grid cells (row 0 overall) and curve points', () => {
    expect(retentionChartPick(ret, 'grid', { seriesIndex: 0, dataIndex: 4, value: [1, 2, 0] })?.point).toEqual({ segment: 0, event: 1, cohort: '2024-01-02', column: 1 });
    expect(retentionChartPick(ret, 'grid', { seriesIndex: 0, dataIndex: 0, value: [0, 0, 33.3] })?.point).toEqual({ segment: 0, event: 1, column: 0 });
    expect(retentionChartPick(ret, 'grid', { seriesIndex: 0, dataIndex: 0 })).toBeNull();
    expect(retentionChartPick(ret, 'curve', { seriesIndex: 0, dataIndex: 1 })?.point).toEqual({ segment: 0, event: 1, column: 1 });
  });
});
