import { useQuery } from '@tanstack/react-query';
import { Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { api, ApiError } from './api/client';
import { Spinner, ErrorBox } from './components/ui';
import { useMe, useProjects } from './hooks';
import { Layout } from './pages/Layout';
import { Setup } from './pages/Setup';
import { Login } from './pages/Login';
import { Invite } from './pages/Invite';
import { Home } from './pages/Home';
import { Live } from './pages/Live';
import { ChartBuilder } from './pages/ChartBuilder';
import { ChartsList } from './pages/ChartsList';
import { Dashboards, DashboardPage } from './pages/Dashboards';
import { Users, UserPage } from './pages/Users';
import { Settings } from './pages/Settings';

export function App() {
  return (
    <Routes>
      <Route path="/setup" element={<Setup />} />
      <Route path="/login" element={<Login />} />
      <Route path="/invite/:token" element={<Invite />} />
      <Route path="/" element={<RequireLogin><FirstProject /></RequireLogin>} />
      <Route path="/projects/:pid" element={<RequireLogin><Layout /></RequireLogin>}>
        <Route index element={<Home />} />
        <Route path="live" element={<Live />} />
        <Route path="chart" element={<ChartBuilder />} />
        <Route path="charts" element={<ChartsList />} />
        <Route path="charts/:cid" element={<ChartBuilder />} />
        <Route path="dashboards" element={<Dashboards />} />
        <Route path="dashboards/:did" element={<DashboardPage />} />
        <Route path="users" element={<Users />} />
        <Route path="users/:aid" element={<UserPage />} />
        <Route path="settings" element={<Settings />} />
      </Route>
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}

/** RequireLogin sends visitors to setup (first run) or login. */
function RequireLogin({ children }: { children: React.ReactNode }) {
  const me = useMe();
  const loc = useLocation();
  const setup = useQuery({ queryKey: ['setup'], queryFn: api.setupStatus, enabled: me.isError });
  if (me.isPending) return <Spinner />;
  if (me.isError) {
    if (!(me.error instanceof ApiError && me.error.status === 401)) return <main className="narrow"><ErrorBox error={me.error} /></main>;
    if (setup.isPending) return <Spinner />;
    if (setup.data?.needed) return <Navigate to="/setup" replace />;
    return <Navigate to={'/login?next=' + encodeURIComponent(loc.pathname + loc.search)} replace />;
  }
  return <>{children}</>;
}

function FirstProject() {
  const projects = useProjects();
  if (projects.isPending) return <Spinner />;
  if (projects.isError) return <main className="narrow"><ErrorBox error={projects.error} /></main>;
  const last = Number(localStorage.getItem('crest.project'));
  const p = projects.data.items.find((x) => x.id === last) ?? projects.data.items[0];
  if (!p) return <main className="narrow"><h1>No projects</h1><p>You are not a member of any project yet. Ask an administrator to invite you.</p></main>;
  return <Navigate to={`/projects/${p.id}`} replace />;
}

function NotFound() {
  return (
    <main className="narrow">
      <h1>Page not found</h1>
      <p><a href="/">Go to your project</a></p>
    </main>
  );
}
