import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { api } from '../api/client';
import type { ActivityEvent } from '../api/types';
import { Empty, ErrorBox, Spinner, fmtTime } from '../components/ui';
import { useProjectId } from '../hooks';

/** Users searches by user id, device id, Amplitude ID or a user property (kept in the URL). */
export function Users() {
  const pid = useProjectId();
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const prop = params.get('prop') ?? '';
  const [text, setText] = useState(q);
  const [propText, setPropText] = useState(prop);
  const res = useQuery({ queryKey: ['users', pid, q, prop], queryFn: () => api.searchUsers(pid, q, prop || undefined), enabled: q !== '' });
  const userProps = useQuery({ queryKey: ['props', pid, 'user', undefined], queryFn: () => api.properties(pid, 'user') });
  return (
    <div className="page">
      <h1>Users</h1>
      <form className="toolbar" role="search" onSubmit={(e) => {
        e.preventDefault();
        const p = new URLSearchParams();
        if (text.trim()) p.set('q', text.trim());
        if (propText.trim()) p.set('prop', propText.trim());
        setParams(p);
      }}>
        <label>Find<input value={text} onChange={(e) => setText(e.target.value)} placeholder="user id, device id or Amplitude ID" autoFocus /></label>
        <label>in user property <span className="muted small">(optional)</span>
          <input list="user-props" value={propText} onChange={(e) => setPropText(e.target.value)} placeholder="e.g. email" />
          <datalist id="user-props">{(userProps.data?.properties ?? []).map((p) => <option key={p.key} value={p.key} />)}</datalist>
        </label>
        <button type="submit" className="primary">Search</button>
      </form>
      {q === '' ? (
        <Empty title="Look up a user"><p>Search by the id your app sends (user_id), a device id or an Amplitude ID — or a user property's value, such as an email.</p></Empty>
      ) : res.isPending ? <Spinner /> : res.isError ? <ErrorBox error={res.error} title="Search failed" /> : res.data.matches.length === 0 ? (
        <Empty title="No user found"><p>Nobody matches “{q}”{prop ? ` in ${prop}` : ''}.</p></Empty>
      ) : (
        <table className="grid" data-testid="user-results">
          <thead><tr><th>User id</th><th>Amplitude ID</th><th>Last seen</th></tr></thead>
          <tbody>
            {res.data.matches.map((m) => (
              <tr key={m.amplitude_id}>
                <td><Link to={`/projects/${pid}/users/${m.amplitude_id}`}>{m.user_id || '(anonymous)'}</Link></td>
                <td className="mono">{m.amplitude_id}</td>
                <td>{fmtTime(m.last_seen)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** UserPage is a user's profile and activity stream, grouped by session. */
export function UserPage() {
  const pid = useProjectId();
  const aid = Number(useParams().aid);
  const profile = useQuery({ queryKey: ['user', pid, aid], queryFn: () => api.userProfile(pid, aid) });
  const activity = useQuery({ queryKey: ['activity', pid, aid], queryFn: () => api.userActivity(pid, aid) });
  const [open, setOpen] = useState<string | null>(null);
  if (profile.isPending) return <Spinner />;
  if (profile.isError) return <ErrorBox error={profile.error} title="Cannot show this user" />;
  const p = profile.data;
  const props = Object.entries(p.properties ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const facts: [string, string | number][] = [
    ['Amplitude ID', p.canonical_amplitude_id], ['First seen', fmtTime(p.first_used)], ['Last seen', fmtTime(p.last_used)],
    ['Events', p.num_events.toLocaleString('en-US')], ['Sessions', p.num_sessions.toLocaleString('en-US')],
    ['Time in sessions', duration(p.usage_time)], ['Revenue', p.revenue ? '$' + p.revenue.toFixed(2) : '–'],
    ['Platform', p.platform], ['OS', p.os], ['Device', [p.device, p.device_type].filter(Boolean).join(' · ')],
    ['Location', [p.city, p.region, p.country].filter(Boolean).join(', ')], ['Language', p.language], ['App version', p.version],
  ];
  return (
    <div className="page user">
      <p><Link to={`/projects/${pid}/users`}>← Users</Link></p>
      <h1>{p.user_id || `Anonymous user ${p.canonical_amplitude_id}`}</h1>
      <div className="user-grid">
        <section className="panel" aria-label="Profile">
          <dl className="facts">{facts.map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v || '–'}</dd></div>)}</dl>
          <h2>Devices</h2>
          <ul className="plain mono">{(p.device_ids ?? []).map((d) => <li key={d}>{d}</li>)}</ul>
          <h2>Merged ids</h2>
          {(p.merged_amplitude_ids ?? []).length === 0 ? <p className="muted small">None</p> : (
            <ul className="plain">{(p.merged_amplitude_ids ?? []).map((m) => <li key={m.amplitude_id}><span className="mono">{m.amplitude_id}</span> <span className="muted small">merged {fmtTime(m.merge_time)}</span></li>)}</ul>
          )}
          <h2>User properties</h2>
          {props.length === 0 ? <p className="muted small">None</p> : (
            <table className="grid compact"><tbody>{props.map(([k, v]) => <tr key={k}><th scope="row">{k}</th><td>{typeof v === 'string' ? v : JSON.stringify(v)}</td></tr>)}</tbody></table>
          )}
        </section>
        <section className="panel" aria-label="Activity">
          <h2>Activity</h2>
          {activity.isPending ? <Spinner /> : activity.isError ? <ErrorBox error={activity.error} /> : activity.data.sessions.length === 0 ? <p className="muted">No events.</p> : (
            activity.data.sessions.map((s, i) => (
              <div className="session" key={i} data-testid="session">
                <h3>{s.session_id > 0 ? 'Session' : 'No session'} · {fmtTime(s.start)} <span className="muted small">{s.events.length} event(s){s.end > s.start ? ` · ${duration(s.end - s.start)}` : ''}</span></h3>
                <ol className="stream">
                  {s.events.map((e, j) => {
                    const key = `${i}-${j}`;
                    return <ActivityRow key={key} e={e} open={open === key} toggle={() => setOpen(open === key ? null : key)} />;
                  })}
                </ol>
              </div>
            ))
          )}
        </section>
      </div>
    </div>
  );
}

function ActivityRow({ e, open, toggle }: { e: ActivityEvent; open: boolean; toggle: () => void }) {
  return (
    <li>
      <button type="button" className="stream-item" aria-expanded={open} onClick={toggle}>
        <span className="time">{new Date(e.event_time.replace(' ', 'T') + (e.event_time.includes('Z') ? '' : 'Z')).toLocaleTimeString('en-GB')}</span>
        <strong>{e.event_type}</strong>
        <span className="muted small">{Object.keys(e.event_properties ?? {}).slice(0, 3).map((k) => `${k}=${String((e.event_properties as Record<string, unknown>)[k])}`).join(' · ')}</span>
      </button>
      {open && <pre className="json">{JSON.stringify(e, null, 2)}</pre>}
    </li>
  );
}
