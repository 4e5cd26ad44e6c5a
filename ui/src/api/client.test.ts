import { describe, expect, it } from 'vitest';
import { ApiError, createClient, csrfFromCookie, qs } from './client';
import type { SegmentationDef } from './types';

interface Call { url: string; init: RequestInit }

function fake(status: number, body: string | null, calls: Call[]): typeof fetch {
  return (async (url: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    return new Response(body, { status, headers: { 'Content-Type': 'application/json' } });
  }) as typeof fetch;
}

describe('csrfFromCookie', () => {
  it.each([
    ['crest_csrf=abc', 'abc'],
    ['a=1; crest_csrf=x%3Dy; b=2', 'x=y'],
    ['crest_session=s', null],
    ['', null],
  ])('%s', (cookie, want) => {
    expect(csrfFromCookie(cookie)).toBe(want);
  });
});

describe('qs', () => {
  it('drops empty values and encodes the rest', () => {
    expect(qs({ a: 1, b: '', c: undefined, d: null, e: 'x y&z' })).toBe('?a=1&e=x+y%26z');
    expect(qs({})).toBe('');
  });
});

describe('createClient', () => {
  it('sends the CSRF token and JSON body on state-changing calls only', async () => {
    const calls: Call[] = [];
    const c = createClient({ fetch: fake(200, '{"id":3,"name":"x"}', calls), csrf: () => 'tok' });
    await c.createChart(7, { name: 'x', description: '', definition: { type: 'sessions', version: 1, metric: 'total', range: { last: 7 } }, options: {} });
    await c.charts(7);
    expect(calls[0].url).toBe('/api/v1/projects/7/charts');
    expect(calls[0].init.method).toBe('POST');
    const h0 = calls[0].init.headers as Record<string, string>;
    expect(h0['X-CSRF-Token']).toBe('tok');
    expect(h0['Content-Type']).toBe('application/json');
    expect(JSON.parse(String(calls[0].init.body)).name).toBe('x');
    const h1 = calls[1].init.headers as Record<string, string>;
    expect(calls[1].init.method).toBe('GET');
    expect(h1['X-CSRF-Token']).toBeUndefined();
    expect(calls[1].init.body).toBeUndefined();
  });

  it('builds paths with query strings', async () => {
    const calls: Call[] = [];
    const c = createClient({ fetch: fake(200, '{"items":[],"latest_seq":0}', calls), csrf: () => null });
    await c.live(2, { after: 10, user: 'a b', event_type: undefined, limit: 100 });
    await c.propertyValues(2, 'user', 'plan', 'Sign Up');
    expect(calls.map((x) => x.url)).toEqual([
      '/api/v1/projects/2/live?after=10&user=a+b&limit=100',
      '/api/v1/projects/2/properties/values?type=user&key=plan&event_type=Sign+Up&days=90&limit=50',
    ]);
  });

  it('asks for the users behind a data point', async () => {
    const calls: Call[] = [];
    const body = '{"total":1,"users":[{"amplitude_id":4,"user_id":"u4","events":2,"last_seen":1700000000000}],"offset":0,"limit":50}';
    const c = createClient({ fetch: fake(200, body, calls), csrf: () => 'tok' });
    const def: SegmentationDef = { type: 'segmentation', version: 1, events: [{ event_type: 'Play' }], range: { last: 7 } };
    const r = await c.pointUsers(3, def, { event: 0, x: '2026-11-04', group: ['Web'], segment: 0 }, 100, 50);
    expect(calls[0].url).toBe('/api/v1/projects/3/query/users');
    expect(calls[0].init.method).toBe('POST');
    expect((calls[0].init.headers as Record<string, string>)['X-CSRF-Token']).toBe('tok');
    expect(JSON.parse(String(calls[0].init.body))).toEqual({
      definition: def, point: { event: 0, x: '2026-11-04', group: ['Web'], segment: 0 }, limit: 50, offset: 100,
    });
    expect(r.total).toBe(1);
    expect(r.users[0]).toEqual({ amplitude_id: 4, user_id: 'u4', events: 2, last_seen: 1700000000000 });
  });

  it('turns the error envelope into an ApiError', async () => {
    const c = createClient({ fetch: fake(403, '{"error":{"code":"forbidden","message":"your role does not allow this"}}', []) });
    const err = await c.deleteChart(1, 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(403);
    expect((err as ApiError).code).toBe('forbidden');
    expect((err as ApiError).message).toBe('your role does not allow this');
  });

  it.each([
    [500, 'oops', 'http'],
    [200, 'not json', 'bad_json'],
    [404, '', 'http'],
  ])('status %i with body %j gives code %s', async (status, body, code) => {
    const c = createClient({ fetch: fake(status, body, []) });
    const err = await c.me().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(code);
  });

  it('answers 204 with undefined', async () => {
    const c = createClient({ fetch: fake(204, null, []) });
    await expect(c.logout()).resolves.toBeUndefined();
  });

  it('reports network failures readably', async () => {
    const c = createClient({ fetch: (async () => { throw new TypeError('Failed to fetch'); }) as typeof fetch });
    const err = (await c.me().catch((e: unknown) => e)) as ApiError;
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/Cannot reach the Crest server: Failed to fetch/);
  });
});
