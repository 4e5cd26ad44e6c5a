// Pickers of the chart builder: events (searching the project's
// catalog), properties, filters with value suggestions, date ranges.
import { useId, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api } from '../api/client';
import type { EventSpec, Filter, PropRef, PropType, Range } from '../api/types';
import { useEventTypes } from '../hooks';
import { rangeLabel, relativeRanges } from '../state/url';

export const specialEvents: { name: string; label: string }[] = [
  { name: '_active', label: 'Any active event' },
  { name: '_all', label: 'Any event' },
  { name: '_new', label: 'New user' },
];

export function eventLabel(name: string): string {
  return specialEvents.find((s) => s.name === name)?.label ?? name;
}

/** EventPicker is a searchable input over the catalog (a datalist: typing filters, arrows choose). */
export function EventPicker({ pid, value, onChange, label }: { pid: number; value: string; onChange: (v: string) => void; label: string }) {
  const id = useId();
  const catalog = useEventTypes(pid);
  const [text, setText] = useState(eventLabel(value));
  const [prev, setPrev] = useState(value);
  if (prev !== value) {
    setPrev(value);
    setText(eventLabel(value));
  }
  const resolve = (t: string) => specialEvents.find((s) => s.label === t)?.name ?? t;
  return (
    <>
      <input
        className="event-input"
        aria-label={label}
        list={id}
        placeholder="Search events…"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          const v = resolve(e.target.value);
          if (specialEvents.some((s) => s.name === v) || catalog.data?.events.some((x) => x.name === v)) onChange(v);
        }}
        onBlur={() => {
          const v = resolve(text.trim());
          if (v !== value) onChange(v);
        }}
      />
      <datalist id={id}>
        {specialEvents.map((s) => <option key={s.name} value={s.label} />)}
        {(catalog.data?.events ?? []).map((e) => <option key={e.name} value={e.name}>{e.count.toLocaleString('en-US')} events</option>)}
      </datalist>
    </>
  );
}

export const deviceProps = [
  'platform', 'os', 'os_version', 'version', 'device', 'device_type', 'device_family', 'browser', 'country', 'region',
  'city', 'language', 'library', 'carrier', 'user_id', 'device_id', 'revenue', 'price', 'quantity', 'product_id',
  'revenue_type', 'start_version', 'paying',
];

/** PropertyPicker chooses a property: its kind, then its key with suggestions. */
export function PropertyPicker({ pid, value, onChange, eventType, label }: {
  pid: number; value: PropRef; onChange: (p: PropRef) => void; eventType?: string; label: string;
}) {
  const id = useId();
  const et = eventType && !eventType.startsWith('_') ? eventType : undefined;
  const props = useQuery({
    queryKey: ['props', pid, value.type, et],
    queryFn: () => api.properties(pid, value.type === 'user' ? 'user' : 'event', et),
    enabled: value.type === 'event' || value.type === 'user',
    staleTime: 60_000,
  });
  const keys = value.type === 'device' ? deviceProps : (props.data?.properties ?? []).map((p) => p.key);
  return (
    <span className="prop-picker">
      <select aria-label={`${label} kind`} value={value.type} onChange={(e) => onChange({ type: e.target.value as PropType, key: '' })}>
        <option value="event">Event</option>
        <option value="user">User</option>
        <option value="device">Built-in</option>
        <option value="group">Group</option>
      </select>
      <input aria-label={label} list={id} placeholder="property" value={value.key} onChange={(e) => onChange({ ...value, key: e.target.value })} />
      <datalist id={id}>{keys.map((k) => <option key={k} value={k} />)}</datalist>
    </span>
  );
}

export const operators = [
  'is', 'is not', 'contains', 'does not contain', 'starts with', 'does not start with', 'less', 'less or equal',
  'greater', 'greater or equal', 'set', 'not set', 'set is', 'set is not', 'set contains', 'set does not contain',
  'glob match', 'glob does not match',
];

/** splitValues reads a comma-separated list of filter values. */
export function splitValues(s: string): string[] {
  return s.split(',').map((v) => v.trim()).filter((v) => v !== '');
}

/** FilterRow edits one property filter, suggesting values seen in the data. */
export function FilterRow({ pid, value, onChange, onRemove, eventType, label }: {
  pid: number; value: Filter; onChange: (f: Filter) => void; onRemove: () => void; eventType?: string; label: string;
}) {
  const id = useId();
  const et = eventType && !eventType.startsWith('_') ? eventType : undefined;
  const vals = useQuery({
    queryKey: ['values', pid, value.type, value.key, et],
    queryFn: () => api.propertyValues(pid, value.type, value.key, et),
    enabled: value.key !== '' && value.type !== 'group',
    staleTime: 60_000,
  });
  const [text, setText] = useState((value.values ?? []).join(', '));
  const noValues = value.op === 'set' || value.op === 'not set';
  return (
    <div className="filter-row">
      <span className="where">where</span>
      <PropertyPicker pid={pid} value={value} eventType={eventType} label={`${label} property`}
        onChange={(p) => onChange({ ...value, ...p })} />
      <select aria-label={`${label} operator`} value={value.op} onChange={(e) => onChange({ ...value, op: e.target.value })}>
        {operators.map((o) => <option key={o} value={o}>{o}</option>)}
      </select>
      {!noValues && (
        <>
          <input aria-label={`${label} values`} list={id} placeholder="value, value…" value={text}
            onChange={(e) => { setText(e.target.value); onChange({ ...value, values: splitValues(e.target.value) }); }} />
          <datalist id={id}>{(vals.data?.values ?? []).map((v) => <option key={v.value} value={v.value}>{v.count} events</option>)}</datalist>
        </>
      )}
      <button type="button" className="icon" aria-label={`Remove ${label}`} onClick={onRemove}>×</button>
    </div>
  );
}

/** EventRow edits one event of a chart: the event, its filters and (optionally) its group-by. */
export function EventRow({ pid, letter, value, onChange, onRemove, groupBy = true, property = false, noun = 'Event' }: {
  pid: number; letter: string; value: EventSpec; onChange: (e: EventSpec) => void; onRemove?: () => void;
  groupBy?: boolean; property?: boolean; noun?: string;
}) {
  const filters = value.filters ?? [];
  const groups = value.group_by ?? [];
  return (
    <div className="event-row">
      <div className="event-head">
        <span className="letter" aria-hidden="true">{letter}</span>
        <EventPicker pid={pid} value={value.event_type} label={`${noun} ${letter}`} onChange={(v) => onChange({ ...value, event_type: v })} />
        {onRemove && <button type="button" className="icon" aria-label={`Remove ${noun.toLowerCase()} ${letter}`} onClick={onRemove}>×</button>}
      </div>
      {filters.map((f, i) => (
        <FilterRow key={i} pid={pid} value={f} eventType={value.event_type} label={`${noun} ${letter} filter ${i + 1}`}
          onChange={(nf) => onChange({ ...value, filters: filters.map((x, j) => (j === i ? nf : x)) })}
          onRemove={() => onChange({ ...value, filters: filters.filter((_, j) => j !== i) })} />
      ))}
      {groupBy && groups.map((g, i) => (
        <div className="filter-row" key={'g' + i}>
          <span className="where">group by</span>
          <PropertyPicker pid={pid} value={g} eventType={value.event_type} label={`${noun} ${letter} group-by ${i + 1}`}
            onChange={(p) => onChange({ ...value, group_by: groups.map((x, j) => (j === i ? p : x)) })} />
          <button type="button" className="icon" aria-label={`Remove group-by ${i + 1} of ${noun.toLowerCase()} ${letter}`}
            onClick={() => onChange({ ...value, group_by: groups.filter((_, j) => j !== i) })}>×</button>
        </div>
      ))}
      {property && (
        <div className="filter-row">
          <span className="where">of property</span>
          <PropertyPicker pid={pid} value={value.property ?? { type: 'event', key: '' }} eventType={value.event_type}
            label={`${noun} ${letter} numeric property`} onChange={(p) => onChange({ ...value, property: p })} />
        </div>
      )}
      <div className="row-actions">
        <button type="button" className="link" onClick={() => onChange({ ...value, filters: [...filters, { type: 'event', key: '', op: 'is', values: [] }] })}>+ Filter</button>
        {groupBy && groups.length < 5 && (
          <button type="button" className="link" onClick={() => onChange({ ...value, group_by: [...groups, { type: 'event', key: '' }] })}>+ Group by</button>
        )}
      </div>
    </div>
  );
}

/** RangePicker chooses a relative or absolute date range; the project's time zone is shown. */
export function RangePicker({ value, onChange, timeZone }: { value: Range; onChange: (r: Range) => void; timeZone?: string }) {
  const mode = value.start ? 'abs' : value.relative ? 'rel' : 'last';
  const today = new Date().toISOString().slice(0, 10);
  return (
    <fieldset className="range">
      <legend>Date range <span className="muted small">({timeZone ?? 'UTC'})</span></legend>
      <div className="range-controls">
        {[7, 30, 90].map((n) => (
          <button key={n} type="button" className={value.last === n && (value.unit ?? 'day') === 'day' ? 'chip active' : 'chip'}
            aria-pressed={value.last === n && (value.unit ?? 'day') === 'day'} onClick={() => onChange({ last: n, unit: 'day' })}>{n}d</button>
        ))}
        <select aria-label="Range kind" value={mode} onChange={(e) => {
          const m = e.target.value;
          if (m === 'last') onChange({ last: 30, unit: 'day' });
          else if (m === 'rel') onChange({ relative: 'this_month' });
          else onChange({ start: new Date(Date.now() - 6 * 864e5).toISOString().slice(0, 10), end: today });
        }}>
          <option value="last">Last N</option>
          <option value="rel">Calendar</option>
          <option value="abs">Between dates</option>
        </select>
        {mode === 'last' && (
          <span className="inline-tight">
            <input type="number" min={1} max={366} value={value.last ?? 30} aria-label="Number of units"
              onChange={(e) => onChange({ last: Math.max(1, Number(e.target.value) || 1), unit: value.unit ?? 'day' })} />
            <select aria-label="Unit" value={value.unit ?? 'day'} onChange={(e) => onChange({ last: value.last ?? 30, unit: e.target.value })}>
              <option value="hour">hours</option><option value="day">days</option><option value="week">weeks</option><option value="month">months</option>
            </select>
          </span>
        )}
        {mode === 'rel' && (
          <select aria-label="Calendar range" value={value.relative} onChange={(e) => onChange({ relative: e.target.value })}>
            {relativeRanges.map((r) => <option key={r} value={r}>{rangeLabel({ relative: r })}</option>)}
          </select>
        )}
        {mode === 'abs' && (
          <span className="inline-tight">
            <input type="date" aria-label="From" value={value.start} max={value.end} onChange={(e) => onChange({ start: e.target.value, end: value.end })} />
            <span aria-hidden="true">→</span>
            <input type="date" aria-label="To" value={value.end} min={value.start} onChange={(e) => onChange({ start: value.start, end: e.target.value })} />
          </span>
        )}
      </div>
    </fieldset>
  );
}
