// Wire types of Crest's /api/v1 endpoints (docs/api.md, docs/query.md).

export type Role = 'viewer' | 'member' | 'admin';

export interface Account { id: number; email: string; created: string; disabled: boolean }
export interface Org { id: number; name: string; created: string; role: Role }
export interface Project { id: number; org_id: number; name: string; time_zone: string; created: string; role: Role }
export interface Member { account_id: number; email: string; role: Role; disabled: boolean }
export interface Key {
  id: number; kind: 'api' | 'secret'; value?: string; hint: string; created: string; expires: string | null; active: boolean;
}
export interface Invitation { id: number; org_id: number; role: Role; email: string; created: string; expires: string; used: string | null }
export interface ProjectRoleOverride { account_id: number; email: string; role: Role }
export interface Me { account: Account; orgs: Org[]; session_id: number; csrf_token: string }
export interface List<T> { items: T[] }

// Analyses (internal/query).
export type PropType = 'event' | 'user' | 'group' | 'device';
export interface PropRef { type: PropType; key: string }
export interface Filter extends PropRef { op: string; values?: string[] }
export interface EventSpec {
  event_type: string;
  filters?: Filter[];
  group_by?: PropRef[];
  property?: PropRef;
  label?: string;
}
export interface Segment { name?: string; users?: 'any' | 'active' | 'new'; filters?: Filter[] }
export interface Range { start?: string; end?: string; last?: number; unit?: string; relative?: string }
export type Interval = 'realtime' | 'hour' | 'day' | 'week' | 'month' | 'quarter';
export type Metric =
  | 'uniques' | 'totals' | 'active_pct' | 'average' | 'frequency'
  | 'prop_sum' | 'prop_avg' | 'prop_min' | 'prop_max' | 'prop_median' | 'prop_distribution' | 'formula';

export interface SegmentationDef {
  type: 'segmentation';
  version: 1;
  events: EventSpec[];
  metric?: Metric;
  formula?: string;
  range: Range;
  interval?: Interval;
  segments?: Segment[];
  group_limit?: number;
  cumulative?: boolean;
  rolling?: { window: number; mode?: 'average' | 'window' };
  compare?: { period?: 'previous'; days?: number };
  week_start?: 'sunday' | 'monday';
}

// Funnels, retention and sessions (spec §5.2, §5.3, §5.6; internal/query
// funnel.go, retention.go, sessions.go).
export interface StepSpec { event_type: string; filters?: Filter[]; label?: string; optional?: boolean }
export interface FunnelDef {
  type: 'funnel';
  version: 1;
  steps: StepSpec[];
  order?: 'this' | 'any' | 'exact';
  window_seconds?: number;
  range: Range;
  interval?: Interval;
  segments?: Segment[];
  new_users?: 'any_day' | 'first_day';
  exclusions?: (StepSpec & { from_step?: number; to_step?: number })[];
  hold?: PropRef[];
  group_by?: PropRef & { step?: number };
  counting?: 'uniques' | 'totals';
  resolution?: 'second' | 'millisecond';
  convert?: { from: number; to: number };
}
export interface RetentionDef {
  type: 'retention';
  version: 1;
  start: StepSpec;
  return: StepSpec[];
  mode?: 'n_day' | 'unbounded';
  calendar?: boolean;
  interval?: Interval;
  range: Range;
  intervals?: number;
  segments?: Segment[];
  group_by?: PropRef;
  /** usage_interval: each user's median gap between days with the start event (return, mode and calendar are ignored). */
  view?: 'retention' | 'usage_interval';
}
export type SessionMetric = 'length' | 'average' | 'per_user' | 'time_per_user' | 'total' | 'time_spent' | 'event_average' | 'event_total' | 'event_distribution';
/** SessionFilter keeps sessions: duration in [min_ms, max_ms), containing op count events, or whose first / last event satisfies filter. */
export interface SessionFilter {
  type: 'duration' | 'contains' | 'first' | 'last';
  min_ms?: number;
  max_ms?: number;
  event?: { event_type: string; filters?: Filter[]; op?: string; count?: number };
  filter?: Filter;
}
export interface SessionsDef {
  type: 'sessions';
  version: 1;
  metric: SessionMetric;
  range: Range;
  interval?: Interval;
  /** The event the event_* metrics count. */
  event?: StepSpec;
  segments?: Segment[];
  filters?: SessionFilter[];
}
export type Definition = SegmentationDef | FunnelDef | RetentionDef | SessionsDef;
export type AnalysisType = Definition['type'];

export interface Series {
  label: string;
  event: number;
  formula?: number;
  segment: number;
  group?: string[];
  bucket?: string;
  compare?: boolean;
  format?: string;
  values: number[];
  collapsed: number;
}
export interface Result { x_values: string[]; series: Series[]; compare_x_values?: string[] }
export interface Histogram { width: number; bins: { start: number; end: number; count: number }[] }
export interface FunnelSeries {
  label: string;
  segment: number;
  group?: string[];
  counts: number[];
  cumulative: number[];
  step_by_step: number[];
  avg_trans_ms: number[];
  median_trans_ms: number[];
  over_time: number[][];
  time_to_convert: Histogram;
  median_convert_ms: number;
  avg_convert_ms: number;
  /** without: the funnel without the optional step (one entry per other step). */
  without?: FunnelSeries;
}
export interface FunnelResult { steps: string[]; x_values: string[]; series: FunnelSeries[] }
export interface RetentionCell { count: number; outof: number; incomplete?: boolean }
export interface RetentionSeries {
  label: string;
  segment: number;
  event: number;
  group?: string[];
  rows: { cohort: string; size: number; cells: RetentionCell[] }[];
  overall: RetentionCell[];
  users: number;
  /** The usage interval view: users per column (median gap of 1, 2, … intervals); users counts those with two days or more. */
  usage?: number[];
}
export interface RetentionResult { cohorts: string[]; columns: string[]; series: RetentionSeries[] }
export type AnyResult = Result | FunnelResult | RetentionResult;
export interface QueryResponse { definition: Definition; result: AnyResult }
/** Point names one data point of a segmentation chart (x "" = whole range). */
export interface Point { event: number; x: string; group?: string[]; segment: number }
/** FunnelPoint names one bar of a funnel (docs/funnels.md): step indexes counts (or without.counts). */
export interface FunnelPoint { segment: number; group?: string[]; step: number; outcome?: 'converted' | 'dropped'; x?: string; without?: boolean }
/** RetentionPoint names one retention cell; cohort "" is the overall row, size the cohort's users. */
export interface RetentionPoint { segment: number; event: number; group?: string[]; cohort?: string; column: number; size?: boolean }
export type AnyPoint = Point | FunnelPoint | RetentionPoint;
export interface PointUser { amplitude_id: number; user_id: string; events: number; last_seen: number }
export interface PointUsers { total: number; users: PointUser[]; offset: number; limit: number }

export interface EventTypeInfo { name: string; count: number; last_seen: number; active: boolean }
export interface PropertyInfo { key: string; count: number }
export interface ValueCount { value: string; count: number }

export interface UserMatch { user_id: string; amplitude_id: number; last_seen: number }
export interface UserSearch { type: string; matches: UserMatch[] }
export interface Profile {
  canonical_amplitude_id: number;
  user_id: string;
  merged_amplitude_ids: { amplitude_id: number; merge_time: number }[] | null;
  device_ids: string[] | null;
  properties: Record<string, unknown>;
  first_used: number;
  last_used: number;
  num_events: number;
  num_sessions: number;
  usage_time: number;
  purchases: number;
  revenue: number;
  platform: string; os: string; version: string; device: string; device_type: string; carrier: string;
  country: string; region: string; city: string; dma: string; language: string; start_version: string;
}
export interface ActivityEvent {
  event_type: string;
  event_time: string;
  amplitude_id: number;
  user_id: string | null;
  device_id: string | null;
  session_id: number;
  event_properties: Record<string, unknown>;
  user_properties: Record<string, unknown>;
  platform: string;
  os_name: string;
  country: string;
  city: string;
  [k: string]: unknown;
}
export interface Activity {
  canonical_amplitude_id: number;
  sessions: { session_id: number; start: number; end: number; events: ActivityEvent[] }[];
  offset: number;
  limit: number;
}

export interface LiveEvent {
  seq: number;
  event_type: string;
  event_time: string;
  server_received_time: string;
  amplitude_id: number;
  user_id: string | null;
  device_id: string | null;
  session_id: number;
  insert_id: string | null;
  event_properties: Record<string, unknown>;
  user_properties: Record<string, unknown>;
  groups: Record<string, unknown>;
  platform: string;
  os_name: string;
  country: string;
  city: string;
  library: string;
  [k: string]: unknown;
}
export interface LiveAnswer { items: LiveEvent[]; latest_seq: number }

export interface ChartOptions { viz?: Viz; [k: string]: unknown }
/** Viz is how a result is drawn; each analysis type has its own (state/url.ts vizFor). */
export type Viz = 'line' | 'area' | 'bar' | 'table' | 'steps' | 'over_time' | 'time_to_convert' | 'grid' | 'curve';
export interface SavedChart {
  id: number; project_id: number; name: string; description: string;
  definition: Definition; options: ChartOptions; created_by: number; created: string; updated: string;
}
export interface DashboardItem { chart_id: number; width: number; height: number }
export interface Dashboard {
  id: number; project_id: number; name: string; description: string; items: DashboardItem[];
  created_by: number; created: string; updated: string;
}
