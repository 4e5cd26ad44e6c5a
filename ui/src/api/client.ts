// The one typed client of Crest's JSON API. Every call goes through
// request(), which sends the CSRF token on state-changing methods and
// turns the error envelope into an ApiError.
import type * as T from './types';

/** ApiError is a non-2xx answer: its status, code and readable message. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export interface ClientOptions {
  /** fetch implementation (tests pass a fake). */
  fetch?: typeof fetch;
  /** Base URL prefix (default: same origin). */
  base?: string;
  /** Returns the CSRF token (default: the crest_csrf cookie). */
  csrf?: () => string | null;
}

/** csrfFromCookie reads the crest_csrf cookie. */
export function csrfFromCookie(cookie: string): string | null {
  for (const part of cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === 'crest_csrf') return decodeURIComponent(v.join('='));
  }
  return null;
}

type Query = Record<string, string | number | undefined | null>;

/** qs encodes the defined values of q as a query string ("" when none). */
export function qs(q: Query): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  }
  const s = p.toString();
  return s ? '?' + s : '';
}

export function createClient(opts: ClientOptions = {}) {
  const f = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const base = opts.base ?? '';
  const csrf = opts.csrf ?? (() => (typeof document === 'undefined' ? null : csrfFromCookie(document.cookie)));

  async function request<R>(method: string, path: string, body?: unknown): Promise<R> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && method !== 'HEAD') {
      const t = csrf();
      if (t) headers['X-CSRF-Token'] = t;
    }
    let resp: Response;
    try {
      resp = await f(base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
      });
    } catch (e) {
      throw new ApiError(0, 'network', 'Cannot reach the Crest server: ' + (e instanceof Error ? e.message : String(e)));
    }
    if (resp.status === 204) return undefined as R;
    const text = await resp.text();
    let data: unknown = undefined;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        if (!resp.ok) throw new ApiError(resp.status, 'http', `${resp.status} ${resp.statusText}`.trim());
        throw new ApiError(resp.status, 'bad_json', 'The server sent an answer that is not JSON');
      }
    }
    if (!resp.ok) {
      const err = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiError(resp.status, err?.code ?? 'http', err?.message ?? `Request failed with status ${resp.status}`);
    }
    return data as R;
  }
  const get = <R>(p: string) => request<R>('GET', p);
  const pp = (id: number) => `/api/v1/projects/${id}`;

  return {
    request,
    // First run and login.
    setupStatus: () => get<{ needed: boolean }>('/api/v1/setup'),
    setup: (b: { email: string; password: string; org_name?: string; project_name?: string; time_zone?: string }) =>
      request<{ account: T.Account; project: T.Project; csrf_token: string }>('POST', '/api/v1/setup', b),
    login: (email: string, password: string) =>
      request<{ account: T.Account; csrf_token: string }>('POST', '/api/v1/login', { email, password }),
    logout: () => request<void>('POST', '/api/v1/logout'),
    me: () => get<T.Me>('/api/v1/me'),
    changePassword: (current_password: string, new_password: string) =>
      request<void>('POST', '/api/v1/me/password', { current_password, new_password }),

    // Organisations, members, invitations.
    members: (org: number) => get<T.List<T.Member>>(`/api/v1/orgs/${org}/members`),
    createMember: (org: number, b: { email: string; password: string; role: T.Role }) =>
      request<T.Member>('POST', `/api/v1/orgs/${org}/members`, b),
    setMemberRole: (org: number, account: number, role: T.Role) =>
      request<void>('PATCH', `/api/v1/orgs/${org}/members/${account}`, { role }),
    removeMember: (org: number, account: number) => request<void>('DELETE', `/api/v1/orgs/${org}/members/${account}`),
    invitations: (org: number) => get<T.List<T.Invitation>>(`/api/v1/orgs/${org}/invitations`),
    createInvitation: (org: number, b: { role: T.Role; email?: string; expires_hours?: number }) =>
      request<{ invitation: T.Invitation; token: string; path: string }>('POST', `/api/v1/orgs/${org}/invitations`, b),
    deleteInvitation: (org: number, id: number) => request<void>('DELETE', `/api/v1/orgs/${org}/invitations/${id}`),
    showInvitation: (token: string) =>
      get<{ org_name: string; role: T.Role; email: string; expires: string }>(`/api/v1/invitations/${encodeURIComponent(token)}`),
    acceptInvitation: (token: string) =>
      request<{ org_id: number }>('POST', `/api/v1/invitations/${encodeURIComponent(token)}/accept`),
    signupInvitation: (token: string, email: string, password: string) =>
      request<{ account: T.Account; org_id: number; csrf_token: string }>(
        'POST', `/api/v1/invitations/${encodeURIComponent(token)}/signup`, { email, password }),

    // Projects and keys.
    projects: () => get<T.List<T.Project>>('/api/v1/projects'),
    project: (id: number) => get<T.Project>(pp(id)),
    createProject: (org: number, name: string, time_zone: string) =>
      request<{ project: T.Project; api_key: string; secret_key: string }>('POST', `/api/v1/orgs/${org}/projects`, { name, time_zone }),
    updateProject: (id: number, b: { name?: string; time_zone?: string }) => request<T.Project>('PATCH', pp(id), b),
    apiKey: (id: number) => get<{ api_key: string }>(pp(id) + '/api-key'),
    keys: (id: number) => get<T.List<T.Key>>(pp(id) + '/keys'),
    rotateKey: (id: number, kind: 'api' | 'secret', grace_seconds: number) =>
      request<{ key: T.Key; value: string; old_valid_until: string | null }>('POST', pp(id) + '/keys/rotate', { kind, grace_seconds }),
    projectRoles: (id: number) => get<T.List<T.ProjectRoleOverride>>(pp(id) + '/roles'),
    setProjectRole: (id: number, account: number, role: T.Role) => request<void>('PUT', `${pp(id)}/roles/${account}`, { role }),
    deleteProjectRole: (id: number, account: number) => request<void>('DELETE', `${pp(id)}/roles/${account}`),

    // Catalog, analyses, users.
    eventTypes: (id: number, days = 90) => get<{ events: T.EventTypeInfo[] }>(pp(id) + '/events' + qs({ days })),
    properties: (id: number, type: 'event' | 'user', event_type?: string, days = 90) =>
      get<{ properties: T.PropertyInfo[] }>(pp(id) + '/properties' + qs({ type, event_type, days })),
    propertyValues: (id: number, type: string, key: string, event_type?: string, days = 90) =>
      get<{ values: T.ValueCount[] }>(pp(id) + '/properties/values' + qs({ type, key, event_type, days, limit: 50 })),
    query: (id: number, def: T.Definition) => request<T.QueryResponse>('POST', pp(id) + '/query', def),
    pointUsers: (id: number, definition: T.Definition, point: T.AnyPoint, offset = 0, limit = 100) =>
      request<T.PointUsers>('POST', pp(id) + '/query/users', { definition, point, limit, offset }),
    searchUsers: (id: number, q: string, prop?: string) =>
      get<T.UserSearch>(pp(id) + '/users/search' + qs({ q, prop, limit: 50 })),
    userProfile: (id: number, aid: number) => get<T.Profile>(`${pp(id)}/users/${aid}`),
    userActivity: (id: number, aid: number, offset = 0, limit = 200) =>
      get<T.Activity>(`${pp(id)}/users/${aid}/activity` + qs({ offset, limit })),
    live: (id: number, q: { after?: number; event_type?: string; user?: string; limit?: number }) =>
      get<T.LiveAnswer>(pp(id) + '/live' + qs(q)),

    // Saved charts and dashboards.
    charts: (id: number) => get<T.List<T.SavedChart>>(pp(id) + '/charts'),
    chart: (id: number, chart: number) => get<T.SavedChart>(`${pp(id)}/charts/${chart}`),
    createChart: (id: number, b: { name: string; description: string; definition: T.Definition; options: T.ChartOptions }) =>
      request<T.SavedChart>('POST', pp(id) + '/charts', b),
    updateChart: (id: number, chart: number, b: { name: string; description: string; definition: T.Definition; options: T.ChartOptions }) =>
      request<T.SavedChart>('PUT', `${pp(id)}/charts/${chart}`, b),
    deleteChart: (id: number, chart: number) => request<void>('DELETE', `${pp(id)}/charts/${chart}`),
    dashboards: (id: number) => get<T.List<T.Dashboard>>(pp(id) + '/dashboards'),
    dashboard: (id: number, d: number) => get<T.Dashboard>(`${pp(id)}/dashboards/${d}`),
    createDashboard: (id: number, b: { name: string; description: string; items: T.DashboardItem[] }) =>
      request<T.Dashboard>('POST', pp(id) + '/dashboards', b),
    updateDashboard: (id: number, d: number, b: { name: string; description: string; items: T.DashboardItem[] }) =>
      request<T.Dashboard>('PUT', `${pp(id)}/dashboards/${d}`, b),
    deleteDashboard: (id: number, d: number) => request<void>('DELETE', `${pp(id)}/dashboards/${d}`),
  };
}

export type Client = ReturnType<typeof createClient>;

/** api is the app's client. */
export const api = createClient();
