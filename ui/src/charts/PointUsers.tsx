// PointUsersPanel lists the users behind one data point of an event
// segmentation chart, one funnel bar or one retention cell (POST
// .../query/users), with "load more"; each links to the user's profile.
import { useInfiniteQuery } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { api } from '../api/client';
import type { AnyPoint, Definition, Point, Series } from '../api/types';
import { ErrorBox, fmtTime, Spinner } from '../components/ui';
import { seriesLabel } from './options';

/** pageSize is the number of users asked for at a time. */
const pageSize = 100;

/**
 * pointFor returns the point of series s at x ("" for the whole range),
 * or null when the chart cannot list the users behind it: other analyses,
 * formulas, compared periods, frequency and distribution buckets, and
 * rolling or cumulative charts (whose points span other intervals).
 */
export function pointFor(def: Definition, s: Series, x: string): Point | null {
  if (def.type !== 'segmentation' || def.rolling || def.cumulative) return null;
  if (s.event < 0 || s.compare || s.bucket) return null;
  const p: Point = { event: s.event, x, segment: s.segment };
  if (s.group && s.group.length > 0) p.group = s.group;
  return p;
}

/** segmentationPick titles a segmentation point for the panel. */
export function segmentationPick(point: Point, series: Series): { point: Point; title: string; noun: string } {
  return { point, title: `${seriesLabel(series)} · ${point.x || 'whole range'}`, noun: 'did this event here' };
}

/** orderNote says how the server orders the users of a definition's points. */
export function orderNote(def: Definition): string {
  switch (def.type) {
    case 'funnel': return 'latest entry first';
    case 'retention': return 'latest cohort first';
    default: return 'most recently active first';
  }
}

export function PointUsersPanel({ pid, def, point, title, noun, onClose }: {
  pid: number; def: Definition; point: AnyPoint; title: string; noun: string; onClose: () => void;
}) {
  const q = useInfiniteQuery({
    queryKey: ['pointUsers', pid, JSON.stringify(def), JSON.stringify(point)],
    queryFn: ({ pageParam }) => api.pointUsers(pid, def, point, pageParam, pageSize),
    initialPageParam: 0,
    getNextPageParam: (last) => {
      const next = last.offset + last.users.length;
      return last.users.length > 0 && next < last.total ? next : undefined;
    },
  });
  const users = q.data?.pages.flatMap((p) => p.users) ?? [];
  const total = q.data?.pages[0]?.total ?? 0;
  return (
    <section className="panel point-users" aria-label="Users behind this point" data-testid="point-users">
      <div className="result-head">
        <h2>Users · {title}</h2>
        <span className="spacer" />
        <button type="button" onClick={onClose} aria-label="Close the user list">Close</button>
      </div>
      {q.isPending ? <Spinner label="Finding the users…" /> : q.isError ? <ErrorBox error={q.error} title="Cannot list these users" /> : (
        <>
          <p className="muted small" role="status">{total.toLocaleString('en-US')} user{total === 1 ? '' : 's'} {noun}; {orderNote(def)}.</p>
          {users.length > 0 && (
            <div className="table-wrap" tabIndex={0} role="region" aria-label="Users">
              <table className="grid">
                <thead><tr><th scope="col">Amplitude ID</th><th scope="col">User ID</th><th scope="col" className="num">{countHead(def)}</th><th scope="col">{timeHead(def)}</th></tr></thead>
                <tbody>
                  {users.map((u) => (
                    <tr key={u.amplitude_id}>
                      <td><Link to={`/projects/${pid}/users/${u.amplitude_id}`}>{u.amplitude_id}</Link></td>
                      <td>{u.user_id || <span className="muted">(anonymous)</span>}</td>
                      <td className="num">{u.events.toLocaleString('en-US')}</td>
                      <td>{fmtTime(u.last_seen)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {q.hasNextPage && (
            <button type="button" disabled={q.isFetchingNextPage} onClick={() => void q.fetchNextPage()}>
              {q.isFetchingNextPage ? 'Loading…' : `Load more (${(total - users.length).toLocaleString('en-US')} left)`}
            </button>
          )}
        </>
      )}
    </section>
  );
}

/** countHead names a user's count column: events, sequences (funnels) or cohorts (retention). */
function countHead(def: Definition): string {
  return def.type === 'funnel' ? 'Sequences' : def.type === 'retention' ? 'Cohorts' : 'Events';
}

/** timeHead names a user's time column. */
function timeHead(def: Definition): string {
  return def.type === 'funnel' ? 'Entered' : def.type === 'retention' ? 'Cohort' : 'Last seen';
}
