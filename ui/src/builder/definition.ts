// Helpers over analysis definitions: what the builder sends is the
// state minus the rows a person has not finished filling in.
import type { Definition, EventSpec, Filter, PropRef, Segment, SessionFilter, SessionMetric, SessionsDef, StepSpec } from '../api/types';

const noValueOps = new Set(['set', 'not set']);

function completeFilter(f: Filter): boolean {
  return f.key.trim() !== '' && (noValueOps.has(f.op) || (f.values ?? []).length > 0);
}

function completeProp(p: PropRef): boolean {
  return p.key.trim() !== '';
}

function cleanEvent(e: EventSpec): EventSpec {
  const out: EventSpec = { event_type: e.event_type.trim() };
  const filters = (e.filters ?? []).filter(completeFilter);
  if (filters.length) out.filters = filters;
  const groups = (e.group_by ?? []).filter(completeProp);
  if (groups.length) out.group_by = groups;
  if (e.property && completeProp(e.property)) out.property = e.property;
  if (e.label) out.label = e.label;
  return out;
}

function cleanStep<S extends StepSpec>(e: S): S {
  const out = { ...e, event_type: e.event_type.trim() };
  const filters = (e.filters ?? []).filter(completeFilter);
  if (filters.length) out.filters = filters; else delete out.filters;
  return out;
}

function cleanSegments(ss: Segment[] | undefined): Segment[] | undefined {
  if (!ss || ss.length === 0) return undefined;
  return ss.map((s) => {
    const out: Segment = { ...s };
    const filters = (s.filters ?? []).filter(completeFilter);
    if (filters.length) out.filters = filters; else delete out.filters;
    return out;
  });
}

/** cleanDefinition drops unfinished filters, group-bys and segments' filters. */
export function cleanDefinition(def: Definition): Definition {
  switch (def.type) {
    case 'segmentation': {
      const out = { ...def, events: def.events.map(cleanEvent), segments: cleanSegments(def.segments) };
      if (out.metric !== 'formula') delete out.formula;
      if (!out.segments) delete out.segments;
      return out;
    }
    case 'funnel': {
      const out = { ...def, steps: def.steps.map(cleanStep), segments: cleanSegments(def.segments) };
      const exclusions = (def.exclusions ?? []).filter((e) => e.event_type.trim() !== '').map(cleanStep);
      if (exclusions.length) out.exclusions = exclusions; else delete out.exclusions;
      const hold = (def.hold ?? []).filter(completeProp);
      if (hold.length) out.hold = hold; else delete out.hold;
      if (!out.group_by || !completeProp(out.group_by)) delete out.group_by;
      if (!out.segments) delete out.segments;
      return out;
    }
    case 'retention': {
      const out = { ...def, start: cleanStep(def.start), return: def.return.map(cleanStep), segments: cleanSegments(def.segments) };
      if (out.view === 'usage_interval') {
        // The view ignores them; leaving them out keeps links and saved charts honest.
        delete out.mode;
        delete out.calendar;
        delete out.intervals;
      } else delete out.view;
      if (!out.group_by || !completeProp(out.group_by)) delete out.group_by;
      if (!out.segments) delete out.segments;
      return out;
    }
    case 'sessions': {
      const out = { ...def, segments: cleanSegments(def.segments) };
      if (!out.segments) delete out.segments;
      if (isEventMetric(def.metric) && def.event) out.event = cleanStep(def.event); else delete out.event;
      const filters = (def.filters ?? []).filter(completeSessionFilter).map((f) =>
        f.type === 'contains' && f.event ? { ...f, event: { ...f.event, filters: (f.event.filters ?? []).filter(completeFilter) } } : f);
      if (filters.length) out.filters = filters; else delete out.filters;
      return out;
    }
  }
}

/** isEventMetric reports whether a sessions metric counts events within sessions. */
export function isEventMetric(m: string): boolean {
  return m === 'event_average' || m === 'event_total' || m === 'event_distribution';
}

/** completeSessionFilter reports whether a session filter is filled in enough to send. */
export function completeSessionFilter(f: SessionFilter): boolean {
  switch (f.type) {
    case 'duration': return (f.min_ms ?? 0) > 0 || (f.max_ms ?? 0) > 0;
    case 'contains': return !!f.event?.event_type.trim();
    default: return !!f.filter && completeFilter(f.filter);
  }
}

/** missing says what a definition still needs before it can run, or null. */
export function missing(def: Definition): string | null {
  switch (def.type) {
    case 'segmentation':
      if (def.events.some((e) => !e.event_type.trim())) return 'Choose an event for every row.';
      if (def.metric === 'formula' && !def.formula?.trim()) return 'Write a formula, e.g. A / B.';
      if (def.metric?.startsWith('prop_') && def.events.some((e) => !e.property?.key)) return 'Choose the numeric property to aggregate.';
      return null;
    case 'funnel':
      if (def.steps.length < 2) return 'A funnel needs at least two steps.';
      if (def.steps.some((e) => !e.event_type.trim())) return 'Choose an event for every step.';
      return null;
    case 'retention':
      if (def.view === 'usage_interval') {
        if (!def.start.event_type.trim()) return 'Choose the event whose usage interval to measure.';
        if (def.start.event_type === '_new') return 'The usage interval needs an event: a user is new only once.';
        return null;
      }
      if (!def.start.event_type.trim() || def.return.some((e) => !e.event_type.trim())) return 'Choose the start and return events.';
      return null;
    case 'sessions':
      if (isEventMetric(def.metric) && def.event && !def.event.event_type.trim()) return 'Choose the event to count within sessions.';
      return null;
  }
}

/** letters name a chart's events in formulas: A, B, ... */
export function letter(i: number): string {
  return String.fromCharCode(65 + i);
}

/** valueFormat is the unit of a segmentation metric's figures. */
export function valueFormat(def: Definition): string | undefined {
  if (def.type === 'segmentation' && def.metric === 'active_pct') return '%';
  if (def.type === 'sessions' && ['average', 'time_per_user', 'time_spent'].includes(def.metric)) return 's';
  return undefined;
}

/** sessionMetrics names the sessions measures, in the builder's order. */
export const sessionMetrics: { key: SessionMetric; label: string }[] = [
  { key: 'average', label: 'Average length' }, { key: 'length', label: 'Length distribution' }, { key: 'total', label: 'Total sessions' },
  { key: 'per_user', label: 'Sessions per user' }, { key: 'time_per_user', label: 'Time spent per user' }, { key: 'time_spent', label: 'Time spent' },
  { key: 'event_average', label: 'Events per session' }, { key: 'event_total', label: 'Events within sessions' },
  { key: 'event_distribution', label: 'Sessions by event count' },
];

/** sessionsLabel names a sessions series: its metric key (after any "segment · ") becomes the measure's name. */
export function sessionsLabel(def: SessionsDef, label: string): string {
  const name = sessionMetrics.find((m) => m.key === def.metric)?.label;
  if (!name) return label;
  if (label === def.metric) return name;
  return label.endsWith(' · ' + def.metric) ? label.slice(0, -def.metric.length) + name : label;
}
