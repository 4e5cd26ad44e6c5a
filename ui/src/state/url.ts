// The analysis state lives in the URL so every view can be shared by its
// link: the chart builder keeps its definition in ?q= (JSON) and the
// visualisation in ?viz=; dashboards keep a date range override in
// ?range=.
import type { AnalysisType, Definition, Range, Viz } from '../api/types';

export interface ChartState {
  def: Definition;
  viz: Viz;
}

export const defaultRange: Range = { last: 30, unit: 'day' };

/** defaultDefinition is a new chart of the given type. */
export function defaultDefinition(type: AnalysisType): Definition {
  switch (type) {
    case 'funnel':
      return {
        type, version: 1, steps: [{ event_type: '' }, { event_type: '' }], order: 'this', window_seconds: 86400,
        counting: 'uniques', range: { ...defaultRange }, interval: 'day',
      };
    case 'retention':
      return {
        type, version: 1, start: { event_type: '_new' }, return: [{ event_type: '_active' }], mode: 'n_day',
        range: { ...defaultRange }, interval: 'day',
      };
    case 'sessions':
      return { type, version: 1, metric: 'average', range: { ...defaultRange }, interval: 'day' };
    default:
      return {
        type: 'segmentation', version: 1, events: [{ event_type: '_active' }], metric: 'uniques',
        range: { ...defaultRange }, interval: 'day',
      };
  }
}

export const analysisTypes: AnalysisType[] = ['segmentation', 'funnel', 'retention', 'sessions'];

/** vizFor lists each analysis type's visualisations, the default first. */
export const vizFor: Record<AnalysisType, Viz[]> = {
  segmentation: ['line', 'area', 'bar', 'table'],
  funnel: ['steps', 'over_time', 'time_to_convert'],
  retention: ['grid', 'curve'],
  sessions: ['line', 'bar', 'table'],
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** validRange reports whether r is one of the three range forms. */
export function validRange(r: unknown): r is Range {
  if (!isObject(r)) return false;
  if (typeof r.start === 'string' && typeof r.end === 'string') return true;
  if (typeof r.last === 'number' && r.last > 0) return true;
  return typeof r.relative === 'string' && r.relative !== '';
}

/**
 * parseDefinition reads a definition from untrusted JSON (a link someone
 * typed or edited), filling what is missing from the type's defaults.
 * It returns null when the text is not a definition at all.
 */
export function parseDefinition(text: string | null): Definition | null {
  if (!text) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(v) || !analysisTypes.includes(v.type as AnalysisType)) return null;
  const base = defaultDefinition(v.type as AnalysisType) as unknown as Record<string, unknown>;
  const out = { ...base, ...v, version: 1 } as Record<string, unknown>;
  if (!validRange(out.range)) out.range = { ...defaultRange };
  if (out.type === 'segmentation' && (!Array.isArray(out.events) || out.events.length === 0)) out.events = base.events;
  if (out.type === 'funnel' && (!Array.isArray(out.steps) || out.steps.length === 0)) out.steps = base.steps;
  if (out.type === 'retention' && (!Array.isArray(out.return) || out.return.length === 0)) out.return = base.return;
  if (out.type === 'retention' && !isObject(out.start)) out.start = base.start;
  return out as unknown as Definition;
}

/** decodeState reads the chart state from a location's search string. */
export function decodeState(search: string, fallbackType: AnalysisType = 'segmentation'): ChartState {
  const p = new URLSearchParams(search);
  const def = parseDefinition(p.get('q')) ?? defaultDefinition(fallbackType);
  const v = p.get('viz') as Viz | null;
  const allowed = vizFor[def.type];
  return { def, viz: v && allowed.includes(v) ? v : allowed[0] };
}

/** encodeState writes the chart state as a search string (with "?"). */
export function encodeState(s: ChartState, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams(extra);
  p.set('q', JSON.stringify(s.def));
  p.set('viz', s.viz);
  return '?' + p.toString();
}

/** withRange returns def with its range replaced (dashboard override). */
export function withRange<D extends Definition>(def: D, range: Range | null): D {
  return range ? { ...def, range: { ...range } } : def;
}

/** decodeRange reads ?range= (a dashboard's override); null when absent or invalid. */
export function decodeRange(search: string): Range | null {
  const raw = new URLSearchParams(search).get('range');
  if (!raw) return null;
  try {
    const r: unknown = JSON.parse(raw);
    return validRange(r) ? r : null;
  } catch {
    return null;
  }
}

const relativeLabels: Record<string, string> = {
  today: 'Today', yesterday: 'Yesterday', this_week: 'This week', last_week: 'Last week',
  this_month: 'This month', last_month: 'Last month', this_quarter: 'This quarter',
  last_quarter: 'Last quarter', this_year: 'This year',
};
export const relativeRanges = Object.keys(relativeLabels);

/** rangeLabel describes a range for people. */
export function rangeLabel(r: Range): string {
  if (r.start && r.end) return `${r.start} → ${r.end}`;
  if (r.last) {
    const unit = r.unit ?? 'day';
    return `Last ${r.last} ${unit}${r.last === 1 ? '' : 's'}`;
  }
  if (r.relative) return relativeLabels[r.relative] ?? r.relative;
  return 'No range';
}
