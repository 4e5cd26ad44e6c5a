import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Navigate, useNavigate, useSearchParams } from 'react-router-dom';
import { api } from '../api/client';
import { ErrorBox } from '../components/ui';

/** safeNext keeps a post-login redirect on this site. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function Login() {
  const [params] = useSearchParams();
  const qc = useQueryClient();
  const nav = useNavigate();
  const setup = useQuery({ queryKey: ['setup'], queryFn: api.setupStatus });
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  if (setup.data?.needed) return <Navigate to="/setup" replace />;
  return (
    <main className="auth">
      <form
        className="card"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setErr(null);
          try {
            await api.login(email, password);
            await qc.resetQueries();
            nav(safeNext(params.get('next')), { replace: true });
          } catch (e) {
            setErr(e);
          } finally {
            setBusy(false);
          }
        }}
      >
        <h1 className="brand-title">Log in to Crest</h1>
        {err !== null && <ErrorBox error={err} title="Could not log in" />}
        <label>Email<input type="email" required autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} autoFocus /></label>
        <label>Password<input type="password" required autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} /></label>
        <button type="submit" className="primary" disabled={busy}>{busy ? 'Logging in…' : 'Log in'}</button>
        <p className="muted small">No account? Ask an administrator of your organisation for an invitation link.</p>
      </form>
    </main>
  );
}
