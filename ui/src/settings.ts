// Runtime settings the Go server injects into index.html as
// <meta name="crest-settings" content="{...}"> (internal/web).
export interface Settings {
  server_url: string;
  version: string;
}

export function readSettings(doc: Document | undefined = typeof document === 'undefined' ? undefined : document): Settings {
  const fallback: Settings = { server_url: typeof location === 'undefined' ? '' : location.origin, version: 'dev' };
  const el = doc?.querySelector('meta[name="crest-settings"]');
  if (!el) return fallback;
  try {
    const v = JSON.parse(el.getAttribute('content') ?? '') as Partial<Settings>;
    return { server_url: v.server_url || fallback.server_url, version: v.version || fallback.version };
  } catch {
    return fallback;
  }
}

export const settings = readSettings();
