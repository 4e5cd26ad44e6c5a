import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate, useParams } from 'react-router-dom';
import { api } from '../api/client';
import { ErrorBox, Spinner } from '../components/ui';

/** Invite lets the holder of an invitation link join: logged in, or with a new account. */
export function Invite() {
  const { token = '' } = useParams();
  const qc = useQueryClient();
  const nav = useNavigate();
  const inv = useQuery({ queryKey: ['invitation', token], queryFn: () => api.showInvitation(token) });
  const me = useQuery({ queryKey: ['me'], queryFn: api.me, retry: false });
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [err, setErr] = useState<unknown>(null);
  if (inv.isPending) return <Spinner />;
  if (inv.isError) return <main className="auth"><div className="card"><ErrorBox error={inv.error} title="This invitation cannot be used" /></div></main>;
  const done = async () => {
    await qc.resetQueries();
    nav('/', { replace: true });
  };
  return (
    <main className="auth">
      <div className="card">
        <h1 className="brand-title">Join {inv.data.org_name}</h1>
        <p>You are invited as <strong>{inv.data.role}</strong>.</p>
        {err !== null && <ErrorBox error={err} />}
        {me.data ? (
          <button type="button" className="primary" onClick={async () => {
            try { await api.acceptInvitation(token); await done(); } catch (e) { setErr(e); }
          }}>Join as {me.data.account.email}</button>
        ) : (
          <form onSubmit={async (e) => {
            e.preventDefault();
            try { await api.signupInvitation(token, email || inv.data.email, password); await done(); } catch (e) { setErr(e); }
          }}>
            <label>Email<input type="email" required value={email || inv.data.email} readOnly={!!inv.data.email} onChange={(e) => setEmail(e.target.value)} /></label>
            <label>Choose a password<input type="password" required minLength={12} autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} /></label>
            <button type="submit" className="primary">Create account and join</button>
            <p className="muted small">Already have an account? <a href={'/login?next=' + encodeURIComponent('/invite/' + token)}>Log in</a> first.</p>
          </form>
        )}
      </div>
    </main>
  );
}
