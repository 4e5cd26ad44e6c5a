import { describe, expect, it } from 'vitest';
import type { Definition, RetentionDef, SegmentationDef, SessionsDef } from '../api/types';
import { cleanDefinition, completeSessionFilter, isEventMetric, letter, missing, sessionsLabel, valueFormat } from './definition';
import { splitValues } from './pickers';
import { defaultDefinition } from '../state/url';
import { snippets } from '../pages/Home';

describe('cleanDefinition', () => {
  it('drops unfinished filters and group-bys', () => {
    const def: SegmentationDef = {
      type: 'segmentation', version: 1, metric: 'uniques', formula: 'A', range: { last: 7 },
      events: [{
        event_type: ' Open ',
        filters: [
          { type: 'event', key: 'plan', op: 'is', values: ['pro'] },
          { type: 'event', key: '', op: 'is', values: ['x'] },
          { type: 'event', key: 'plan', op: 'is', values: [] },
          { type: 'user', key: 'email', op: 'set' },
        ],
        group_by: [{ type: 'device', key: 'country' }, { type: 'event', key: '' }],
      }],
      segments: [{ name: 'a', filters: [{ type: 'user', key: '', op: 'is', values: [] }] }],
    };
    expect(cleanDefinition(def)).toEqual({
      type: 'segmentation', version: 1, metric: 'uniques', range: { last: 7 },
      events: [{
        event_type: 'Open',
        filters: [{ type: 'event', key: 'plan', op: 'is', values: ['pro'] }, { type: 'user', key: 'email', op: 'set' }],
        group_by: [{ type: 'device', key: 'country' }],
      }],
      segments: [{ name: 'a' }],
    });
  });
});

describe('cleanDefinition of the usage interval view', () => {
  it('drops what the view ignores, and the view when it is the default', () => {
    const r = { ...(defaultDefinition('retention') as RetentionDef), mode: 'unbounded' as const, calendar: true, intervals: 5 };
    const u = cleanDefinition({ ...r, view: 'usage_interval' }) as RetentionDef;
    expect([u.view, u.mode, u.calendar, u.intervals]).toEqual(['usage_interval', undefined, undefined, undefined]);
    const t = cleanDefinition({ ...r, view: 'retention' }) as RetentionDef;
    expect([t.view, t.mode, t.calendar, t.intervals]).toEqual([undefined, 'unbounded', true, 5]);
  });
});

describe('cleanDefinition of sessions', () => {
  it('keeps finished session filters and the counted event of event metrics only', () => {
    const base = defaultDefinition('sessions') as SessionsDef;
    const d = cleanDefinition({
      ...base, metric: 'event_average', event: { event_type: ' Add ', filters: [{ type: 'event', key: '', op: 'is', values: [] }] },
      filters: [
        { type: 'contains', event: { event_type: 'Buy', op: '>=', count: 2, filters: [{ type: 'event', key: 'x', op: 'is', values: [] }] } },
        { type: 'contains', event: { event_type: '' } },
        { type: 'duration', min_ms: 60000 },
        { type: 'duration' },
        { type: 'first', filter: { type: 'event', key: 'page', op: 'is', values: ['home'] } },
        { type: 'last', filter: { type: 'event', key: '', op: 'is', values: [] } },
      ],
      segments: [],
    }) as SessionsDef;
    expect(d.event).toEqual({ event_type: 'Add' });
    expect(d.filters).toEqual([
      { type: 'contains', event: { event_type: 'Buy', op: '>=', count: 2, filters: [] } },
      { type: 'duration', min_ms: 60000 },
      { type: 'first', filter: { type: 'event', key: 'page', op: 'is', values: ['home'] } },
    ]);
    expect(d.segments).toBeUndefined();
    expect((cleanDefinition({ ...base, metric: 'total', event: { event_type: 'Add' } }) as SessionsDef).event).toBeUndefined();
  });
  it('names sessions series by their measure', () => {
    const d = { ...(defaultDefinition('sessions') as SessionsDef), metric: 'event_average' as const };
    expect(sessionsLabel(d, 'event_average')).toBe('Events per session');
    expect(sessionsLabel(d, 'DE · event_average')).toBe('DE · Events per session');
    expect(sessionsLabel({ ...d, metric: 'length' }, '0s-3s')).toBe('0s-3s');
  });
  it('names event metrics', () => {
    expect(['event_average', 'event_total', 'event_distribution', 'total'].map(isEventMetric)).toEqual([true, true, true, false]);
    expect(completeSessionFilter({ type: 'duration', max_ms: 1000 })).toBe(true);
  });
});

describe('missing', () => {
  const seg = defaultDefinition('segmentation') as SegmentationDef;
  it.each<[string, Definition, string | null]>([
    ['default segmentation', seg, null],
    ['empty event', { ...seg, events: [{ event_type: '' }] }, 'Choose an event for every row.'],
    ['formula without text', { ...seg, metric: 'formula' }, 'Write a formula, e.g. A / B.'],
    ['property metric without property', { ...seg, metric: 'prop_sum' }, 'Choose the numeric property to aggregate.'],
    ['default funnel', defaultDefinition('funnel'), 'Choose an event for every step.'],
    ['default retention', defaultDefinition('retention'), null],
    ['usage interval without an event', { ...(defaultDefinition('retention') as RetentionDef), view: 'usage_interval', start: { event_type: '' }, return: [{ event_type: '' }] }, 'Choose the event whose usage interval to measure.'],
    ['usage interval of new users', { ...(defaultDefinition('retention') as RetentionDef), view: 'usage_interval', start: { event_type: '_new' } }, 'The usage interval needs an event: a user is new only once.'],
    ['usage interval ignores return events', { ...(defaultDefinition('retention') as RetentionDef), view: 'usage_interval', start: { event_type: 'Play' }, return: [{ event_type: '' }] }, null],
    ['sessions', defaultDefinition('sessions'), null],
    ['sessions counting no event', { ...(defaultDefinition('sessions') as SessionsDef), metric: 'event_total', event: { event_type: '' } }, 'Choose the event to count within sessions.'],
  ])('%s', (_, def, want) => {
    expect(missing(def)).toBe(want);
  });
});

describe('small helpers', () => {
  it('names events and formats', () => {
    expect([0, 1, 25].map(letter)).toEqual(['A', 'B', 'Z']);
    expect(valueFormat({ ...(defaultDefinition('segmentation') as SegmentationDef), metric: 'active_pct' })).toBe('%');
    expect(valueFormat(defaultDefinition('sessions'))).toBe('s');
    expect(valueFormat({ type: 'sessions', version: 1, metric: 'total', range: { last: 7 } })).toBeUndefined();
    expect(splitValues(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
  });

  it('fills the snippets with the key and the server URL', () => {
    const s = snippets('KEY123', 'http://crest.example:8080/');
    expect(s.browser).toContain("amplitude.init('KEY123'");
    expect(s.browser).toContain("serverUrl: 'http://crest.example:8080/2/httpapi'");
    expect(s.browser).toContain('fetchRemoteConfig: false');
    expect(s.browser).toContain('enableDiagnostics: false');
    expect(s.node).toContain("init('KEY123', { serverUrl: 'http://crest.example:8080/2/httpapi' })");
    expect(s.curl).toContain("curl -X POST 'http://crest.example:8080/2/httpapi'");
    expect(s.curl).toContain('"api_key": "KEY123"');
  });
});
