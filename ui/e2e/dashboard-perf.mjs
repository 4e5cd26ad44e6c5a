// Measures how long a dashboard of six charts takes to render in Chromium
// against a loaded data directory (not part of make test: it needs a
// large data set). Usage:
//
//   CREST_BIN=../bin/crest CREST_PERF_DATA=/tmp/crest-querybench-10000000-seed1 node e2e/dashboard-perf.mjs
//
// The data directory is copied (the original is left alone); an
// administrator is set up if none exists, six charts and a dashboard are
// created through the API, and the dashboard is opened RUNS times (default
// 5) in a fresh page each, timing navigation start to the sixth chart drawn.
// It also reports the CPU time each load took in Chromium's processes and
// in the server (from /proc), which host load disturbs less than the time.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const bin = resolve(process.env.CREST_BIN ?? '../bin/crest');
const src = process.env.CREST_PERF_DATA;
const runs = Number(process.env.RUNS ?? 5);
if (!src) throw new Error('set CREST_PERF_DATA to a loaded data directory');
const dir = mkdtempSync(join(tmpdir(), 'crest-dash-perf-'));
execFileSync('cp', ['-r', src + '/.', dir]);
const server = spawn(bin, ['serve', '--data', dir, '--addr', '127.0.0.1:0', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise((res, rej) => {
  let out = '';
  server.stdout.on('data', (d) => { out += d; const m = /listening on (http:\/\/\S+)/.exec(out); if (m) res(m[1]); });
  server.on('exit', (c) => rej(new Error('crest exited ' + c)));
});
// cpuMs sums user and system CPU time of the processes whose command line
// matches, in ms (Linux /proc; 0 elsewhere).
function cpuMs(match) {
  let ticks = 0;
  let dirs = [];
  try { dirs = readdirSync('/proc').filter((d) => /^\d+$/.test(d)); } catch { return 0; }
  for (const d of dirs) {
    try {
      if (!match(readFileSync(`/proc/${d}/cmdline`, 'utf8'), Number(d))) continue;
      const f = readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch { /* gone */ }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}
const chromeCPU = () => cpuMs((cmd) => cmd.includes('chromium') || cmd.includes('chrome'));
const serverCPU = () => cpuMs((_, pid) => pid === server.pid);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
try {
  const ctx = await browser.newContext({ baseURL: base, viewport: { width: 1440, height: 900 } });
  const email = 'perf@example.com', password = 'perf password 1234';
  let r = await ctx.request.post('/api/v1/setup', { data: { email, password } });
  if (r.status() === 409) r = await ctx.request.post('/api/v1/login', { data: { email, password } });
  if (!r.ok()) throw new Error('setup/login: ' + r.status() + ' ' + await r.text());
  const csrf = (await r.json()).csrf_token;
  const pid = (await (await ctx.request.get('/api/v1/projects')).json()).items[0].id;
  const post = async (path, data) => {
    const x = await ctx.request.post(`/api/v1/projects/${pid}${path}`, { data, headers: { 'X-CSRF-Token': csrf } });
    if (!x.ok()) throw new Error(path + ': ' + x.status() + ' ' + await x.text());
    return x.json();
  };
  const seg = (events, extra = {}) => ({ type: 'segmentation', version: 1, events, range: { last: 90, unit: 'day' }, interval: 'day', ...extra });
  const charts = [
    ['Daily active users', seg([{ event_type: '_active' }]), 'line'],
    ['Plays by platform', seg([{ event_type: 'Play Song', group_by: [{ type: 'device', key: 'platform' }] }], { metric: 'totals' }), 'area'],
    ['Plays by genre', seg([{ event_type: 'Play Song', group_by: [{ type: 'event', key: 'genre' }] }], { range: { last: 30, unit: 'day' } }), 'bar'],
    ['Listening funnel', { type: 'funnel', version: 1, steps: [{ event_type: 'Open App' }, { event_type: 'Search' }, { event_type: 'Play Song' }], range: { last: 30, unit: 'day' } }, 'steps'],
    ['New user retention', { type: 'retention', version: 1, start: { event_type: '_new' }, return: [{ event_type: '_active' }], range: { last: 30, unit: 'day' } }, 'grid'],
    ['Session length', { type: 'sessions', version: 1, metric: 'average', range: { last: 90, unit: 'day' } }, 'line'],
  ];
  const items = [];
  for (const [name, definition, viz] of charts) {
    const c = await post('/charts', { name, definition, options: { viz } });
    items.push({ chart_id: c.id, width: 6, height: 2 });
  }
  const d = await post('/dashboards', { name: 'Six charts', items });
  const times = [];
  const cpu = [];
  for (let i = 0; i < runs; i++) {
    const page = await ctx.newPage();
    const c0 = chromeCPU(), s0 = serverCPU();
    const t0 = Date.now();
    await page.goto(`/projects/${pid}/dashboards/${d.id}`);
    await page.waitForFunction(() => {
      const tiles = [...document.querySelectorAll('[data-testid=dashboard-tile]')];
      return tiles.length === 6 && tiles.every((t) => t.querySelector('canvas') && !t.querySelector('.loading'));
    }, null, { timeout: 120_000, polling: 20 });
    times.push(Date.now() - t0);
    cpu.push([chromeCPU() - c0, serverCPU() - s0]);
    await page.close();
  }
  // Each chart's query alone, through the API, one after another.
  const each = [];
  for (const [name, definition] of charts) {
    const t0 = Date.now();
    const x = await ctx.request.post(`/api/v1/projects/${pid}/query`, { data: definition, headers: { 'X-CSRF-Token': csrf } });
    if (!x.ok()) throw new Error(name + ': ' + x.status());
    each.push(`${name} ${Date.now() - t0} ms`);
  }
  console.log('queries alone, in sequence: ' + each.join('; '));
  const sorted = [...times].sort((a, b) => a - b);
  const mid = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`CPU per load (median): Chromium ${mid(cpu.map((c) => c[0]))} ms, server ${mid(cpu.map((c) => c[1]))} ms`);
  console.log(`dashboard of 6 charts: runs ${times.join(', ')} ms; first ${times[0]} ms; median ${sorted[Math.floor(sorted.length / 2)]} ms`);
} finally {
  await browser.close();
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
