import { useEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { api } from '../api/client';
import type { LiveEvent } from '../api/types';
import { ErrorBox, fmtTime } from '../components/ui';
import { useEventTypes, useProjectId } from '../hooks';

const keep = 500;
const pollMs = 2000;

/** Live shows the latest events as they arrive, filterable by user and event type (both kept in the URL). */
export function Live() {
  const pid = useProjectId();
  const [params, setParams] = useSearchParams();
  const user = params.get('user') ?? '';
  const eventType = params.get('event_type') ?? '';
  const [userInput, setUserInput] = useState(user);
  const [events, setEvents] = useState<LiveEvent[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [paused, setPaused] = useState(false);
  const [open, setOpen] = useState<Set<number>>(new Set());
  const latest = useRef(0);
  const catalog = useEventTypes(pid);

  useEffect(() => {
    latest.current = 0;
    setEvents([]);
    setOpen(new Set());
  }, [pid, user, eventType]);

  useEffect(() => {
    if (paused) return;
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const r = await api.live(pid, { after: latest.current || undefined, user: user || undefined, event_type: eventType || undefined, limit: 100 });
        if (stop) return;
        setError(null);
        if (r.items.length > 0) {
          latest.current = r.latest_seq;
          setEvents((old) => [...r.items, ...old].slice(0, keep));
        }
      } catch (e) {
        if (!stop) setError(e);
      }
      if (!stop) timer = setTimeout(poll, pollMs);
    };
    void poll();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [pid, user, eventType, paused]);

  const set = (k: string, v: string) => {
    const p = new URLSearchParams(params);
    if (v) p.set(k, v); else p.delete(k);
    setParams(p, { replace: true });
  };
  return (
    <div className="page">
      <div className="page-head">
        <h1>Live events</h1>
        <span className={paused ? 'live-dot paused' : 'live-dot'} aria-hidden="true" />
        <span className="muted">{paused ? 'Paused' : `Updating every ${pollMs / 1000} s`} · newest first</span>
      </div>
      <form className="toolbar" onSubmit={(e) => { e.preventDefault(); set('user', userInput.trim()); }}>
        <label>User<input placeholder="user id, device id or Amplitude ID" value={userInput} onChange={(e) => setUserInput(e.target.value)} /></label>
        <button type="submit">Filter</button>
        <label>Event type
          <select value={eventType} onChange={(e) => set('event_type', e.target.value)}>
            <option value="">All event types</option>
            {(catalog.data?.events ?? []).map((e) => <option key={e.name} value={e.name}>{e.name}</option>)}
            {eventType && !catalog.data?.events.some((e) => e.name === eventType) && <option value={eventType}>{eventType}</option>}
          </select>
        </label>
        <button type="button" onClick={() => setPaused(!paused)}>{paused ? 'Resume' : 'Pause'}</button>
        {(user || eventType) && <button type="button" className="link" onClick={() => { setUserInput(''); setParams(new URLSearchParams(), { replace: true }); }}>Clear filters</button>}
      </form>
      {error !== null && <ErrorBox error={error} title="Cannot read live events" />}
      {events.length === 0 ? (
        <div className="empty" role="status"><h3>No events yet</h3><p>Events matching the filters appear here within seconds of arriving.</p></div>
      ) : (
        <table className="grid live" data-testid="live-table">
          <thead><tr><th></th><th>Time</th><th>Event</th><th>User</th><th>Device</th><th>Platform</th><th>Country</th></tr></thead>
          <tbody>
            {events.map((e) => {
              const isOpen = open.has(e.seq);
              return (
                <LiveRow key={e.seq} e={e} open={isOpen} toggle={() => {
                  const n = new Set(open);
                  if (isOpen) n.delete(e.seq); else n.add(e.seq);
                  setOpen(n);
                }} />
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}

function LiveRow({ e, open, toggle }: { e: LiveEvent; open: boolean; toggle: () => void }) {
  return (
    <>
      <tr className={open ? 'open' : ''}>
        <td><button type="button" className="expand" aria-expanded={open} aria-label={`${open ? 'Hide' : 'Show'} the JSON of ${e.event_type}`} onClick={toggle}>{open ? '▾' : '▸'}</button></td>
        <td>{fmtTime(e.event_time)}</td>
        <td><strong>{e.event_type}</strong></td>
        <td>{e.user_id ?? <span className="muted">–</span>}</td>
        <td className="mono">{e.device_id ?? ''}</td>
        <td>{e.platform}</td>
        <td>{e.country}</td>
      </tr>
      {open && (
        <tr className="json-row"><td colSpan={7}><pre className="json">{JSON.stringify(e, null, 2)}</pre></td></tr>
      )}
    </>
  );
}
