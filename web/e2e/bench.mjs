// Dashboard figures for docs/bench/dashboard.md:
//   1. shipped JS + CSS (+ HTML), gzipped;
//   2. time from navigation to a populated overview with the 3-site demo;
//   3. the topology with 500 sites and 2,000 paths taking a batch of
//      updates to every path each second: redraw and frame times.
//
//   PATRONUS_BIN=../bin/patronus node e2e/bench.mjs
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { ADMIN, PASSWORD, buildBinary, freePort, gql, loginToken, repoDir, start, waitHealthy } from './harness.mjs';

const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];
const q = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const f1 = (x) => x.toFixed(1);

function walk(dir) {
  return readdirSync(dir).flatMap((n) => { const p = path.join(dir, n); return statSync(p).isDirectory() ? walk(p) : [p]; });
}

// 1. Size.
const dist = path.join(repoDir, 'internal/web/dist/app');
let raw = 0, gz = 0;
const files = [];
for (const f of walk(dist)) {
  if (!/\.(js|css|html)$/.test(f)) continue;
  const b = readFileSync(f);
  const g = gzipSync(b, { level: 9 }).length;
  raw += b.length; gz += g;
  files.push(`${path.relative(dist, f)}: ${(b.length / 1024).toFixed(1)} KB, gzipped ${(g / 1024).toFixed(1)} KB`);
}
console.log('## size');
files.forEach((l) => console.log(`  ${l}`));
console.log(`  total JS+CSS+HTML: ${(raw / 1024).toFixed(1)} KB, gzipped ${(gz / 1024).toFixed(1)} KB`);

const bin = buildBinary();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args, headless: true });

async function session(url) {
  const d = await gql(url, 'mutation($u:String!,$p:String!){login(username:$u,password:$p){token expiresAt renewalToken user{name role}}}', { u: ADMIN, p: PASSWORD });
  return d.login;
}

// 2. Navigation to a populated overview, with the demo.
if (!process.env.BENCH_ONLY_TOPOLOGY) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const demo = spawn(bin, ['demo', '--listen', `127.0.0.1:${port}`], { env: { ...process.env, PATRONUS_ADMIN_PASSWORD: PASSWORD }, stdio: 'ignore' });
  try {
    await waitHealthy(url, demo);
    await new Promise((r) => setTimeout(r, 3000)); // let the edges connect and measure
    const s = await session(url);
    const times = [];
    for (let i = 0; i < 12; i++) {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await ctx.addInitScript((v) => localStorage.setItem('patronus.session', v), JSON.stringify(s));
      const page = await ctx.newPage();
      const t0 = Date.now();
      await page.goto(url + '/');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="overview-sites"] tbody tr').length === 3
        && /\d/.test(document.querySelector('[data-testid="card-up"] .v')?.textContent ?? ''));
      const ms = Date.now() - t0;
      const nav = await page.evaluate(() => { const n = performance.getEntriesByType('navigation')[0]; return { dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd }; });
      if (i > 0) times.push({ ms, ...nav }); // the first warms Chromium's caches of its own
      await ctx.close();
    }
    const t = times.map((x) => x.ms);
    console.log('## overview (3-site demo, stored session, fresh browser context each time, 11 runs)');
    console.log(`  navigation to populated overview: median ${q(t, 0.5)} ms, p90 ${q(t, 0.9)} ms, min ${Math.min(...t)} ms, max ${Math.max(...t)} ms`);
    console.log(`  DOMContentLoaded: median ${f1(q(times.map((x) => x.dcl), 0.5))} ms`);
  } finally { demo.kill('SIGTERM'); }
}

// 3. Topology at 500 sites and 2,000 paths.
{
  const N = 500, PER = 4;
  const sut = await start(bin, { seedData: false, useLab: false, log: 'bench-controller.log' });
  try {
    const token = await loginToken(sut.url);
    const t0 = Date.now();
    const eps = [];
    const batch = async (items, fn, width = 8) => { for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(fn)); };
    await batch([...Array(N).keys()], async (i) => {
      const s = (await gql(sut.url, 'mutation($n:String!){createSite(input:{name:$n}){id}}', { n: `site-${i + 1}` }, token)).createSite.id;
      eps[i] = (await gql(sut.url, 'mutation($s:ID!,$a:String!){createEndpoint(input:{siteId:$s,name:"wan1",address:$a}){id}}', { s, a: `10.${i >> 8}.${i & 255}.1:51820` }, token)).createEndpoint.id;
    });
    const pairs = [];
    for (let i = 0; i < N; i++) for (let k = 1; k <= PER; k++) pairs.push([i, (i + k * 37) % N]);
    await batch(pairs, async ([a, b]) => {
      const id = (await gql(sut.url, 'mutation($a:ID!,$b:ID!){createPath(input:{srcEndpointId:$a,dstEndpointId:$b}){id}}', { a: eps[a], b: eps[b] }, token)).createPath.id;
      await gql(sut.url, 'mutation($id:ID!){updatePath(input:{id:$id,status:UP}){id}}', { id }, token);
    });
    console.log(`## topology: seeded ${N} sites and ${pairs.length} paths over the API in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

    const s = await session(sut.url);
    const { TOPOLOGY } = await import('./queries.mjs');
    const qt = [];
    for (let i = 0; i < 3; i++) { const a = Date.now(); await gql(sut.url, TOPOLOGY, {}, s.token); qt.push(Date.now() - a); }
    console.log(`  the topology query alone (500 sites, 2,000 paths with ends and metrics): ${qt.join(', ')} ms`);
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await ctx.addInitScript((v) => localStorage.setItem('patronus.session', v), JSON.stringify(s));
    const page = await ctx.newPage();
    const n0 = Date.now();
    await page.goto(sut.url + '/topology');
    await page.waitForFunction(() => (window.__patronusTopology?.stats.draws.length ?? 0) > 0, null, { timeout: 60000 });
    const layoutMs = await page.evaluate(() => window.__patronusTopology.stats.layoutMs);
    console.log(`  navigation to first topology draw: ${Date.now() - n0} ms (of which layout ${f1(layoutMs)} ms)`);
    const seconds = 20;
    const r = await page.evaluate(async (secs) => {
      const topo = window.__patronusTopology;
      const frames = [];
      let last = performance.now(), run = true;
      const loop = (t) => { frames.push(t - last); last = t; if (run) requestAnimationFrame(loop); };
      requestAnimationFrame(loop);
      const ids = [];
      // The page's own copy of the paths, from the attention list's source: ask the API shape back.
      const res = await fetch('/graphql', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${JSON.parse(localStorage.getItem('patronus.session')).token}` },
        body: JSON.stringify({ query: '{ paths { id srcSite { id name } dstSite { id name } srcEndpoint { id name } dstEndpoint { id name } } }' }) });
      const paths = (await res.json()).data.paths;
      for (const p of paths) ids.push(p);
      topo.stats.draws.length = 0;
      const batchTimes = [];
      for (let s = 0; s < secs; s++) {
        const b0 = performance.now();
        for (const p of ids) {
          const roll = Math.random();
          topo.apply({ ...p, status: roll < 0.9 ? 'UP' : roll < 0.97 ? 'DEGRADED' : 'DOWN',
            metrics: { latency_ms: 5 + Math.random() * 80, jitter_ms: Math.random() * 5, packet_loss_pct: Math.random() * 2, score: 60 + Math.floor(Math.random() * 40), measured_at: new Date().toISOString() } });
        }
        batchTimes.push(performance.now() - b0);
        await new Promise((r) => setTimeout(r, 1000));
      }
      run = false;
      return { frames: frames.slice(1), draws: [...topo.stats.draws], batchTimes, paths: ids.length };
    }, seconds);
    const long = r.frames.filter((x) => x > 50).length;
    console.log(`  ${seconds} s of one update to each of ${r.paths} paths every second (${r.paths} updates/s, applied as the subscription does):`);
    console.log(`    redraw (pairs + canvas): median ${f1(q(r.draws, 0.5))} ms, p95 ${f1(q(r.draws, 0.95))} ms, max ${f1(Math.max(...r.draws))} ms over ${r.draws.length} redraws`);
    console.log(`    applying a batch of ${r.paths} updates: median ${f1(q(r.batchTimes, 0.5))} ms, max ${f1(Math.max(...r.batchTimes))} ms`);
    console.log(`    animation frames: median ${f1(q(r.frames, 0.5))} ms, p95 ${f1(q(r.frames, 0.95))} ms, p99 ${f1(q(r.frames, 0.99))} ms, max ${f1(Math.max(...r.frames))} ms; ${long} of ${r.frames.length} frames over 50 ms`);
    // Interaction while updates flow: zoom in and pan with the keyboard.
    await page.focus('[data-testid="topology-canvas"]');
    const k0 = Date.now();
    for (let i = 0; i < 10; i++) { await page.keyboard.press('+'); await page.keyboard.press('ArrowLeft'); }
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
    console.log(`  20 zoom/pan key presses, drawn: ${Date.now() - k0} ms`);
    await page.screenshot({ path: path.join(repoDir, 'web/test-results/screenshots/topology-500.png') });
    await ctx.close();
  } finally { await sut.stop(); rmSync(sut.data, { recursive: true, force: true }); }
}
await browser.close();
