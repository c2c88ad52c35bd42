// Starts the real patronus binary for the browser tests: a lab when the
// binary has one, otherwise a controller seeded over the API.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoDir = path.resolve(webDir, '..');
export const resultsDir = path.join(webDir, 'test-results');

export const ADMIN = 'admin';
export const PASSWORD = 'e2e-password-long-enough';

/** freePort asks the kernel for an unused TCP port on loopback. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on('error', reject);
  });
}

/** buildBinary builds cmd/patronus (with the embedded web build) unless PATRONUS_BIN names one. */
export function buildBinary() {
  if (process.env.PATRONUS_BIN) return process.env.PATRONUS_BIN;
  mkdirSync(resultsDir, { recursive: true });
  const out = path.join(resultsDir, 'patronus');
  execFileSync('go', ['build', '-o', out, './cmd/patronus'], { cwd: repoDir, stdio: 'inherit' });
  return out;
}

/** hasLab reports whether the binary has the lab command. */
export function hasLab(bin) {
  if (process.env.PATRONUS_E2E_NO_LAB) return false;
  const r = spawnSync(bin, ['lab', '--help'], { encoding: 'utf8' });
  return r.status === 0 && /--sites/.test(r.stdout + r.stderr);
}

export async function waitHealthy(url, proc, ms = 30000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error(`patronus exited with ${proc.exitCode}`);
    try { const r = await fetch(`${url}/health`); if (r.ok) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not healthy after ${ms} ms`);
}

/** gql calls the API as token. */
export async function gql(url, query, variables, token) {
  const r = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const b = await r.json();
  if (b.errors?.length) throw new Error(`${query.slice(0, 60)}…: ${b.errors[0].message}`);
  return b.data;
}

export async function loginToken(url, user = ADMIN, pw = PASSWORD) {
  return (await gql(url, 'mutation($u:String!,$p:String!){login(username:$u,password:$p){token}}', { u: user, p: pw })).login.token;
}

/**
 * seed creates sites site-1..N with links wan1..K and a path from every
 * link to every link of every other site, the shape the lab builds.
 */
export async function seed(url, token, sites, links) {
  const eps = [];
  for (let s = 1; s <= sites; s++) {
    const site = (await gql(url, 'mutation($n:String!){createSite(input:{name:$n, description:"seeded for the browser tests"}){id}}', { n: `site-${s}` }, token)).createSite.id;
    for (let l = 1; l <= links; l++) {
      const ep = (await gql(url, 'mutation($s:ID!,$n:String!,$a:String!){createEndpoint(input:{siteId:$s,name:$n,address:$a}){id}}',
        { s: site, n: `wan${l}`, a: `127.0.0.1:${20000 + s * 10 + l}` }, token)).createEndpoint.id;
      eps.push({ site, s, ep });
    }
  }
  const jobs = [];
  for (const a of eps) for (const b of eps) if (a.site !== b.site) jobs.push([a.ep, b.ep]);
  // A few at a time: the controller has one writer connection.
  for (let i = 0; i < jobs.length; i += 8) {
    await Promise.all(jobs.slice(i, i + 8).map(async ([x, y]) => {
      const id = (await gql(url, 'mutation($a:ID!,$b:ID!){createPath(input:{srcEndpointId:$a,dstEndpointId:$b}){id}}', { a: x, b: y }, token)).createPath.id;
      // Without edges nothing probes the paths; mark them up as a monitor would.
      await gql(url, 'mutation($id:ID!){updatePath(input:{id:$id,status:UP,reason:"seeded"}){id}}', { id }, token);
    }));
  }
}

/**
 * start runs the system under test and returns { url, lab, stop, proc }.
 * With the lab: `patronus lab --sites N --links K --listen ADDR`; without
 * it: a controller on a fresh data directory, seeded over the API.
 */
export async function start(bin, { sites = 3, links = 2, log = 'e2e-patronus.log', seedData = true, useLab } = {}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const data = mkdtempSync(path.join(os.tmpdir(), 'patronus-e2e-'));
  const lab = useLab ?? hasLab(bin);
  const fs = await import('node:fs');
  mkdirSync(resultsDir, { recursive: true });
  const out = fs.openSync(path.join(resultsDir, log), 'w');
  const env = { ...process.env, PATRONUS_ADMIN_PASSWORD: PASSWORD };
  let proc;
  let argv;
  if (lab) {
    // --traffic runs the lab's background voice and bulk traffic through
    // the data plane, so policies count packets and the export has rows.
    argv = ['lab', '--sites', String(sites), '--links', String(links), '--listen', `127.0.0.1:${port}`, '--data', data, '--traffic'];
  } else {
    execFileSync(bin, ['user', 'add', ADMIN, '--role', 'admin', '--data', data], { input: `${PASSWORD}\n`, stdio: ['pipe', 'ignore', 'inherit'] });
    argv = ['controller', '--data', data, '--listen', `127.0.0.1:${port}`];
  }
  proc = spawn(bin, argv, { env, stdio: ['ignore', out, out] });
  const stop = async () => {
    if (proc.exitCode !== null) return;
    proc.kill('SIGTERM');
    await new Promise((r) => { const t = setTimeout(() => { proc.kill('SIGKILL'); r(); }, 10000); proc.on('exit', () => { clearTimeout(t); r(); }); });
  };
  try {
    await waitHealthy(url, proc);
    if (!lab && seedData) await seed(url, await loginToken(url), sites, links);
  } catch (e) { await stop(); throw e; }
  const sut = { url, lab, stop, proc, data, bin };
  // restart starts the same system again on the same port and data, after stop.
  sut.restart = async () => {
    proc = spawn(bin, argv, { env, stdio: ['ignore', out, out] });
    sut.proc = proc;
    await waitHealthy(url, proc);
  };
  return sut;
}

/** impair degrades site/link: through the lab when there is one, else by setting a path's state over the API. */
export async function impair(sut, token, siteName, linkName) {
  if (sut.lab) {
    // 150 ms each way puts the link's paths at a 300 ms round trip, over
    // the lab's 150 ms latency bound: Degraded, not Down.
    execFileSync(sut.bin, ['lab', 'impair', `${siteName}/${linkName}`, '--delay', '150ms', '--controller', sut.url],
      { env: { ...process.env, PATRONUS_TOKEN: token }, stdio: 'inherit' });
    return null;
  }
  const paths = (await gql(sut.url, '{ paths { id srcSite { name } srcEndpoint { name } } }', {}, token)).paths;
  const p = paths.find((x) => x.srcSite?.name === siteName && x.srcEndpoint?.name === linkName);
  await gql(sut.url, 'mutation($id:ID!){updatePath(input:{id:$id,status:DEGRADED,reason:"e2e: impaired"}){id}}', { id: p.id }, token);
  return p.id;
}
