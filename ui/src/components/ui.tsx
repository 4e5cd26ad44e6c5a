// Small shared pieces: loading and error states, copyable code, tabs.
import { Component, useState, type ReactNode } from 'react';
import { ApiError } from '../api/client';

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return <div className="loading" role="status" aria-live="polite"><span className="spinner" aria-hidden="true" />{label}</div>;
}

/** errorText turns any error into a sentence for people. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 0) return e.message;
    if (e.code === 'forbidden') return 'Your role does not allow this.';
    return e.message.charAt(0).toUpperCase() + e.message.slice(1);
  }
  return e instanceof Error ? e.message : String(e);
}

export function ErrorBox({ error, title = 'Something went wrong' }: { error: unknown; title?: string }) {
  return (
    <div className="error" role="alert">
      <strong>{title}.</strong> {errorText(error)}
    </div>
  );
}

export function Code({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="code">
      <pre aria-label={label}><code>{text}</code></pre>
      <button
        type="button"
        className="copy"
        onClick={() => {
          void navigator.clipboard?.writeText(text).then(() => setCopied(true), () => setCopied(false));
          setTimeout(() => setCopied(false), 1500);
        }}
      >{copied ? 'Copied' : 'Copy'}</button>
    </div>
  );
}

export function Tabs<K extends string>({ tabs, value, onChange, label }: {
  tabs: { key: K; label: string }[]; value: K; onChange: (k: K) => void; label: string;
}) {
  return (
    <div className="tabs" role="tablist" aria-label={label}>
      {tabs.map((t) => (
        <button key={t.key} type="button" role="tab" aria-selected={t.key === value}
          className={t.key === value ? 'tab active' : 'tab'} onClick={() => onChange(t.key)}>{t.label}</button>
      ))}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return <div className="empty"><h3>{title}</h3>{children}</div>;
}

export function fmtTime(ms: number | string): string {
  const d = typeof ms === 'number' ? new Date(ms) : new Date(ms);
  if (Number.isNaN(d.getTime())) return String(ms);
  return d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
}

/** download saves text as a file. */
export function download(name: string, text: string, type = 'text/csv') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Boundary keeps a failure to draw one part from blanking the page. */
export class Boundary extends Component<{ children: ReactNode }, { error: unknown }> {
  state = { error: null as unknown };
  static getDerivedStateFromError(error: unknown) {
    return { error };
  }
  render() {
    if (this.state.error !== null) return <ErrorBox error={this.state.error} title="Cannot draw this" />;
    return this.props.children;
  }
}
