import { useEffect, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import type { Project, Role } from '../api/types';
import { TimeZoneSelect } from '../components/TimeZoneSelect';
import { Code, ErrorBox, Spinner, fmtTime } from '../components/ui';
import { useMe, useProject } from '../hooks';
import { settings } from '../settings';

const roles: Role[] = ['viewer', 'member', 'admin'];

export function Settings() {
  const { project, isAdmin } = useProject();
  const me = useMe();
  if (!project) return <Spinner />;
  const orgAdmin = me.data?.orgs.some((o) => o.id === project.org_id && o.role === 'admin') ?? false;
  return (
    <div className="page settings">
      <h1>Project settings</h1>
      <General project={project} editable={isAdmin} />
      <Keys project={project} admin={isAdmin} />
      {orgAdmin ? <Members project={project} /> : <p className="muted">Only administrators of the organisation manage members and invitations.</p>}
      {orgAdmin && <Invitations orgId={project.org_id} />}
      {orgAdmin && <NewProject orgId={project.org_id} />}
    </div>
  );
}

function General({ project, editable }: { project: Project; editable: boolean }) {
  const qc = useQueryClient();
  const [name, setName] = useState(project.name);
  const [tz, setTz] = useState(project.time_zone);
  const [msg, setMsg] = useState<string | null>(null);
  const [err, setErr] = useState<unknown>(null);
  useEffect(() => { setName(project.name); setTz(project.time_zone); }, [project]);
  return (
    <section className="panel">
      <h2>General</h2>
      <form onSubmit={async (e) => {
        e.preventDefault();
        setErr(null);
        try {
          await api.updateProject(project.id, { name, time_zone: tz });
          await qc.invalidateQueries({ queryKey: ['project', project.id] });
          await qc.invalidateQueries({ queryKey: ['projects'] });
          setMsg('Saved.');
        } catch (e) { setErr(e); }
      }}>
        <div className="inline wrap">
          <label>Name<input value={name} disabled={!editable} onChange={(e) => setName(e.target.value)} required /></label>
          <label>Time zone<TimeZoneSelect value={tz} onChange={setTz} /></label>
          {editable && <button type="submit" className="primary">Save</button>}
        </div>
        <p className="muted small">The time zone sets day, week and month boundaries in every chart. Project id {project.id}.</p>
        {msg && <p className="ok" role="status">{msg}</p>}
        {err !== null && <ErrorBox error={err} />}
      </form>
    </section>
  );
}

function Keys({ project, admin }: { project: Project; admin: boolean }) {
  const qc = useQueryClient();
  const apiKey = useQuery({ queryKey: ['api-key', project.id], queryFn: () => api.apiKey(project.id) });
  const keys = useQuery({ queryKey: ['keys', project.id], queryFn: () => api.keys(project.id), enabled: admin });
  const [grace, setGrace] = useState(86400);
  const [shown, setShown] = useState<{ kind: string; value: string; until: string | null } | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const rotate = async (kind: 'api' | 'secret') => {
    if (!confirm(`Rotate the ${kind === 'api' ? 'API' : 'secret'} key? The old one keeps working for the grace period.`)) return;
    setErr(null);
    try {
      const r = await api.rotateKey(project.id, kind, grace);
      setShown({ kind, value: r.value, until: r.old_valid_until });
      await qc.invalidateQueries({ queryKey: ['keys', project.id] });
      await qc.invalidateQueries({ queryKey: ['api-key', project.id] });
    } catch (e) { setErr(e); }
  };
  return (
    <section className="panel">
      <h2>Keys</h2>
      <p>API key <span className="muted small">(public: SDKs send it with events to {settings.server_url})</span></p>
      <Code text={apiKey.data?.api_key ?? '…'} label="API key" />
      <p className="muted small">The secret key, with the API key, reads data through the Amplitude-compatible /api/2 endpoints. Crest shows it only when it is created.</p>
      {admin && (
        <>
          <div className="inline wrap">
            <label>Grace period
              <select value={grace} onChange={(e) => setGrace(Number(e.target.value))}>
                <option value={0}>None: old key stops now</option><option value={3600}>1 hour</option><option value={86400}>1 day</option><option value={604800}>7 days</option>
              </select>
            </label>
            <button type="button" onClick={() => void rotate('api')}>Rotate API key</button>
            <button type="button" onClick={() => void rotate('secret')}>Rotate secret key</button>
          </div>
          {shown && (
            <div className="notice" role="status">
              <p>New {shown.kind === 'api' ? 'API' : 'secret'} key{shown.kind === 'secret' ? ' — copy it now, it is shown once' : ''}:</p>
              <Code text={shown.value} label="New key" />
              {shown.until && <p className="small">The old key works until {fmtTime(shown.until)}.</p>}
            </div>
          )}
          {err !== null && <ErrorBox error={err} />}
          {keys.data && (
            <table className="grid compact">
              <thead><tr><th>Kind</th><th>Key</th><th>Created</th><th>Status</th></tr></thead>
              <tbody>{keys.data.items.map((k) => (
                <tr key={k.id}><td>{k.kind}</td><td className="mono">{k.value ?? `…${k.hint}`}</td><td>{fmtTime(k.created)}</td>
                  <td>{k.expires ? (k.active ? `valid until ${fmtTime(k.expires)}` : 'expired') : 'current'}</td></tr>
              ))}</tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}

function Members({ project }: { project: Project }) {
  const qc = useQueryClient();
  const org = project.org_id;
  const members = useQuery({ queryKey: ['members', org], queryFn: () => api.members(org) });
  const overrides = useQuery({ queryKey: ['roles', project.id], queryFn: () => api.projectRoles(project.id) });
  const [err, setErr] = useState<unknown>(null);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('member');
  const run = async (f: () => Promise<unknown>) => {
    setErr(null);
    try {
      await f();
      await qc.invalidateQueries({ queryKey: ['members', org] });
      await qc.invalidateQueries({ queryKey: ['roles', project.id] });
    } catch (e) { setErr(e); }
  };
  const over = new Map((overrides.data?.items ?? []).map((o) => [o.account_id, o.role]));
  return (
    <section className="panel">
      <h2>Members and roles</h2>
      <p className="muted small">Viewers can look at everything; members also save charts and dashboards; admins manage keys and people. A project role overrides the organisation role for this project.</p>
      {err !== null && <ErrorBox error={err} />}
      {members.isPending ? <Spinner /> : members.isError ? <ErrorBox error={members.error} /> : (
        <table className="grid" data-testid="members">
          <thead><tr><th>Email</th><th>Organisation role</th><th>Role in this project</th><th></th></tr></thead>
          <tbody>{members.data.items.map((m) => (
            <tr key={m.account_id}>
              <td>{m.email}{m.disabled && <span className="tag">disabled</span>}</td>
              <td><select aria-label={`Organisation role of ${m.email}`} value={m.role} onChange={(e) => void run(() => api.setMemberRole(org, m.account_id, e.target.value as Role))}>
                {roles.map((r) => <option key={r} value={r}>{r}</option>)}</select></td>
              <td><select aria-label={`Project role of ${m.email}`} value={over.get(m.account_id) ?? ''} onChange={(e) => void run(() => e.target.value
                ? api.setProjectRole(project.id, m.account_id, e.target.value as Role) : api.deleteProjectRole(project.id, m.account_id))}>
                <option value="">same as organisation</option>{roles.map((r) => <option key={r} value={r}>{r}</option>)}</select></td>
              <td><button type="button" className="link danger" onClick={() => { if (confirm(`Remove ${m.email}?`)) void run(() => api.removeMember(org, m.account_id)); }}>Remove</button></td>
            </tr>
          ))}</tbody>
        </table>
      )}
      <form className="inline wrap" onSubmit={(e) => { e.preventDefault(); void run(async () => { await api.createMember(org, { email, password, role }); setEmail(''); setPassword(''); }); }}>
        <label>New account email<input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} /></label>
        <label>Initial password<input type="password" required minLength={12} autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} /></label>
        <label>Role<select aria-label="New account role" value={role} onChange={(e) => setRole(e.target.value as Role)}>{roles.map((r) => <option key={r} value={r}>{r}</option>)}</select></label>
        <button type="submit">Add account</button>
      </form>
    </section>
  );
}

function Invitations({ orgId }: { orgId: number }) {
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ['invitations', orgId], queryFn: () => api.invitations(orgId) });
  const [role, setRole] = useState<Role>('member');
  const [email, setEmail] = useState('');
  const [link, setLink] = useState<string | null>(null);
  const [err, setErr] = useState<unknown>(null);
  return (
    <section className="panel">
      <h2>Invitations</h2>
      <form className="inline wrap" onSubmit={async (e) => {
        e.preventDefault();
        setErr(null);
        try {
          const r = await api.createInvitation(orgId, { role, email: email || undefined });
          setLink(location.origin + r.path);
          await qc.invalidateQueries({ queryKey: ['invitations', orgId] });
        } catch (e) { setErr(e); }
      }}>
        <label>Role<select aria-label="Invitation role" value={role} onChange={(e) => setRole(e.target.value as Role)}>{roles.map((r) => <option key={r} value={r}>{r}</option>)}</select></label>
        <label>Only for email <span className="muted small">(optional)</span><input type="email" value={email} onChange={(e) => setEmail(e.target.value)} /></label>
        <button type="submit">Create invitation link</button>
      </form>
      {link && <div className="notice" role="status"><p>Send this link (shown once, valid 7 days):</p><Code text={link} label="Invitation link" /></div>}
      {err !== null && <ErrorBox error={err} />}
      {list.data && list.data.items.length > 0 && (
        <table className="grid compact">
          <thead><tr><th>Role</th><th>Email</th><th>Expires</th><th>Status</th><th></th></tr></thead>
          <tbody>{list.data.items.map((i) => (
            <tr key={i.id}><td>{i.role}</td><td>{i.email || 'anyone with the link'}</td><td>{fmtTime(i.expires)}</td><td>{i.used ? 'used' : 'open'}</td>
              <td>{!i.used && <button type="button" className="link danger" onClick={async () => { await api.deleteInvitation(orgId, i.id); await qc.invalidateQueries({ queryKey: ['invitations', orgId] }); }}>Revoke</button>}</td></tr>
          ))}</tbody>
        </table>
      )}
    </section>
  );
}

function NewProject({ orgId }: { orgId: number }) {
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [tz, setTz] = useState('UTC');
  const [made, setMade] = useState<{ id: number; api_key: string; secret_key: string } | null>(null);
  const [err, setErr] = useState<unknown>(null);
  return (
    <section className="panel">
      <h2>New project</h2>
      <form className="inline wrap" onSubmit={async (e) => {
        e.preventDefault();
        setErr(null);
        try {
          const r = await api.createProject(orgId, name, tz);
          setMade({ id: r.project.id, api_key: r.api_key, secret_key: r.secret_key });
          setName('');
          await qc.invalidateQueries({ queryKey: ['projects'] });
        } catch (e) { setErr(e); }
      }}>
        <label>Name<input required value={name} onChange={(e) => setName(e.target.value)} /></label>
        <label>Time zone<TimeZoneSelect value={tz} onChange={setTz} /></label>
        <button type="submit">Create project</button>
      </form>
      {made && <div className="notice" role="status"><p>Created. <a href={`/projects/${made.id}`}>Open it</a>. Its secret key is shown once:</p><Code text={made.secret_key} label="Secret key" /></div>}
      {err !== null && <ErrorBox error={err} />}
    </section>
  );
}
