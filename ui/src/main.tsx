import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { BrowserRouter } from 'react-router-dom';
import { ApiError } from './api/client';
import { App } from './App';
import { prefetchDashboard } from './pages/Dashboards';
import './styles.css';

const queryClient = new QueryClient({
  // A session that ends while a project page is open (expired, revoked,
  // logged out elsewhere) sends the person to log in, then back.
  queryCache: new QueryCache({
    onError: (e) => {
      if (e instanceof ApiError && e.status === 401 && location.pathname.startsWith('/projects/')) {
        location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
      }
    },
  }),
  defaultOptions: {
    queries: {
      staleTime: 30_000,
      refetchOnWindowFocus: false,
      // Do not retry what retrying cannot fix.
      retry: (n, e) => !(e instanceof ApiError && e.status >= 400 && e.status < 500) && n < 2,
    },
  },
});

// A dashboard's queries start now, while the rest of the app renders.
const dash = /^\/projects\/(\d+)\/dashboards\/(\d+)\/?$/.exec(location.pathname);
if (dash) prefetchDashboard(queryClient, Number(dash[1]), Number(dash[2]), location.search).catch(() => undefined);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
