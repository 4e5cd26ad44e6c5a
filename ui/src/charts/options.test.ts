import { describe, expect, it } from 'vitest';
import type { FunnelResult, Result, RetentionResult } from '../api/types';
import {
  formatDuration, formatValue, funnelCSV, funnelOption, funnelSteps, isUsage, maxDrawn, retentionCSV, retentionOption, retentionPct, usageColumns, usageCSV, usageOption, usageShares,
  segmentationOption, sessionsOption, toCSV,
} from './options';

const seg: Result = {
  x_values: ['2026-01-01', '2026-01-02', '2026-01-03'],
  series: [
    { label: 'Open · iOS', event: 0, segment: 0, values: [1, 2, 3], collapsed: 4 },
    { label: 'Open · Web', event: 0, segment: 0, values: [4, 5, 6], collapsed: 9 },
    { label: 'Open · iOS', event: 0, segment: 0, values: [0, 1, 1], collapsed: 2, compare: true },
  ],
};

describe('segmentationOption', () => {
  it('draws lines over time with compared periods dashed', () => {
    const o = segmentationOption(seg, 'line');
    expect((o.xAxis as { data: string[] }).data).toEqual(seg.x_values);
    expect(o.series.map((s) => s.type)).toEqual(['line', 'line', 'line']);
    expect(o.series.map((s) => s.name)).toEqual(['Open · iOS', 'Open · Web', 'Open · iOS (previous)']);
    expect(o.series[0].stack).toBeUndefined();
    expect(o.series[2].lineStyle).toEqual({ type: 'dashed' });
  });

  it('stacks areas but not the compared period', () => {
    const o = segmentationOption(seg, 'area');
    expect(o.series[0].stack).toBe('total');
    expect(o.series[1].areaStyle).toBeDefined();
    expect(o.series[2].stack).toBeUndefined();
  });

  it('draws one horizontal bar per series from the whole-range figure', () => {
    const o = segmentationOption(seg, 'bar');
    expect(o.series).toHaveLength(1);
    expect(o.series[0].type).toBe('bar');
    expect((o.series[0].data as { value: number }[]).map((d) => d.value)).toEqual([4, 9, 2]);
    expect((o.yAxis as { data: string[] }).data).toEqual(['Open · iOS', 'Open · Web', 'Open · iOS (previous)']);
  });

  it('does not mark a compared series twice', () => {
    const o = segmentationOption({ ...seg, series: [{ ...seg.series[2], label: 'Open · iOS (compare)' }] }, 'line');
    expect(o.series[0].name).toBe('Open · iOS (compare)');
  });

  it('draws at most maxDrawn series', () => {
    const many: Result = { x_values: ['a'], series: Array.from({ length: 30 }, (_, i) => ({ label: `s${i}`, event: 0, segment: 0, values: [i], collapsed: i })) };
    expect(segmentationOption(many, 'line').series).toHaveLength(maxDrawn);
  });

  it('formats the value axis with the unit', () => {
    const o = segmentationOption(seg, 'line', '%');
    const fmt = (o.yAxis as { axisLabel: { formatter: (v: number) => string } }).axisLabel.formatter;
    expect(fmt(12.5)).toBe('12.5%');
  });
});

const funnel: FunnelResult = {
  steps: ['Visit', 'Sign up', 'Purchase'],
  x_values: ['2026-01-01', '2026-01-02'],
  series: [{
    label: 'All users', segment: 0, counts: [200, 50, 10], cumulative: [1, 0.25, 0.05], step_by_step: [1, 0.25, 0.2],
    avg_trans_ms: [0, 1000, 2000], median_trans_ms: [0, 900, 60000], over_time: [[100, 10], [100, 30]],
    time_to_convert: { width: 1000, bins: [{ start: 0, end: 1000, count: 3 }, { start: 60000, end: 120000, count: 7 }] },
    median_convert_ms: 60000, avg_convert_ms: 50000,
  }],
};

describe('funnels', () => {
  it('computes conversion and drop-off per step', () => {
    expect(funnelSteps(funnel)).toEqual([
      { label: 'Visit', count: 200, overall: 100, fromPrevious: 100, dropOff: 0, medianMs: 0 },
      { label: 'Sign up', count: 50, overall: 25, fromPrevious: 25, dropOff: 150, medianMs: 900 },
      { label: 'Purchase', count: 10, overall: 5, fromPrevious: 20, dropOff: 40, medianMs: 60000 },
    ]);
    expect(funnelSteps({ steps: [], x_values: [], series: [] })).toEqual([]);
  });
  it('stacks converted and dropped-off bars for one series', () => {
    const o = funnelOption(funnel, 'steps');
    expect(o.series.map((s) => [s.name, s.stack, s.data])).toEqual([
      ['Converted', 'funnel', [200, 50, 10]],
      ['Dropped off', 'funnel', [0, 150, 40]],
    ]);
    expect((o.xAxis as { data: string[] }).data).toEqual(['1. Visit', '2. Sign up', '3. Purchase']);
  });
  it('puts segments side by side as conversion percentages', () => {
    const two = { ...funnel, series: [funnel.series[0], { ...funnel.series[0], label: 'Web', cumulative: [1, 0.5, 0.125] }] };
    const o = funnelOption(two, 'steps');
    expect(o.series.map((s) => [s.name, s.stack, s.data])).toEqual([
      ['All users', undefined, [100, 25, 5]],
      ['Web', undefined, [100, 50, 12.5]],
    ]);
  });
  it('draws conversion over time and time to convert', () => {
    expect(funnelOption(funnel, 'over_time').series[0].data).toEqual([10, 30]);
    const t = funnelOption(funnel, 'time_to_convert');
    expect(t.series[0].data).toEqual([3, 7]);
    expect((t.xAxis as { data: string[] }).data).toEqual(['0 ms–1 s', '1 min–2 min']);
    expect(funnelCSV(funnel).split('\r\n')[2]).toBe('All users,Sign up,50,25,25,900');
  });
});

describe('retention', () => {
  const ret: RetentionResult = {
    cohorts: ['2026-01-01', '2026-01-02'],
    columns: ['Day 0', 'Day 1', 'Day 2'],
    series: [{
      label: 'Active', segment: 0, event: 0, users: 15,
      overall: [{ count: 15, outof: 15 }, { count: 6, outof: 15 }, { count: 2, outof: 10 }],
      rows: [
        { cohort: '2026-01-01', size: 10, cells: [{ count: 10, outof: 10 }, { count: 4, outof: 10 }, { count: 2, outof: 10 }] },
        { cohort: '2026-01-02', size: 5, cells: [{ count: 5, outof: 5 }, { count: 2, outof: 5 }, { count: 0, outof: 5, incomplete: true }] },
      ],
    }],
  };
  it('draws a heat grid with the overall row first and no incomplete cells', () => {
    const o = retentionOption(ret, 'grid');
    expect(o.series[0].type).toBe('heatmap');
    expect(o.series[0].data).toEqual([[0, 0, 100], [1, 0, 40], [2, 0, 20], [0, 1, 100], [1, 1, 40], [2, 1, 20], [0, 2, 100], [1, 2, 40]]);
    expect((o.yAxis as { data: string[] }).data).toEqual(['Overall (15)', '2026-01-01 (10)', '2026-01-02 (5)']);
  });
  it('draws the overall curve and writes CSV', () => {
    const o = retentionOption(ret, 'curve');
    expect(o.series.map((s) => s.data)).toEqual([[100, 40, 20]]);
    expect(retentionPct({ count: 1, outof: 3 })).toBe(33.3);
    expect(retentionPct({ count: 1, outof: 0 })).toBeNull();
    expect(retentionCSV(ret).split('\r\n').slice(0, 4)).toEqual([
      'Series,Cohort,Users,Day 0,Day 1,Day 2', 'Active,Overall,15,100,40,20', 'Active,2026-01-01,10,100,40,20', 'Active,2026-01-02,5,100,40,',
    ]);
  });
});

describe('usage interval', () => {
  const usage: RetentionResult = {
    cohorts: [], columns: ['1 day', '2 days', '3+ days'],
    series: [{ label: 'Play · All Users', segment: 0, event: 0, users: 8, overall: [], rows: [], usage: [4, 2, 2] }],
  };
  it('draws each gap\'s share as bars and the running share as a line', () => {
    expect(isUsage(usage)).toBe(true);
    expect(isUsage({ cohorts: [], columns: [], series: [{ label: 'x', segment: 0, event: 0, users: 0, overall: [], rows: [] }] })).toBe(false);
    expect(usageShares(usage.series[0])).toEqual([{ pct: 50, cumulative: 50 }, { pct: 25, cumulative: 75 }, { pct: 25, cumulative: 100 }]);
    const o = usageOption(usage);
    expect(o.series.map((s) => [s.type, s.data])).toEqual([['bar', [50, 25, 25]], ['line', [50, 75, 100]]]);
  });
  it('writes CSV with the users and the running share', () => {
    expect(usageCSV(usage).split('\r\n').slice(0, 3)).toEqual([
      'Series,Measure,Users,1 day,2 days,3+ days', 'Play · All Users,Users,8,4,2,2', 'Play · All Users,This or less %,8,50,75,100',
    ]);
  });
  it('shows columns up to the last one with users', () => {
    const r: RetentionResult = { ...usage, columns: ['1 day', '2 days', '3 days', '4 days'], series: [{ ...usage.series[0], usage: [4, 4, 0, 0] }] };
    expect(usageColumns(r)).toBe(2);
    expect((usageOption(r).xAxis as { data: string[] }).data).toEqual(['1 day', '2 days']);
    expect(usageColumns({ ...r, series: [{ ...r.series[0], usage: [0, 0, 0, 0] }] })).toBe(1);
  });
  it('has no shares without users', () => {
    expect(usageShares({ label: 'x', segment: 0, event: 0, users: 0, overall: [], rows: [], usage: [0, 0] })).toEqual([{ pct: 0, cumulative: 0 }, { pct: 0, cumulative: 0 }]);
  });
});

describe('sessions', () => {
  it('draws the length histogram as bars and measures as lines', () => {
    const r: Result = { x_values: ['2026-01-01'], series: [{ label: '0s-3s', event: 0, segment: 0, values: [5], collapsed: 5 }, { label: '3s-10s', event: 0, segment: 0, values: [3], collapsed: 3 }] };
    const bar = sessionsOption(r, 'bar');
    expect(bar.series[0].type).toBe('bar');
    expect((bar.yAxis as { data: string[] }).data).toEqual(['0s-3s', '3s-10s']);
    expect(sessionsOption(r, 'line').series[0].type).toBe('line');
    expect(formatDuration(90_000)).toBe('1.5 min');
    expect(formatValue(12, 's')).toBe('12 s');
  });
});

describe('formatValue and toCSV', () => {
  it.each([
    [1234, undefined, '1,234'],
    [12.345, undefined, '12.35'],
    [0.12345, undefined, '0.123'],
    [150.25, '%', '150.3%'],
    [3, '$', '$3'],
    [Number.NaN, undefined, '–'],
  ])('formatValue(%d, %s)', (v, f, want) => {
    expect(formatValue(v, f)).toBe(want);
  });

  it('writes one row per series, quoting where needed', () => {
    const r: Result = {
      x_values: ['2026-01-01', '2026-01-02'],
      series: [
        { label: 'Open, "web"', event: 0, segment: 0, values: [1, 2.5], collapsed: 3 },
        { label: 'Open', event: 0, segment: 0, values: [0, Number.NaN], collapsed: 0, compare: true },
      ],
    };
    expect(toCSV(r)).toBe('Series,2026-01-01,2026-01-02,Whole range\r\n"Open, ""web""",1,2.5,3\r\nOpen (previous),0,,0\r\n');
  });
});
