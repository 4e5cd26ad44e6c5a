import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Navigate, useNavigate } from 'react-router-dom';
import { api } from '../api/client';
import { ErrorBox, Spinner } from '../components/ui';
import { TimeZoneSelect, browserTimeZone } from '../components/TimeZoneSelect';

/** Setup is the first-run page: the administrator and the first project. */
export function Setup() {
  const status = useQuery({ queryKey: ['setup'], queryFn: api.setupStatus });
  const qc = useQueryClient();
  const nav = useNavigate();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [org, setOrg] = useState('');
  const [project, setProject] = useState('');
  const [tz, setTz] = useState(browserTimeZone());
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  if (status.isPending) return <Spinner />;
  // Set up already (by someone else, or just now): "/" logs in or opens the project.
  if (status.data && !status.data.needed && !busy) return <Navigate to="/" replace />;
  return (
    <main className="auth">
      <form
        className="card"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setErr(null);
          try {
            const r = await api.setup({ email, password, org_name: org || undefined, project_name: project || undefined, time_zone: tz });
            nav(`/projects/${r.project.id}`, { replace: true });
            await qc.resetQueries();
          } catch (e) {
            setErr(e);
          } finally {
            setBusy(false);
          }
        }}
      >
        <h1 className="brand-title">Welcome to Crest</h1>
        <p className="muted">Create the administrator account and name your first project. You can invite your team afterwards.</p>
        {err !== null && <ErrorBox error={err} title="Setup failed" />}
        <label>Your email<input type="email" required autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} autoFocus /></label>
        <label>Password <span className="muted">(at least 12 characters)</span>
          <input type="password" required minLength={12} autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <label>Organisation name<input placeholder="Acme Inc." value={org} onChange={(e) => setOrg(e.target.value)} /></label>
        <label>Project name<input placeholder="My app" value={project} onChange={(e) => setProject(e.target.value)} /></label>
        <label>Project time zone <span className="muted">(day boundaries in charts)</span>
          <TimeZoneSelect value={tz} onChange={setTz} />
        </label>
        <button type="submit" className="primary" disabled={busy}>{busy ? 'Creating…' : 'Create account and project'}</button>
      </form>
    </main>
  );
}
