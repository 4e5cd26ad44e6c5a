// End-to-end test of the web app against the real binary: first-run
// setup, the onboarding empty state, live events, every chart type the
// server knows, saved charts and dashboards, a share link opened by
// another member, CSV download, user look-up and a viewer who cannot
// edit. Runs Debian's Chromium through playwright-core; screenshots of
// every page go to e2e/screenshots/ (look at them).
//
//   CREST_BIN=../bin/crest node --test e2e/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const bin = process.env.CREST_BIN ? resolve(process.env.CREST_BIN) : resolve('../bin/crest');
const chromePath = process.env.CHROMIUM || '/usr/bin/chromium';
const shots = resolve('e2e/screenshots');
const apiKey = 'e2e0123456789abcdef0123456789abc';
const secretKey = 'e2esecret0123456789abcdef012345';
const admin = { email: 'admin@example.com', password: 'admin password 123' };
const member = { email: 'member@example.com', password: 'member password 123' };
const viewer = { email: 'viewer@example.com', password: 'viewer password 123' };

let server, base, dataDir, browser, page;
const state = {}; // what earlier steps learned (chart ids, links)

async function startServer() {
  dataDir = mkdtempSync(join(tmpdir(), 'crest-ui-e2e-'));
  server = spawn(bin, ['serve', '--data', dataDir, '--addr', '127.0.0.1:0', '--log-level', 'warn'], {
    env: { ...process.env, CREST_API_KEY: apiKey, CREST_SECRET_KEY: secretKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  server.stderr.on('data', (d) => { stderr += d; });
  base = await new Promise((res, rej) => {
    let out = '';
    const t = setTimeout(() => rej(new Error('crest did not start: ' + out + stderr)), 60_000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) { clearTimeout(t); res(m[1]); }
    });
    server.on('exit', (code) => rej(new Error(`crest exited with ${code}: ${stderr}`)));
  });
}

async function readyz() {
  const r = await fetch(base + '/readyz');
  return r.json();
}

/** waitApplied waits until the store holds everything acknowledged. */
async function waitApplied() {
  const target = (await readyz()).wal_durable;
  const deadline = Date.now() + 120_000;
  while ((await readyz()).applied < target) {
    if (Date.now() > deadline) throw new Error('events not applied in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function shot(name, p = page) {
  await p.waitForTimeout(150); // let ECharts finish its frame
  await p.screenshot({ path: join(shots, name + '.png'), fullPage: true });
}

async function newPage(viewport = { width: 1440, height: 900 }) {
  const ctx = await browser.newContext({ viewport, acceptDownloads: true, baseURL: base });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write']).catch(() => {});
  const p = await ctx.newPage();
  p.setDefaultTimeout(30_000);
  const errors = [];
  p.on('pageerror', (e) => errors.push(String(e)));
  p.on('console', (m) => { if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) errors.push(m.text()); });
  p.jsErrors = errors;
  return p;
}

async function login(p, who, next = '/') {
  await p.goto('/login?next=' + encodeURIComponent(next));
  await p.getByLabel('Email').fill(who.email);
  await p.getByLabel('Password').fill(who.password);
  await p.getByRole('button', { name: 'Log in' }).click();
  await p.waitForURL((u) => !u.pathname.startsWith('/login'));
}

/** step is a test that leaves a screenshot of the page when it fails. */
// settles waits until locator matches want elements (at most 10 s) and
// returns the count: lists and tables update when their request returns,
// so an absence read at once can see the previous rows.
async function settles(locator, want) {
  let n = await locator.count();
  for (let i = 0; i < 100 && n !== want; i++) {
    await new Promise((r) => setTimeout(r, 100));
    n = await locator.count();
  }
  return n;
}

function step(name, fn) {
  test(name, async () => {
    try {
      await fn();
    } catch (e) {
      await page?.screenshot({ path: join(shots, 'FAILED-' + name.replace(/\W+/g, '-') + '.png'), fullPage: true }).catch(() => {});
      throw e;
    }
  });
}

before(async () => {
  rmSync(shots, { recursive: true, force: true });
  mkdirSync(shots, { recursive: true });
  await startServer();
  browser = await chromium.launch({
    executablePath: chromePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  page = await newPage();
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

step('first-run setup creates the administrator and names the project', async () => {
  await page.goto('/');
  await page.waitForURL('**/setup');
  await page.getByLabel('Your email').fill(admin.email);
  await page.getByLabel(/^Password/).fill(admin.password);
  await page.getByLabel('Organisation name').fill('Acme Music');
  await page.getByLabel('Project name').fill('Music app');
  await page.getByLabel(/Project time zone/).selectOption('Europe/Berlin');
  await shot('01-setup');
  await page.getByRole('button', { name: 'Create account and project' }).click();
  await page.waitForURL(/\/projects\/\d+$/);
  state.pid = Number(/projects\/(\d+)/.exec(page.url())[1]);
  await page.getByRole('heading', { name: 'Send your first event' }).waitFor();
  assert.equal(await page.getByTestId('api-key').textContent(), apiKey);
  const snippet = await page.getByLabel('browser snippet').textContent();
  assert.match(snippet, new RegExp(`serverUrl: '${base}/2/httpapi'`));
  assert.match(snippet, /fetchRemoteConfig: false/);
  await page.getByRole('tab', { name: 'curl' }).click();
  assert.match(await page.getByLabel('curl snippet').textContent(), new RegExp(apiKey));
  await shot('02-onboarding-empty');
  assert.equal(await page.getByRole('combobox', { name: 'Project' }).inputValue(), String(state.pid));
  assert.match(await page.getByRole('combobox', { name: 'Project' }).locator('option:checked').textContent(), /Music app/);
});

step('a sent event lights up the empty state and shows in live events', async () => {
  const resp = await fetch(base + '/2/httpapi', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ api_key: apiKey, events: [{ user_id: 'first@example.com', device_id: 'dev-first', event_type: 'Hello Crest', event_properties: { source: 'e2e', n: 1 } }] }),
  });
  assert.equal(resp.status, 200);
  await page.getByText('First event received').waitFor({ timeout: 30_000 });
  assert.match(await page.getByTestId('first-event').textContent(), /Hello Crest.*first@example\.com/);
  await shot('03-first-event');

  await page.getByRole('link', { name: 'Open live events' }).click();
  await page.waitForURL('**/live');
  const row = page.getByTestId('live-table').getByRole('row', { name: /Hello Crest/ });
  await row.waitFor();
  await row.getByRole('button', { name: /Show the JSON of Hello Crest/ }).click();
  const json = await page.locator('pre.json').first().textContent();
  assert.match(json, /"source": "e2e"/);
  assert.match(json, /"user_id": "first@example.com"/);
  await shot('04-live-events');

  // A second event arrives while the page is open; filters narrow the feed.
  await fetch(base + '/2/httpapi', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ api_key: apiKey, events: [{ user_id: 'second@example.com', event_type: 'Second Event' }] }),
  });
  await page.getByTestId('live-table').getByRole('row', { name: /Second Event/ }).waitFor();
  await page.getByLabel('User').fill('second@example.com');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/user=second/);
  await page.getByTestId('live-table').getByRole('row', { name: /Second Event/ }).waitFor();
  // The filtered feed replaces the rows when its request returns: wait for
  // the other user's rows to go rather than reading the table at once.
  assert.equal(await settles(page.getByTestId('live-table').getByRole('row', { name: /Hello Crest/ }), 0), 0);
});

step('the demo data loads and the home page lists its events', async () => {
  await promisify(execFile)(bin, ['demo', '--events', '20000', '--days', '30', '--url', base, '--api-key', apiKey], { timeout: 300_000 });
  await waitApplied();
  await page.goto(`/projects/${state.pid}`);
  await page.getByRole('heading', { name: 'Event types' }).waitFor();
  await page.getByRole('cell', { name: 'Play Song' }).waitFor();
  await shot('05-home');
});

step('event segmentation: build, switch visualisations, download CSV', async () => {
  await page.goto(`/projects/${state.pid}/chart`);
  await page.getByTestId('result-table').waitFor();
  await page.getByTestId('echart').waitFor();
  await shot('06-chart-default');

  await page.getByLabel('Event A').fill('Play Song');
  await page.getByLabel('Event A').press('Tab');
  await page.getByRole('button', { name: '+ Group by' }).click();
  await page.getByLabel('Event A group-by 1 kind').selectOption('device');
  await page.getByLabel('Event A group-by 1', { exact: true }).fill('platform');
  await page.getByLabel('Metric').selectOption('totals');
  await page.getByLabel('Compare to past').selectOption('previous');
  await page.waitForURL(/platform/);
  await page.getByTestId('result-table').getByRole('rowheader', { name: /Play Song · Web/ }).first().waitFor();
  await page.getByTestId('result-table').getByRole('rowheader', { name: /compare|previous/ }).first().waitFor();
  await shot('07-chart-line-grouped');
  for (const viz of ['Stacked area', 'Bar', 'Table']) {
    await page.getByRole('tab', { name: viz }).click();
    await page.waitForURL(new RegExp('viz=' + { 'Stacked area': 'area', Bar: 'bar', Table: 'table' }[viz]));
    await page.getByTestId('result-table').waitFor();
    await shot('08-chart-' + viz.toLowerCase().replace(' ', '-'));
  }
  assert.equal(await settles(page.getByTestId('echart'), 0), 0, 'the table view draws no chart');
  await page.getByRole('tab', { name: 'Line' }).click();

  // The URL is the whole state: opening it afresh gives the same chart.
  state.chartUrl = page.url();
  const p2 = await newPage();
  await login(p2, admin, new URL(state.chartUrl).pathname + new URL(state.chartUrl).search);
  await p2.getByTestId('result-table').getByRole('rowheader', { name: /Play Song · Web/ }).first().waitFor();
  assert.equal(await p2.getByLabel('Metric').inputValue(), 'totals');
  await p2.context().close();

  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
  const csv = readFileSync(await dl.path(), 'utf8');
  assert.match(csv.split('\r\n')[0], /^Series,\d{4}-\d\d-\d\d,.*,Whole range$/);
  assert.match(csv, /Play Song · Web/);
  assert.equal(dl.suggestedFilename(), 'segmentation.csv');

  // A filter with value suggestions from the catalog.
  await page.getByRole('button', { name: '+ Filter' }).first().click();
  await page.getByLabel('Event A filter 1 property', { exact: true }).fill('genre');
  await page.getByLabel('Event A filter 1 values').fill('Rock');
  await page.waitForURL(/Rock/);
  await page.getByTestId('result-table').waitFor();
  const options = await page.locator('datalist option').evaluateAll((os) => os.map((o) => o.value));
  assert.ok(options.includes('Rock'), 'genre values are suggested');
  await shot('09-chart-filtered');
});

step('funnel, retention and sessions charts with each of their views', async () => {
  const ready = async () => {
    await page.getByTestId('result-table').waitFor();
    await page.locator('.stale').waitFor({ state: 'detached' });
  };
  await page.goto(`/projects/${state.pid}/chart`);
  await page.getByRole('tab', { name: 'Funnel' }).click();
  await page.getByLabel('Step 1', { exact: true }).fill('Open App');
  await page.getByLabel('Step 1', { exact: true }).press('Tab');
  await page.getByLabel('Step 2', { exact: true }).fill('Play Song');
  await page.getByLabel('Step 2', { exact: true }).press('Tab');
  await page.getByRole('button', { name: '+ Add step' }).click();
  await page.getByLabel('Step 3', { exact: true }).fill('Add to Playlist');
  await page.getByLabel('Step 3', { exact: true }).press('Tab');
  await page.waitForURL(/Add%20to%20Playlist|Add\+to\+Playlist/);
  await ready();
  await page.getByTestId('result-table').getByRole('rowheader', { name: '3. Add to Playlist' }).waitFor();
  await page.getByTestId('echart').waitFor();
  await shot('10-funnel-steps');
  for (const [tab, viz] of [['Conversion over time', 'over_time'], ['Time to convert', 'time_to_convert']]) {
    await page.getByRole('tab', { name: tab }).click();
    await page.waitForURL(new RegExp('viz=' + viz));
    await page.getByTestId('echart').waitFor();
    await shot('10-funnel-' + viz.replace(/_/g, '-'));
  }
  await page.getByRole('tab', { name: 'Conversion by step' }).click();
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
  assert.match(readFileSync(await dl.path(), 'utf8'), /^Series,Step,Count,Conversion %/);
  await page.getByLabel('Name').fill('Listening funnel');
  await page.getByRole('button', { name: 'Save chart' }).click();
  await page.waitForURL(/\/charts\/\d+/);

  await page.goto(`/projects/${state.pid}/chart`);
  await page.getByRole('tab', { name: 'Retention' }).click();
  await ready();
  await page.getByTestId('result-table').getByRole('rowheader', { name: 'Overall' }).first().waitFor();
  await page.getByTestId('echart').waitFor();
  await shot('10-retention-grid');
  await page.getByRole('tab', { name: 'Curve' }).click();
  await page.waitForURL(/viz=curve/);
  await shot('10-retention-curve');
  // The usage interval view: how often users come back, as median gaps.
  await page.getByLabel('Retention view').selectOption('usage_interval');
  await page.waitForURL(/usage_interval/);
  await page.getByTestId('result-table').getByRole('rowheader', { name: '1 day', exact: true }).waitFor();
  await page.getByTestId('echart').waitFor();
  await shot('10-retention-usage-interval');

  await page.goto(`/projects/${state.pid}/chart`);
  await page.getByRole('tab', { name: 'Sessions' }).click();
  await ready();
  await page.getByTestId('echart').waitFor();
  await shot('10-sessions-average');
  await page.getByLabel('Session measure').selectOption('length');
  await page.waitForURL(/length/);
  await page.getByRole('tab', { name: 'Bar' }).click();
  await ready();
  await page.getByTestId('result-table').getByRole('rowheader', { name: 'Average length', exact: true }).waitFor({ state: 'detached' });
  assert.ok(await page.getByTestId('result-table').getByRole('rowheader').count() > 1, 'one row per length bin');
  await shot('10-sessions-length');
  // Events within sessions, over the sessions that contain a song played.
  await page.getByLabel('Session measure').selectOption('event_average');
  await page.waitForURL(/event_average/);
  await page.getByRole('button', { name: '+ Contains event' }).click();
  await page.getByLabel('Contained event C', { exact: true }).fill('Play Song');
  await page.getByLabel('Contained event C', { exact: true }).press('Tab');
  await page.waitForURL(/contains/);
  await page.getByTestId('result-table').getByRole('rowheader', { name: 'Events per session', exact: true }).waitFor();
  await shot('10-sessions-events');
});

step('save charts, put them on a dashboard, arrange it', async () => {
  await page.goto(state.chartUrl);
  await page.getByTestId('result-table').waitFor();
  await page.getByLabel('Name').fill('Plays by platform');
  await page.getByLabel('Description').fill('Song plays, web vs mobile');
  await page.getByRole('button', { name: 'Save chart' }).click();
  await page.waitForURL(/\/charts\/\d+/);
  state.chartId = Number(/charts\/(\d+)/.exec(page.url())[1]);
  await page.getByRole('heading', { name: 'Plays by platform' }).waitFor();
  await page.getByLabel('Add to dashboard').selectOption('new');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByText(/Added to “Plays by platform dashboard”/).waitFor();

  // A second chart: the same as bars of the whole range, saved as new.
  await page.getByRole('tab', { name: 'Bar' }).click();
  await page.getByLabel('Name').fill('Plays, whole range');
  await page.getByRole('button', { name: 'Save as new' }).click();
  await page.waitForURL((u) => u.pathname !== `/projects/${state.pid}/charts/${state.chartId}` && /charts\/\d+/.test(u.pathname));
  await page.getByRole('heading', { name: 'Plays, whole range' }).waitFor();
  await page.getByLabel('Add to dashboard').selectOption({ label: 'Plays by platform dashboard' });
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByText(/Added to/).waitFor();
  await shot('11-saved-chart');

  await page.goto(`/projects/${state.pid}/dashboards`);
  await page.getByRole('link', { name: /Plays by platform dashboard/ }).click();
  await page.waitForURL(/dashboards\/\d+/);
  state.dashboardUrl = page.url();
  await page.getByTestId('dashboard-tile').nth(1).getByTestId('echart').waitFor();
  assert.equal(await page.getByTestId('dashboard-tile').count(), 2);
  await page.getByRole('button', { name: 'Edit dashboard' }).click();
  await page.getByLabel('Add a saved chart').selectOption({ label: 'Listening funnel' });
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByTestId('dashboard-tile').nth(2).getByTestId('echart').waitFor();
  await page.getByTestId('dashboard-tile').nth(0).getByLabel('Width').selectOption('12');
  await page.getByTestId('dashboard-tile').nth(1).getByRole('button', { name: 'Move earlier' }).click();
  await page.getByTestId('dashboard-tile').nth(0).getByRole('link', { name: 'Plays, whole range' }).waitFor();
  await shot('12-dashboard-editing');
  await page.getByRole('button', { name: 'Done' }).click();
  // A dashboard-wide date range, kept in the link.
  // The checkbox is derived from the URL, which the click updates
  // asynchronously: click, then wait for the state instead of check(),
  // whose immediate re-read raced with the update.
  const sameRange = page.getByLabel('Same date range for every chart');
  for (let i = 0; i < 30 && !(await sameRange.isChecked()); i++) {
    if (i % 10 === 0) await sameRange.click();
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(await sameRange.isChecked(), 'the dashboard-wide date range is on');
  await page.getByRole('button', { name: '7d' }).click();
  await page.waitForURL(/range=/);
  await page.getByTestId('dashboard-tile').first().getByText('Last 7 days').waitFor();
  await page.getByRole('button', { name: 'Refresh' }).click();
  state.dashboardUrl = page.url();
  await shot('13-dashboard');
  const wide = await newPage({ width: 1920, height: 1080 });
  await login(wide, admin, new URL(state.dashboardUrl).pathname + new URL(state.dashboardUrl).search);
  await wide.getByTestId('dashboard-tile').nth(2).getByTestId('echart').waitFor();
  await shot('14-dashboard-wide', wide);
  await wide.context().close();
});

step('settings: members with roles, keys, invitations', async () => {
  await page.goto(`/projects/${state.pid}/settings`);
  await page.getByRole('heading', { name: 'Members and roles' }).waitFor();
  for (const [who, role] of [[member, 'member'], [viewer, 'viewer']]) {
    await page.getByLabel('New account email').fill(who.email);
    await page.getByLabel('Initial password').fill(who.password);
    await page.getByLabel('New account role').selectOption(role);
    await page.getByRole('button', { name: 'Add account' }).click();
    await page.getByTestId('members').getByRole('cell', { name: who.email }).waitFor();
  }
  await page.getByRole('button', { name: 'Create invitation link' }).click();
  state.invite = await page.getByLabel('Invitation link').textContent();
  assert.match(state.invite, /\/invite\/\S+/);
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Rotate secret key' }).click();
  await page.getByText(/New secret key/).waitFor();
  await shot('15-settings');
});

step('an invitation link signs a new person up into the organisation', async () => {
  const p = await newPage();
  await p.goto(state.invite);
  await p.getByRole('heading', { name: 'Join Acme Music' }).waitFor();
  await p.getByLabel('Email').fill('invited@example.com');
  await p.getByLabel('Choose a password').fill('invited password 123');
  await shot('16-invitation', p);
  await p.getByRole('button', { name: 'Create account and join' }).click();
  await p.waitForURL(/\/projects\/\d+/);
  await p.getByText('invited@example.com').waitFor();
  assert.equal(await p.locator('.role').textContent(), 'member');
  await p.context().close();
});

step('the share link opens the same dashboard for another member', async () => {
  const p = await newPage();
  await login(p, member, new URL(state.dashboardUrl).pathname + new URL(state.dashboardUrl).search);
  await p.getByRole('heading', { name: 'Plays by platform dashboard' }).waitFor();
  await p.getByTestId('dashboard-tile').nth(2).getByTestId('echart').waitFor();
  assert.equal(await p.getByTestId('dashboard-tile').count(), 3);
  assert.equal(await p.getByLabel('Same date range for every chart').isChecked(), true);
  assert.equal(await p.getByRole('button', { name: 'Edit dashboard' }).count(), 1, 'members may edit');
  await shot('17-shared-dashboard-member', p);
  assert.deepEqual(p.jsErrors, []);
  await p.context().close();
});

step('a viewer can look but not edit, and the API refuses', async () => {
  const p = await newPage();
  await login(p, viewer, `/projects/${state.pid}/charts/${state.chartId}`);
  await p.getByTestId('result-table').waitFor();
  await p.getByTestId('viewer-note').waitFor();
  // The saved chart itself, not a default one.
  await p.getByTestId('result-table').getByRole('rowheader', { name: /Play Song · Web/ }).first().waitFor();
  assert.equal(await settles(p.getByTestId('result-table').getByRole('rowheader', { name: /Any Active Event/ }), 0), 0);
  assert.equal(await p.getByRole('button', { name: /Save/ }).count(), 0);
  await shot('18-viewer-chart', p);
  // Opening the link starts the charts on the server as the page is sent:
  // every tile's query takes that result (the server's copy of the tile
  // definitions, range override included, matches the app's).
  const answers = [];
  const onAnswer = (r) => { if (r.url().endsWith('/query')) answers.push(r); };
  p.on('response', onAnswer);
  await p.goto(new URL(state.dashboardUrl).pathname + new URL(state.dashboardUrl).search);
  for (let i = 0; i < 3; i++) await p.getByTestId('dashboard-tile').nth(i).getByTestId('echart').waitFor();
  p.off('response', onAnswer);
  // Two tiles draw the same definition (line and bars): one query.
  assert.equal(answers.length, 2, 'one query per distinct tile definition');
  for (const r of answers) assert.equal(r.headers()['x-crest-prefetched'], 'true', 'tile query answered from the prefetch');
  assert.equal(await p.getByRole('button', { name: 'Edit dashboard' }).count(), 0);
  await p.goto(`/projects/${state.pid}/charts`);
  await p.getByRole('link', { name: 'Plays by platform' }).waitFor();
  assert.equal(await p.getByRole('button', { name: 'Delete' }).count(), 0);
  await shot('19-viewer-charts', p);
  const status = await p.evaluate(async ({ pid, id }) => {
    const csrf = document.cookie.split('; ').find((c) => c.startsWith('crest_csrf='))?.split('=')[1] ?? '';
    const r = await fetch(`/api/v1/projects/${pid}/charts/${id}`, {
      method: 'PUT', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ name: 'hacked', definition: { type: 'segmentation' } }),
    });
    return r.status;
  }, { pid: state.pid, id: state.chartId });
  assert.equal(status, 403);
  await p.context().close();
});

step('look up a user: search, profile, activity by session', async () => {
  // Pick a logged-in demo user: user ids start with "user-" (a prefix search).
  await page.goto(`/projects/${state.pid}/live`);
  const uid = await page.evaluate(async (pid) => {
    const r = await fetch(`/api/v1/projects/${pid}/users/search?q=user-&limit=5`);
    return (await r.json()).matches[0]?.user_id;
  }, state.pid);
  assert.match(uid ?? '', /^user-/);
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByLabel('Find').fill(uid);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/q=user-/);
  await shot('20-user-search');
  await page.getByTestId('user-results').getByRole('link', { name: uid }).click();
  await page.waitForURL(/users\/\d+/);
  await page.getByRole('heading', { name: uid }).waitFor();
  await page.getByTestId('session').first().waitFor();
  await page.getByRole('heading', { name: 'User properties' }).waitFor();
  await page.getByTestId('session').first().getByRole('button').first().click();
  await page.locator('pre.json').first().waitFor();
  await shot('21-user-profile');
});

step('the users behind a data point: click a point, list them, open a profile', async () => {
  await page.goto(`/projects/${state.pid}/chart`);
  await page.getByTestId('result-table').waitFor();
  await page.locator('.stale').waitFor({ state: 'detached' });
  // A dated cell of the result table with users in it (the first button is the whole range).
  const cell = page.getByTestId('result-table').locator('td button.cell-link').filter({ hasNotText: /^0$/ }).nth(1);
  const want = Number((await cell.innerText()).replace(/,/g, ''));
  await cell.click();
  const panel = page.getByTestId('point-users');
  await panel.getByRole('status').filter({ hasText: /users? did this event/ }).waitFor();
  const total = Number((await panel.getByRole('status').innerText()).replace(/,/g, '').match(/^(\d+)/)[1]);
  assert.equal(total, want, 'the users of a point are its uniques');
  await panel.getByRole('link').first().waitFor();
  await panel.getByRole('button', { name: 'Close the user list' }).click();
  await panel.waitFor({ state: 'detached' });

  // A click on the line chart picks the nearest point: the middle of the range.
  const box = await page.getByTestId('echart').boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await panel.getByRole('heading', { name: /Any Active Event · \d{4}-\d\d-\d\d/ }).waitFor();
  await panel.getByRole('link').first().waitFor();
  await shot('22-point-users');
  await panel.getByRole('link').first().click();
  await page.waitForURL(/users\/\d+/);
  await page.getByRole('heading', { name: 'User properties' }).waitFor();
  await shot('23-point-user-profile');
});

step('the users behind a funnel bar (with an optional step) and a retention cell', async () => {
  const ready = async () => {
    await page.getByTestId('result-table').waitFor();
    await page.locator('.stale').waitFor({ state: 'detached' });
  };
  const panel = page.getByTestId('point-users');
  // The total the panel reports for the list.
  const listed = async (noun) => {
    const status = panel.getByRole('status').filter({ hasText: noun });
    await status.waitFor();
    return Number((await status.innerText()).replace(/,/g, '').match(/^(\d+)/)[1]);
  };
  const count = async (cell) => Number((await cell.innerText()).replace(/,/g, ''));
  await page.goto(`/projects/${state.pid}/chart`);
  await page.getByRole('tab', { name: 'Funnel' }).click();
  await page.getByLabel('Step 1', { exact: true }).fill('Open App');
  await page.getByLabel('Step 1', { exact: true }).press('Tab');
  await page.getByLabel('Step 2', { exact: true }).fill('Play Song');
  await page.getByLabel('Step 2', { exact: true }).press('Tab');
  await page.getByRole('button', { name: '+ Add step' }).click();
  await page.getByLabel('Step 3', { exact: true }).fill('Add to Playlist');
  await page.getByLabel('Step 3', { exact: true }).press('Tab');
  await page.waitForURL(/Add%20to%20Playlist|Add\+to\+Playlist/);
  // click, not check: the box is controlled by the URL, which the router
  // updates a moment after the click (check() would read it too early).
  await page.getByLabel('Step 2 is optional').click();
  await page.waitForURL(/optional/);
  assert.ok(await page.getByLabel('Step 2 is optional').isChecked(), 'the optional box is checked');
  await ready();
  const table = page.getByTestId('result-table');
  await table.getByRole('rowheader', { name: /without the optional step/ }).waitFor();
  await shot('24-funnel-optional');

  // Step 2 converted, then dropped off before step 2: each list is the count shown.
  const row = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: '2. Play Song' }) });
  const conv = row.locator('button.cell-link').nth(0);
  const want = await count(conv);
  await conv.click();
  assert.equal(await listed(/reached this step/), want, 'the users of a step are its count');
  await panel.getByRole('link').first().waitFor();
  await shot('25-funnel-users');
  await panel.getByRole('button', { name: 'Close the user list' }).click();
  const drop = row.locator('button.cell-link').nth(1);
  const wantDrop = await count(drop);
  await drop.click();
  assert.equal(await listed(/reached step 1 but not step 2/), wantDrop, 'the users who dropped off are the drop-off');
  await panel.getByRole('button', { name: 'Close the user list' }).click();
  // The last step without the optional one.
  const wrow = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: '2. Add to Playlist' }) });
  const wconv = wrow.locator('button.cell-link').nth(0);
  const wantW = await count(wconv);
  await wconv.click();
  await panel.getByRole('heading', { name: /without the optional step/ }).waitFor();
  assert.equal(await listed(/reached this step/), wantW);
  await panel.getByRole('button', { name: 'Close the user list' }).click();

  await page.goto(`/projects/${state.pid}/chart`);
  await page.getByRole('tab', { name: 'Retention' }).click();
  await ready();
  // The first cohort's size, then its Day 0 cell.
  const cohort = page.getByTestId('result-table').getByRole('row').nth(2);
  const size = cohort.locator('button.cell-link').nth(0);
  const wantSize = await count(size);
  await size.click();
  assert.equal(await listed(/in this cohort/), wantSize, 'the users of a cohort are its size');
  await panel.getByRole('button', { name: 'Close the user list' }).click();
  await cohort.locator('button.cell-link').nth(1).click();
  await listed(/returned here/);
  await panel.getByRole('link').first().waitFor();
  await shot('26-retention-users');
});

step('a dashboard is renamed and deleted; its charts stay', async () => {
  await page.goto(`/projects/${state.pid}/dashboards`);
  await page.getByLabel('New dashboard').fill('Scratch');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.waitForURL(/dashboards\/\d+/);
  await page.getByRole('heading', { name: 'This dashboard is empty' }).waitFor();
  await page.getByRole('button', { name: 'Edit dashboard' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Scratch pad');
  await page.getByRole('button', { name: 'Rename' }).click();
  await page.getByRole('heading', { name: 'Scratch pad' }).waitFor();
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Delete dashboard' }).click();
  await page.waitForURL(/dashboards$/);
  await page.getByRole('link', { name: /Plays by platform dashboard/ }).waitFor();
  assert.equal(await settles(page.getByRole('link', { name: /Scratch/ }), 0), 0);
  await page.goto(`/projects/${state.pid}/charts`);
  await page.getByRole('link', { name: 'Listening funnel' }).waitFor();
});

step('the app is keyboard reachable', async () => {
  await page.goto(`/projects/${state.pid}/chart`);
  await page.getByTestId('result-table').waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
  // Tab walks through the builder's controls to the visualisation tabs, and Enter picks one.
  const seen = [];
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    const label = await page.evaluate(() => document.activeElement?.getAttribute('aria-label') || document.activeElement?.textContent || '');
    seen.push(label);
    if (label === 'Bar') break;
  }
  assert.equal(seen.at(-1), 'Bar', 'reached the Bar tab by keyboard: ' + seen.join(' | '));
  await page.keyboard.press('Enter');
  await page.waitForURL(/viz=bar/);
  await shot('22-keyboard-focus');
});

step('log out ends the session', async () => {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL('**/login');
  await page.goto(`/projects/${state.pid}/charts`);
  await page.waitForURL(/\/login\?next=/);
  await shot('23-login');
  assert.deepEqual(page.jsErrors, []);
});
