// Server data shared by several pages, through TanStack Query.
import { useQuery } from '@tanstack/react-query';
import { useParams } from 'react-router-dom';
import { api } from './api/client';
import type { Project } from './api/types';

export function useMe() {
  return useQuery({ queryKey: ['me'], queryFn: api.me, staleTime: 60_000 });
}

export function useProjects() {
  return useQuery({ queryKey: ['projects'], queryFn: api.projects });
}

/** useProjectId is the {pid} of the current route. */
export function useProjectId(): number {
  const { pid } = useParams();
  return Number(pid);
}

/** useProject is the current route's project, with my role. */
export function useProject(): { project: Project | undefined; canEdit: boolean; isAdmin: boolean } {
  const pid = useProjectId();
  const q = useQuery({ queryKey: ['project', pid], queryFn: () => api.project(pid), enabled: pid > 0 });
  const role = q.data?.role;
  return { project: q.data, canEdit: role === 'member' || role === 'admin', isAdmin: role === 'admin' };
}

export function useEventTypes(pid: number) {
  return useQuery({ queryKey: ['events', pid], queryFn: () => api.eventTypes(pid, 3650), staleTime: 60_000 });
}
