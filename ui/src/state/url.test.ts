import { describe, expect, it } from 'vitest';
import type { SegmentationDef } from '../api/types';
import {
  analysisTypes, vizFor, decodeRange, decodeState, defaultDefinition, encodeState, parseDefinition, rangeLabel, withRange,
} from './url';

describe('chart state in the URL', () => {
  it('round-trips every analysis type and its visualisations', () => {
    for (const type of analysisTypes) {
      for (const viz of vizFor[type]) {
        const s = { def: defaultDefinition(type), viz };
        expect(decodeState(encodeState(s))).toEqual(s);
      }
    }
  });

  it('refuses a visualisation of another analysis type', () => {
    expect(decodeState(encodeState({ def: defaultDefinition('retention'), viz: 'area' })).viz).toBe('grid');
    expect(decodeState(encodeState({ def: defaultDefinition('segmentation'), viz: 'steps' })).viz).toBe('line');
  });

  it('keeps a full segmentation definition', () => {
    const def: SegmentationDef = {
      type: 'segmentation', version: 1, metric: 'prop_sum',
      events: [{ event_type: 'Purchase', filters: [{ type: 'event', key: 'plan', op: 'is', values: ['pro', 'a,b'] }], group_by: [{ type: 'device', key: 'country' }], property: { type: 'event', key: 'price' } }],
      range: { start: '2026-01-01', end: '2026-01-31' }, interval: 'week', segments: [{ name: 'New', users: 'new' }],
      compare: { period: 'previous' }, cumulative: true,
    };
    const search = encodeState({ def, viz: 'area' }, { chart: '4' });
    expect(new URLSearchParams(search).get('chart')).toBe('4');
    expect(decodeState(search)).toEqual({ def, viz: 'area' });
  });

  it.each([
    ['', 'segmentation', 'line'],
    ['?q=not-json', 'segmentation', 'line'],
    ['?q=%7B%22type%22%3A%22pie%22%7D', 'segmentation', 'line'],
    ['?q=%5B1%5D&viz=bar', 'segmentation', 'bar'],
    ['?viz=sparkle', 'segmentation', 'line'],
  ])('falls back to defaults for %s', (search, type, viz) => {
    const s = decodeState(search);
    expect(s.def.type).toBe(type);
    expect(s.viz).toBe(viz);
  });

  it('fills what a hand-edited link lacks', () => {
    const d = parseDefinition('{"type":"segmentation","events":[],"range":{"last":-3}}') as SegmentationDef;
    expect(d.version).toBe(1);
    expect(d.events).toEqual([{ event_type: '_active' }]);
    expect(d.range).toEqual({ last: 30, unit: 'day' });
    const f = parseDefinition('{"type":"funnel","range":{"relative":"this_week"}}');
    expect(f?.type === 'funnel' && f.steps.length).toBe(2);
    expect(f?.range).toEqual({ relative: 'this_week' });
  });

  it('defaults each type to its first visualisation', () => {
    expect(decodeState('?q=' + encodeURIComponent(JSON.stringify(defaultDefinition('funnel')))).viz).toBe('steps');
    expect(decodeState('?q=' + encodeURIComponent('{"type":"retention","return":[]}')).def).toMatchObject({ return: [{ event_type: '_active' }], start: { event_type: '_new' } });
  });
});

describe('dashboard range override', () => {
  it('reads a valid ?range= only', () => {
    expect(decodeRange('?range=' + encodeURIComponent('{"last":7,"unit":"day"}'))).toEqual({ last: 7, unit: 'day' });
    expect(decodeRange('?range=' + encodeURIComponent('{"relative":"today"}'))).toEqual({ relative: 'today' });
    expect(decodeRange('?range=' + encodeURIComponent('{"start":"2026-01-01"}'))).toBeNull();
    expect(decodeRange('?range=junk')).toBeNull();
    expect(decodeRange('')).toBeNull();
  });

  it('replaces a chart range without touching the rest', () => {
    const def = defaultDefinition('segmentation');
    const got = withRange(def, { relative: 'last_month' });
    expect(got.range).toEqual({ relative: 'last_month' });
    expect(def.range).toEqual({ last: 30, unit: 'day' });
    expect(withRange(def, null)).toBe(def);
  });
});

describe('rangeLabel', () => {
  it.each([
    [{ last: 30, unit: 'day' }, 'Last 30 days'],
    [{ last: 1, unit: 'week' }, 'Last 1 week'],
    [{ last: 12 }, 'Last 12 days'],
    [{ relative: 'this_month' }, 'This month'],
    [{ start: '2026-01-01', end: '2026-01-31' }, '2026-01-01 → 2026-01-31'],
    [{}, 'No range'],
  ])('%j', (r, want) => {
    expect(rangeLabel(r)).toBe(want);
  });
});
