import { useEffect } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { NavLink, Outlet, useNavigate } from 'react-router-dom';
import { api } from '../api/client';
import { useMe, useProject, useProjectId, useProjects } from '../hooks';
import { settings } from '../settings';

export function Layout() {
  const pid = useProjectId();
  const me = useMe();
  const projects = useProjects();
  const { project } = useProject();
  const nav = useNavigate();
  const qc = useQueryClient();
  useEffect(() => {
    if (pid > 0) localStorage.setItem('crest.project', String(pid));
  }, [pid]);
  useEffect(() => {
    document.title = project ? `${project.name} · Crest` : 'Crest';
  }, [project]);
  const link = (to: string, label: string, end = false) => (
    <NavLink to={`/projects/${pid}${to}`} end={end} className={({ isActive }) => (isActive ? 'active' : '')}>{label}</NavLink>
  );
  return (
    <div className="app">
      <a href="#main" className="skip">Skip to content</a>
      <header className="top">
        <a className="brand" href="/" aria-label="Crest home">
          <svg viewBox="0 0 32 32" width="22" height="22" aria-hidden="true"><path d="M2 26 L11 10 L17 19 L22 12 L30 26 Z" fill="currentColor" /></svg>
          Crest
        </a>
        <label className="switcher">
          <span className="sr-only">Project</span>
          <select
            aria-label="Project"
            value={pid}
            onChange={(e) => nav(`/projects/${e.target.value}`)}
          >
            {(projects.data?.items ?? []).map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
          </select>
        </label>
        <nav aria-label="Main">
          {link('', 'Home', true)}
          {link('/live', 'Live events')}
          {link('/chart', 'New chart')}
          {link('/charts', 'Saved charts')}
          {link('/dashboards', 'Dashboards')}
          {link('/users', 'Users')}
          {link('/settings', 'Settings')}
        </nav>
        <div className="who">
          {project && <span className={'role role-' + project.role} title="Your role in this project">{project.role}</span>}
          <span className="email">{me.data?.account.email}</span>
          <button
            type="button"
            className="link"
            onClick={async () => {
              try { await api.logout(); } finally {
                qc.clear();
                nav('/login', { replace: true });
              }
            }}
          >Log out</button>
        </div>
      </header>
      <main id="main" className="content" tabIndex={-1}>
        <Outlet />
      </main>
      <footer className="foot muted small">Crest {settings.version}</footer>
    </div>
  );
}
