import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { api } from '../api/client';
import type { LiveEvent } from '../api/types';
import { Code, ErrorBox, Spinner, Tabs, fmtTime } from '../components/ui';
import { useEventTypes, useProject, useProjectId } from '../hooks';
import { settings } from '../settings';
import { defaultDefinition, encodeState } from '../state/url';
import { ResultView } from '../charts/ResultView';
import type { SegmentationDef } from '../api/types';

export function Home() {
  const pid = useProjectId();
  const { project } = useProject();
  const events = useEventTypes(pid);
  const dashboards = useQuery({ queryKey: ['dashboards', pid], queryFn: () => api.dashboards(pid) });
  if (events.isPending) return <Spinner />;
  if (events.isError) return <ErrorBox error={events.error} title="Cannot read this project's events" />;
  if (events.data.events.length === 0) return <Onboarding />;
  const chartLink = (eventType: string) => {
    const def = defaultDefinition('segmentation') as SegmentationDef;
    def.events = [{ event_type: eventType }];
    return `/projects/${pid}/chart` + encodeState({ def, viz: 'line' });
  };
  return (
    <div className="page">
      <h1>{project?.name ?? 'Project'}</h1>
      <div className="cards">
        <Link className="action" to={`/projects/${pid}/chart`}><strong>Build a chart</strong><span>Segment events by property, compare periods, save to a dashboard.</span></Link>
        <Link className="action" to={`/projects/${pid}/live`}><strong>Live events</strong><span>See events as they arrive, to check your instrumentation.</span></Link>
        <Link className="action" to={`/projects/${pid}/dashboards`}><strong>Dashboards</strong><span>{dashboards.data ? `${dashboards.data.items.length} dashboard(s)` : 'Charts your team shares.'}</span></Link>
        <Link className="action" to={`/projects/${pid}/users`}><strong>Look up a user</strong><span>Profile and activity stream by user id or property.</span></Link>
      </div>
      <ActiveUsers pid={pid} />
      <section>
        <h2>Event types</h2>
        <table className="grid">
          <thead><tr><th>Event</th><th className="num">Events</th><th>Last seen</th><th></th></tr></thead>
          <tbody>
            {events.data.events.slice(0, 20).map((e) => (
              <tr key={e.name}>
                <td>{e.name}{!e.active && <span className="tag">inactive</span>}</td>
                <td className="num">{e.count.toLocaleString('en-US')}</td>
                <td>{fmtTime(e.last_seen)}</td>
                <td><Link to={chartLink(e.name)}>Chart it</Link></td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}

/** ActiveUsers is the home page's daily active users over 30 days, linking to the chart. */
function ActiveUsers({ pid }: { pid: number }) {
  const def = defaultDefinition('segmentation') as SegmentationDef;
  const q = useQuery({ queryKey: ['query', pid, 'segmentation', JSON.stringify(def)], queryFn: () => api.query(pid, def), staleTime: 60_000 });
  return (
    <section className="panel">
      <div className="tile-head">
        <h2 className="small-head">Daily active users, last 30 days</h2>
        <span className="spacer" />
        <Link to={`/projects/${pid}/chart` + encodeState({ def, viz: 'line' })}>Open in the chart builder</Link>
      </div>
      {q.isPending ? <Spinner label="Loading chart…" /> : q.isError ? <ErrorBox error={q.error} title="Chart failed" /> : (
        <ResultView def={def} result={q.data.result} viz="line" height={220} table={false} />
      )}
    </section>
  );
}

type SnippetKind = 'browser' | 'node' | 'curl';

/** snippets are the ways to send a first event, filled with this project's key and this server's URL. */
export function snippets(apiKey: string, serverUrl: string): Record<SnippetKind, string> {
  const url = serverUrl.replace(/\/$/, '') + '/2/httpapi';
  return {
    browser: `npm install @amplitude/analytics-browser

import * as amplitude from '@amplitude/analytics-browser';

amplitude.init('${apiKey}', {
  serverUrl: '${url}',
  fetchRemoteConfig: false,
  enableDiagnostics: false,
});
amplitude.track('Hello Crest', { source: 'browser' });`,
    node: `npm install @amplitude/analytics-node

import { init, track } from '@amplitude/analytics-node';

init('${apiKey}', { serverUrl: '${url}' });
track('Hello Crest', { source: 'node' }, { user_id: 'me@example.com' });`,
    curl: `curl -X POST '${url}' \\
  -H 'Content-Type: application/json' \\
  -d '{"api_key": "${apiKey}", "events": [{"user_id": "me@example.com", "event_type": "Hello Crest", "event_properties": {"source": "curl"}}]}'`,
  };
}

/** Onboarding is the empty state: how to send the first event, and a live view that lights up when it arrives. */
function Onboarding() {
  const pid = useProjectId();
  const qc = useQueryClient();
  const key = useQuery({ queryKey: ['api-key', pid], queryFn: () => api.apiKey(pid) });
  const [kind, setKind] = useState<SnippetKind>('browser');
  const live = useQuery({
    queryKey: ['live-first', pid],
    queryFn: () => api.live(pid, { limit: 5 }),
    refetchInterval: (q) => ((q.state.data?.items.length ?? 0) > 0 ? false : 2000),
  });
  const first: LiveEvent | undefined = live.data?.items[0];
  const s = snippets(key.data?.api_key ?? '<loading…>', settings.server_url);
  return (
    <div className="page onboarding">
      <h1>Send your first event</h1>
      <p className="lead">This project has no events yet. Pick how your app will talk to Crest — it speaks Amplitude's protocol,
        so the official SDKs work once pointed at this server.</p>
      {key.isError && <ErrorBox error={key.error} title="Cannot show the API key" />}
      <p>Project API key: <code data-testid="api-key">{key.data?.api_key ?? '…'}</code> · Server: <code>{settings.server_url}</code></p>
      <Tabs label="Ways to send events" value={kind} onChange={setKind}
        tabs={[{ key: 'browser', label: 'Browser SDK' }, { key: 'node', label: 'Node SDK' }, { key: 'curl', label: 'curl' }]} />
      <Code text={s[kind]} label={`${kind} snippet`} />
      <div className={first ? 'beacon on' : 'beacon'} role="status" aria-live="polite" data-testid="first-event">
        <span className="dot" aria-hidden="true" />
        {first ? (
          <span>
            First event received: <strong>{first.event_type}</strong> from {first.user_id ?? first.device_id ?? 'an anonymous device'} at {fmtTime(first.event_time)}.{' '}
            <Link to={`/projects/${pid}/live`}>Open live events</Link> or{' '}
            <button type="button" className="link" onClick={() => void qc.invalidateQueries({ queryKey: ['events', pid] })}>explore your data</button>.
          </span>
        ) : (
          <span>Waiting for the first event… this lights up as soon as it arrives.</span>
        )}
      </div>
    </div>
  );
}
