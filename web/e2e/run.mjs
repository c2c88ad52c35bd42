// Browser end-to-end tests: Debian's Chromium, driven by playwright-core,
// against the real patronus binary (a lab when the binary has one, else a
// controller seeded over the API). Screenshots of every page land in
// web/test-results/ as artifacts.
//
//   npm run test:e2e               build the binary and run every test
//   PATRONUS_BIN=… npm run test:e2e   use a binary built already
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ADMIN, PASSWORD, buildBinary, gql, impair, loginToken, resultsDir, start } from './harness.mjs';

const SITES = 3;
const LINKS = 2;
const shots = path.join(resultsDir, 'screenshots');
mkdirSync(shots, { recursive: true });

export const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];

export function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: chromiumArgs, headless: true });
}

const results = [];
async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true, ms: Date.now() - t0 });
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push({ name, ok: false, ms: Date.now() - t0, error: String(e?.stack ?? e) });
    console.log(`FAIL ${name}: ${e?.message ?? e}`);
  }
}

function assert(cond, msg) { if (!cond) throw new Error(msg); }

async function signIn(page, url, user = ADMIN, pw = PASSWORD) {
  await page.goto(url + '/');
  await page.fill('#f-username', user);
  await page.fill('#f-password', pw);
  await page.press('#f-password', 'Enter');
  await page.waitForSelector('[data-testid="whoami"]', { timeout: 10000 });
}

// shot saves a screenshot, and fails the test if the page shows an error
// banner: a query the API refused, or an action that failed.
async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  const errors = await page.locator('.banner.error').allTextContents();
  assert(errors.length === 0, `${name}: the page shows an error: ${errors.join('; ')}`);
}

const bin = buildBinary();
const sut = await start(bin, { sites: SITES, links: LINKS });
console.log(`system under test: ${sut.lab ? 'patronus lab' : 'controller seeded over the API (no lab command in this binary)'} at ${sut.url}`);
const browser = await launch();
const token = await loginToken(sut.url);
let exitCode = 0;
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await ctx.newPage();
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));

  await test('binary serves the built dashboard, not the build instructions', async () => {
    const html = await (await fetch(sut.url + '/')).text();
    assert(!html.includes('dashboard is not built'), 'the binary serves the placeholder page: run npm run build before go build');
    const r = await fetch(sut.url + '/sites/anything');
    assert(r.status === 200 && (r.headers.get('content-type') ?? '').startsWith('text/html'), 'client routes fall back to the page');
  });

  await test('wrong password shows an error', async () => {
    await page.goto(sut.url + '/');
    await page.fill('#f-username', ADMIN);
    await page.fill('#f-password', 'not-the-password');
    await page.press('#f-password', 'Enter');
    await page.waitForSelector('[data-testid="login-error"]', { timeout: 5000 });
    await shot(page, 'login-error');
  });

  await test('log in and see a populated overview', async () => {
    await signIn(page, sut.url);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="overview-sites"] tbody tr').length > 0, null, { timeout: 10000 });
    const rows = await page.locator('[data-testid="overview-sites"] tbody tr').count();
    assert(rows === SITES, `overview lists ${rows} sites, want ${SITES}`);
    await shot(page, 'overview');
  });

  await test('topology shows every site', async () => {
    await page.click('nav >> text=Topology');
    await page.waitForSelector('[data-testid="topology-canvas"]');
    const names = await page.locator('[data-testid="topology-sites"] li').evaluateAll((ls) => ls.map((l) => l.getAttribute('data-site')));
    for (let i = 1; i <= SITES; i++) assert(names.includes(`site-${i}`), `site-${i} missing from the topology (${names})`);
    assert(await page.getAttribute('[data-testid="topology-canvas"]', 'data-nodes') === String(SITES), 'canvas node count');
    await page.waitForTimeout(300);
    await shot(page, 'topology');
  });

  await test('impaired link turns its path degraded on the page within 5 s', async () => {
    // The page is already showing the topology; the change must arrive
    // live. With the lab, the slowed link's paths cross the lab's latency
    // bound and turn degraded, and so does the site pair's edge.
    const t0 = Date.now();
    const pathId = await impair(sut, token, 'site-1', 'wan1');
    const pathSel = pathId
      ? `[data-testid="attention"] tr[data-path-id="${pathId}"][data-status="DEGRADED"]`
      : '[data-testid="attention"] tr[data-status="DEGRADED"]';
    await page.waitForSelector(pathSel, { timeout: 5000 });
    await page.waitForSelector('[data-testid="topology-pairs"] li[data-pair="site-1|site-2"][data-status="DEGRADED"]', { state: 'attached', timeout: 5000 - (Date.now() - t0) });
    const label = await page.locator('[data-testid="attention"] tbody tr').first().textContent();
    assert(/site-1\/wan1/.test(label ?? ''), `the first path needing attention is ${label}`);
    console.log(`     shown ${Date.now() - t0} ms after the impairment`);
    await shot(page, 'topology-degraded');
  });

  await test('site page shows links, paths and charts', async () => {
    await page.click('nav >> text=Sites');
    await page.click('[data-testid="sites"] >> text=site-1');
    await page.waitForSelector('[data-testid="site-paths"] tbody tr');
    await page.waitForSelector('[data-testid="chart-latency"] canvas');
    await page.click('text=24 hours');
    await page.waitForTimeout(300);
    await shot(page, 'site');
  });

  await test('create a policy and see it listed', async () => {
    await page.click('nav >> text=Policies');
    await page.click('text=New policy');
    await page.fill('#f-name', 'voice');
    await page.fill('#f-priority', '50');
    await page.fill('#f-protocol', 'udp');
    await page.fill('#f-destPort', '5060-5061');
    await page.fill('#f-maxLatencyMs', '150');
    await page.click('[data-testid="policy-form"] button[type="submit"]');
    await page.waitForSelector('[data-testid="policies"] tr[data-policy="voice"]', { timeout: 5000 });
    await shot(page, 'policies');
  });

  await test('invalid policy shows the server error on its field', async () => {
    await page.click('text=New policy');
    await page.fill('#f-name', 'bad-ports');
    await page.fill('#f-priority', '60');
    await page.fill('#f-protocol', 'tcp');
    await page.fill('#f-destPort', '99999');
    await page.click('[data-testid="policy-form"] button[type="submit"]');
    const err = page.locator('[data-field="destPort"] .err');
    await err.waitFor({ timeout: 5000 });
    const text = await err.textContent();
    assert(/range|port/i.test(text ?? ''), `field error says ${text}`);
    assert(await page.locator('[data-field="name"] .err').count() === 0, 'the error landed on the name field too');
    await shot(page, 'policy-field-error');
    await page.click('[data-testid="policy-form"] >> text=Cancel');
  });

  await test('reorder and disable a policy', async () => {
    await gql(sut.url, 'mutation{createPolicy(input:{name:"bulk",priority:70,match:{protocol:"tcp",destPort:"873"}}){id}}', {}, token);
    await page.reload();
    await page.waitForSelector('[data-testid="policies"] tr[data-policy="bulk"]');
    await page.click('button[aria-label="Move bulk up"]');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('[data-testid="policies"] tbody tr')].map((r) => r.getAttribute('data-policy'));
      return rows.indexOf('bulk') < rows.indexOf('voice');
    }, null, { timeout: 5000 });
    await page.click('input[aria-label="bulk enabled"]');
    await page.waitForSelector('[data-testid="notice"]:has-text("bulk disabled")', { timeout: 5000 });
    assert(!(await page.isChecked('input[aria-label="bulk enabled"]')), 'the checkbox is still ticked');
    const bulk = (await gql(sut.url, '{ policies { name enabled priority } }', {}, token)).policies.find((p) => p.name === 'bulk');
    assert(!bulk.enabled, 'bulk is still enabled');
  });

  await test('delete a site after the dependency prompt, then restore it', async () => {
    await page.click('nav >> text=Sites');
    await page.click('[data-testid="sites"] tr[data-site="site-3"] >> text=Delete');
    const deps = page.locator('[data-testid="dependencies"]');
    await deps.waitFor({ timeout: 5000 });
    const text = await deps.textContent();
    assert(new RegExp(`${LINKS} WAN links`).test(text ?? ''), `prompt does not count the links: ${text}`);
    assert(/\d+ paths/.test(text ?? ''), `prompt does not count the paths: ${text}`);
    await shot(page, 'site-delete-prompt');
    await page.click('[data-testid="confirm-ok"]');
    await page.waitForSelector('[data-testid="sites"] tr[data-site="site-3"]', { state: 'detached', timeout: 5000 });
    await page.click('button:has-text("Deleted")');
    await page.click('[data-testid="sites"] tr[data-site="site-3"] >> text=Restore', { timeout: 5000 });
    await page.click('button:has-text("Live")');
    await page.waitForSelector('[data-testid="sites"] tr[data-site="site-3"]', { timeout: 5000 });
    await shot(page, 'sites');
  });

  await test('paths page shows the matrix and link availability', async () => {
    await page.click('nav >> text=Paths');
    await page.waitForSelector('[data-testid="matrix"] tbody tr');
    await page.waitForSelector('[data-testid="availability"] tbody tr');
    const links = await page.locator('[data-testid="availability"] tbody tr').count();
    assert(links === SITES * LINKS, `availability lists ${links} links, want ${SITES * LINKS}`);
    await shot(page, 'paths');
  });

  await test('export CSV from the statistics page', async () => {
    await page.click('nav >> text=Statistics');
    await page.waitForSelector('[data-testid="export-form"]');
    await page.waitForTimeout(500); // let the history queries answer
    // Rows appear once the edges have reported traffic and the controller
    // has stored a snapshot (every 5 s in a lab): download until they do.
    let lines = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }), page.click('[data-testid="export-form"] button[type="submit"]')]);
      const file = path.join(resultsDir, dl.suggestedFilename());
      await dl.saveAs(file);
      lines = readFileSync(file, 'utf8').trim().split('\n');
      assert(lines[0] === 'timestamp,policy_id,site_id,packets_matched,bytes_matched,active_flows', `columns: ${lines[0]}`);
      if (lines.length > 1 || !sut.lab) break;
      await page.waitForTimeout(5000);
    }
    console.log(`     ${lines.length - 1} data rows`);
    if (sut.lab) assert(lines.length > 1, 'the export of a lab with traffic has no data rows');
    await shot(page, 'stats');
  });

  await test('operations: caches, path check, audit, users and keys', async () => {
    await page.click('nav >> text=Operations');
    await page.waitForSelector('[data-testid="caches"]');
    await page.click('text=Clear caches…');
    await page.click('[data-testid="confirm-ok"]');
    await page.waitForSelector('[data-testid="notice"]:has-text("Cleared")', { timeout: 5000 });
    await shot(page, 'ops-caches');
    await page.click('button:has-text("Path health")');
    await shot(page, 'ops-paths');
    await page.click('button:has-text("Audit log")');
    await page.waitForSelector('[data-testid="audit"] tbody tr');
    await page.fill('#f-action', 'site.');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="audit"] tbody tr code')].every((c, i) => i % 2 === 1 || c.textContent.startsWith('site.')));
    await shot(page, 'ops-audit');
    await page.click('button:has-text("Users & API keys")');
    await page.fill('#f-name', 'vera');
    await page.fill('#f-password', 'viewer-password-long');
    await page.click('form[aria-label="New user"] button[type="submit"]');
    await page.waitForSelector('[data-testid="users"] td:has-text("vera")', { timeout: 5000 });
    await shot(page, 'ops-users');
  });

  await test('a viewer sees no edit or delete controls', async () => {
    const vctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const v = await vctx.newPage();
    await signIn(v, sut.url, 'vera', 'viewer-password-long');
    await v.click('nav >> text=Policies');
    await v.waitForSelector('[data-testid="policies"] tr[data-policy="voice"]');
    assert(await v.locator('text=New policy').count() === 0, 'viewer sees New policy');
    assert(await v.locator('[data-testid="policies"] button').count() === 0, 'viewer sees policy buttons');
    await v.click('nav >> text=Sites');
    await v.waitForSelector('[data-testid="sites"] tr[data-site="site-1"]');
    assert(await v.locator('[data-testid="sites"] button').count() === 0, 'viewer sees site buttons');
    assert(await v.locator('text=New site').count() === 0, 'viewer sees New site');
    await v.click('nav >> text=Operations');
    assert(await v.locator('text=Clear caches').count() === 0, 'viewer sees Clear caches');
    assert(await v.locator('button:has-text("Audit log")').count() === 0, 'viewer sees the audit log');
    await shot(v, 'viewer-policies');
    await vctx.close();
  });

  await test('phone width and dark theme render', async () => {
    const pctx = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
    const p = await pctx.newPage();
    await signIn(p, sut.url);
    await p.waitForSelector('[data-testid="overview-sites"] tbody tr');
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert(overflow <= 1, `overview scrolls sideways by ${overflow}px at 390 px`);
    await shot(p, 'phone-overview-dark');
    await p.click('nav >> text=Sites');
    await p.click('[data-testid="sites"] >> text=site-2');
    await p.waitForSelector('[data-testid="chart-latency"] canvas');
    await shot(p, 'phone-site-dark');
    await pctx.close();
  });

  await test('keyboard: sign in and open a form without a mouse', async () => {
    const kctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const k = await kctx.newPage();
    await k.goto(sut.url + '/');
    await k.waitForSelector('#f-username');
    await k.keyboard.type(ADMIN);          // the user name field has focus
    await k.keyboard.press('Tab');
    await k.keyboard.type(PASSWORD);
    await k.keyboard.press('Enter');
    await k.waitForSelector('[data-testid="whoami"]');
    await k.goto(sut.url + '/policies');
    await k.waitForSelector('text=New policy');
    await k.focus('text=New policy');
    await k.keyboard.press('Enter');
    // The form renders, and takes focus, after the key press returns.
    await k.waitForFunction(() => document.activeElement?.id === 'f-name', null, { timeout: 3000 }).catch(() => {});
    const focused = await k.evaluate(() => document.activeElement?.id);
    assert(focused === 'f-name', `focus went to ${focused}, not the form's first field`);
    await k.keyboard.press('Escape');
    await kctx.close();
  });

  await test('session expiry shows a clear message', async () => {
    const ectx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const e = await ectx.newPage();
    await signIn(e, sut.url);
    await e.evaluate(() => {
      const s = JSON.parse(localStorage.getItem('patronus.session'));
      s.token = s.token.slice(0, -4) + 'AAAA'; // a token the server no longer accepts
      localStorage.setItem('patronus.session', JSON.stringify(s));
    });
    await e.reload();
    await e.waitForSelector('[data-testid="expired"]', { timeout: 10000 });
    const text = await e.textContent('[data-testid="expired"]');
    assert(/expired/i.test(text ?? ''), `message: ${text}`);
    await shot(e, 'session-expired');
    await ectx.close();
  });

  await test('losing the controller shows the disconnected banner', async () => {
    await page.click('nav >> text=Overview');
    await page.waitForSelector('[data-testid="overview-sites"] tbody tr');
    await sut.stop();
    await page.waitForSelector('[data-testid="disconnected"]', { timeout: 15000 });
    await shot(page, 'disconnected');
  });

  await test('the page reconnects by itself when the controller is back', async () => {
    await sut.restart();
    // The client backs off to at most 10 s between attempts.
    await page.waitForSelector('[data-testid="disconnected"]', { state: 'detached', timeout: 20000 });
    await page.waitForSelector('[data-testid="overview-sites"] tbody tr', { timeout: 5000 });
    assert(await page.locator('[data-testid="whoami"]').count() === 1, 'signed out by the restart');
  });

  await test('no uncaught errors in the page', async () => {
    assert(consoleErrors.length === 0, consoleErrors.join('\n'));
  });
} finally {
  await browser.close();
  await sut.stop();
  rmSync(sut.data, { recursive: true, force: true });
  writeFileSync(path.join(resultsDir, 'e2e-results.json'), JSON.stringify({ lab: sut.lab, results }, null, 2));
  const failed = results.filter((r) => !r.ok);
  console.log(`\n${results.length - failed.length}/${results.length} browser tests passed; screenshots in ${shots}`);
  if (failed.length) exitCode = 1;
}
process.exit(exitCode);
