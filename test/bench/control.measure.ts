// Part of `npm run bench` (not a test): the control plane in PostgreSQL beside control.db, in one run.
// Measures (1) how long a router takes from spawn to serving with N mapped customers loaded, (2) how
// long a mapping change takes to be visible on two routers (the supervised one and `router serve`),
// and (3) the router's GET throughput with either store. Run by test/bench/run.js through vitest (for
// the TypeScript harness and test/pg.ts); writes its figures as JSON to $CELLCTL_BENCH_OUT.
import Database from 'better-sqlite3';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, it } from 'vitest';
import { copyControlPlane } from '../../src/control/copy.js';
import { openControlPlane } from '../../src/control/open.js';
import type { ControlPlane } from '../../src/control/plane.js';
import { PgControlPlane } from '../../src/control/pg-plane.js';
import { MappingTable } from '../../src/router/mapping.js';
import { readAdminToken, writeControlUrl } from '../../src/workspace/secrets.js';
import { CLI, cleanup, cliOk, createCells, freePort, newWorkspace, ROOT, track, waitFor, type Workspace } from '../helpers.js';
import { pgAvailable, startPg, type TestPg } from '../pg.js';

type Kind = 'sqlite' | 'postgres';
type Cannon = (options: Record<string, unknown>, done: (error: Error | null, result: CannonResult) => void) => void;
interface CannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  errors: number;
  non2xx: number;
}
// autocannon ships no types; run.js uses it the same way.
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

const QUICK = process.env.CELLCTL_BENCH_QUICK === '1';
const CUSTOMERS = Number(process.env.CELLCTL_BENCH_CUSTOMERS ?? (QUICK ? 200_000 : 1_000_000));
const CHANGES = QUICK ? 200 : 300;
const LOAD_ROUNDS = QUICK ? 1 : 3;
const ROUNDS = QUICK ? 1 : 3;
const SECONDS = QUICK ? 3 : 5;
/** A change not seen by both routers within this long counts as this long (and as a timeout). */
const CHANGE_DEADLINE_MS = 3_000;
const PROBES_PER_CHANGE = 20_000;
const OUT = process.env.CELLCTL_BENCH_OUT;
const pgState = pgAvailable();

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const pct = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
};

let server: TestPg | null = null;
const planes: ControlPlane[] = [];
const routers: ChildProcess[] = [];

/** Stops a router we spawned, by its pid: SIGTERM, SIGKILL after 10 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

afterAll(async () => {
  for (const child of routers.splice(0)) await stopChild(child);
  for (const plane of planes.splice(0)) await plane.close().catch(() => undefined);
  await cleanup();
  await server?.stop();
});

/** A GET on one keep-alive connection: status and JSON body. */
function getJson(agent: http.Agent, url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent, headers, timeout: 5_000 }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        try {
          resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : null });
        } catch (error) {
          reject(error as Error);
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url} within 5 s`)));
    request.on('error', reject);
  });
}

// --- 1. loading N customers ------------------------------------------------------------------------

const CELL_ROWS = (series: string) =>
  `SELECT 'cell-' || i, 'basic', '/none', 1, 50000 + i, 1000000, '/health', 'active', 't', 'http://127.0.0.1:' || (50000 + i), 'http://127.0.0.1:' || (51000 + i) FROM ${series}`;
const CELL_COLUMNS = 'id, template, template_dir, schema_version, port, capacity, health_path, status, created_at, url, data_url';

function fillSqlite(home: string, customers: number): void {
  const db = new Database(path.join(home, 'control.db'));
  const series = (n: number) => `(WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${n - 1}) SELECT i FROM s)`;
  db.transaction(() => {
    db.exec(`INSERT INTO cells (${CELL_COLUMNS}) ${CELL_ROWS(series(100))}`);
    db.exec(`INSERT INTO customers (id, cell_id, created_at) SELECT 'customer-' || i, 'cell-' || (i % 100), 't' FROM ${series(customers)}`);
  })();
  db.close();
}

/** One statement per table, as a copy from control.db writes them (cellctl.importing: the revisions given are kept). */
async function fillPostgres(url: string, customers: number): Promise<void> {
  await (await PgControlPlane.connect(url)).close(); // creates the schema
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query("SELECT set_config('cellctl.importing', 'on', true)");
    await client.query(`INSERT INTO cellctl.cells (${CELL_COLUMNS}) ${CELL_ROWS('generate_series(0, 99) AS i')}`);
    await client.query(
      `INSERT INTO cellctl.customers (id, cell_id, created_at, rev) SELECT 'customer-' || i, 'cell-' || (i % 100), 't', i + 1 FROM generate_series(0, $1::int - 1) AS i`,
      [customers],
    );
    await client.query("UPDATE cellctl.meta SET value = $1 WHERE key = 'mapping_version'", [String(customers)]);
    await client.query('COMMIT');
    await client.query('ANALYZE cellctl.customers');
  } finally {
    await client.end();
  }
}

/** Spawns the workspace's router (dist/router/main.js, as the supervisor does); ms until its admin health reports every customer. */
async function timeLoad(ws: Workspace, customers: number): Promise<{ readyMs: number; rssMiB: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const started = performance.now();
  const child = track(
    spawn(process.execPath, [path.join(ROOT, 'dist', 'router', 'main.js')], {
      env: { ...process.env, CELLCTL_HOME: ws.home, CELLCTL_PROC: 'router', CELLCTL_LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    }),
  );
  routers.push(child);
  try {
    let readyMs = -1;
    for (let probe = 0; probe < 20_000 && performance.now() - started < 120_000; probe += 1) {
      if (child.exitCode !== null) throw new Error(`the router exited ${child.exitCode} while loading`);
      const health = await getJson(agent, `http://127.0.0.1:${ws.adminPort}/admin/health`, { authorization: `Bearer ${readAdminToken(ws.home)}` }).catch(
        () => null,
      );
      if (health?.body?.customersMapped === customers) {
        readyMs = performance.now() - started;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (readyMs < 0) throw new Error(`the router did not report ${customers} customers within 120 s`);
    const stats = await getJson(agent, `http://127.0.0.1:${ws.adminPort}/admin/stats`, { authorization: `Bearer ${readAdminToken(ws.home)}` });
    return { readyMs: Math.round(readyMs), rssMiB: Math.round(stats.body.memoryRssBytes / 1048576) };
  } finally {
    agent.destroy();
    await stopChild(child);
    routers.splice(routers.indexOf(child), 1);
  }
}

/** Where a load's time goes, in this process: the store's full read (readMapping(0)), then building the router's table from it. */
async function readInProcess(location: string): Promise<{ readMs: number; tableMs: number }> {
  const plane = await openControlPlane(location);
  try {
    const started = performance.now();
    const read = await plane.readMapping(0);
    const readAt = performance.now();
    new MappingTable('hash').replaceAll(read);
    return { readMs: Math.round(readAt - started), tableMs: Math.round(performance.now() - readAt) };
  } finally {
    await plane.close();
  }
}

async function measureLoad(): Promise<Record<string, unknown>> {
  const sqlite = await newWorkspace();
  fillSqlite(sqlite.home, CUSTOMERS);
  const postgres = await newWorkspace();
  const url = await server!.newDatabase();
  await fillPostgres(url, CUSTOMERS);
  writeControlUrl(postgres.home, url);
  const runs: Record<Kind, { readyMs: number; rssMiB: number }[]> = { sqlite: [], postgres: [] };
  // Alternating rounds, medians: one slow round (another process, a GC) does not decide the comparison.
  for (let i = 0; i < LOAD_ROUNDS; i += 1) {
    runs.postgres.push(await timeLoad(postgres, CUSTOMERS));
    runs.sqlite.push(await timeLoad(sqlite, CUSTOMERS));
  }
  const inProcess = { postgres: await readInProcess(url), sqlite: await readInProcess(path.join(sqlite.home, 'control.db')) };
  const summary = (list: { readyMs: number; rssMiB: number }[]) => ({
    readyMs: median(list.map((r) => r.readyMs)),
    readyMsPerRound: list.map((r) => r.readyMs),
    routerRssMiB: median(list.map((r) => r.rssMiB)),
  });
  const figures = {
    customers: CUSTOMERS,
    cells: 100,
    rounds: LOAD_ROUNDS,
    postgres: summary(runs.postgres),
    sqlite: summary(runs.sqlite),
    inProcess,
    goalMs: 5_000,
  };
  console.log(`[control] load of ${CUSTOMERS}: ${JSON.stringify(figures)}`);
  return { ...figures, met: figures.postgres.readyMs < 5_000 };
}

// --- 2 and 3. two routers on each store ----------------------------------------------------------

interface Served {
  child: ChildProcess;
  adminUrl: string;
}

/** `cellctl router serve` on free ports; resolves once its public /health answers. */
async function routerServe(home: string): Promise<Served> {
  const port = await freePort();
  const adminPort = await freePort();
  const child = track(
    spawn(process.execPath, [CLI, '--home', home, 'router', 'serve', '--port', String(port), '--admin-port', String(adminPort)], {
      env: { ...process.env, CELLCTL_HOME: home, NO_COLOR: '1', CELLCTL_LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    }),
  );
  routers.push(child);
  const agent = new http.Agent({ keepAlive: false });
  await waitFor(
    `router serve on ${port}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`router serve exited ${child.exitCode}`);
      return (await getJson(agent, `http://127.0.0.1:${port}/health`)).status === 200;
    },
    60_000,
  );
  return { child, adminUrl: `http://127.0.0.1:${adminPort}` };
}

interface System {
  kind: Kind;
  ws: Workspace;
  plane: ControlPlane;
  url: string;
}

/** A started workspace with two ecommerce cells; on PostgreSQL its control plane copied into a new database first. */
async function system(kind: Kind): Promise<System> {
  const ws = await newWorkspace({ limits: { rateLimit: { requests: 1_000_000_000, windowSeconds: 1 } } });
  await createCells(ws, 'ecommerce', ['c1', 'c2']);
  let plane: ControlPlane;
  if (kind === 'postgres') {
    const url = await server!.newDatabase();
    const pgPlane = await PgControlPlane.connect(url, { connectTimeoutMs: 2_000 });
    await copyControlPlane(path.join(ws.home, 'control.db'), pgPlane);
    for (const cell of ['c1', 'c2']) await pgPlane.markCellHealthy(cell);
    writeControlUrl(ws.home, url);
    plane = pgPlane;
  } else {
    plane = await openControlPlane(path.join(ws.home, 'control.db'));
  }
  planes.push(plane);
  await cliOk(ws.home, ['start']);
  return { kind, ws, plane, url: `http://127.0.0.1:${ws.routerPort}` };
}

function cannon(options: Record<string, unknown>): Promise<CannonResult> {
  return new Promise((resolve, reject) =>
    autocannon({ connections: 16, duration: SECONDS, ...options }, (error, result) => (error ? reject(error) : resolve(result))),
  );
}

/** GET of one customer through each system's router: alternating rounds, medians (as run.js's router part). */
async function measureThroughput(systems: Record<Kind, System>): Promise<Record<string, unknown>> {
  for (const { url } of Object.values(systems)) {
    const created = await fetch(`${url}/api/customers/bench`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Bench', email: 'bench@example.com' }),
    });
    if (created.status !== 201) throw new Error(`could not create the bench customer at ${url}: ${created.status}`);
  }
  const path_ = '/api/customers/bench';
  for (const { url } of Object.values(systems)) await cannon({ url: url + path_, duration: 1 }); // warm-up
  const rounds: Record<Kind, CannonResult[]> = { sqlite: [], postgres: [] };
  // Which store goes first alternates too, so neither always runs on the machine the other just warmed.
  for (let i = 0; i < ROUNDS; i += 1) {
    for (const kind of i % 2 === 0 ? (['sqlite', 'postgres'] as const) : (['postgres', 'sqlite'] as const))
      rounds[kind].push(await cannon({ url: systems[kind].url + path_ }));
  }
  const mid = (list: CannonResult[]) => {
    const r = [...list].sort((a, b) => a.requests.average - b.requests.average)[Math.floor(list.length / 2)]!;
    return { rps: Math.round(r.requests.average), p50Ms: r.latency.p50, p99Ms: r.latency.p99, errors: r.errors + r.non2xx };
  };
  const sqlite = mid(rounds.sqlite);
  const postgres = mid(rounds.postgres);
  const ratio = round(postgres.rps / sqlite.rps, 2);
  const figures = {
    sqlite,
    postgres,
    ratio,
    ratiosPerRound: rounds.postgres.map((r, i) => round(r.requests.average / rounds.sqlite[i]!.requests.average, 2)),
    connections: 16,
    seconds: SECONDS,
    rounds: ROUNDS,
    // "Equals": PostgreSQL costs no throughput (the lookup is in memory either way): at least 0.9 of control.db's.
    met: ratio >= 0.9,
  };
  console.log(`[control] throughput: ${JSON.stringify(figures)}`);
  return figures;
}

/** Polls one router's route for `customerId` until it names `cellId`; ms since `started`, or null past the deadline. */
async function seenAt(agent: http.Agent, adminUrl: string, token: string, customerId: string, cellId: string, started: number): Promise<number | null> {
  for (let probe = 0; probe < PROBES_PER_CHANGE; probe += 1) {
    const answer = await getJson(agent, `${adminUrl}/admin/route/${customerId}`, { authorization: `Bearer ${token}` });
    if (answer.body?.route?.cellId === cellId && answer.body.route.rule === 'mapping') return performance.now() - started;
    if (performance.now() - started > CHANGE_DEADLINE_MS) return null;
  }
  return null;
}

/**
 * CHANGES mapping changes made through the plane from this process (even: a new customer pinned;
 * odd: that customer moved to the other cell), each timed from the write's start until both routers
 * answer the new route.
 */
async function measureLag(sys: System, admins: string[]): Promise<Record<string, unknown>> {
  const token = readAdminToken(sys.ws.home);
  const agents = admins.map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const lags: number[] = [];
  const writes: number[] = [];
  /** The same, from the write's commit (the store's and the routers' share, without the writer's round trips). */
  const afterCommit: number[] = [];
  let timeouts = 0;
  try {
    for (let i = 0; i < CHANGES; i += 1) {
      const id = `lag-${sys.kind}-${Math.floor(i / 2)}`;
      const first = Math.floor(i / 2) % 2 === 0 ? 'c1' : 'c2';
      const cell = i % 2 === 0 ? first : first === 'c1' ? 'c2' : 'c1';
      const started = performance.now();
      if (i % 2 === 0) await sys.plane.pinCustomers([{ customerId: id, cellId: cell }]);
      else if (!(await sys.plane.moveCustomer(id, first, cell))) throw new Error(`could not move ${id}`);
      const written = performance.now() - started;
      writes.push(written);
      const seen = await Promise.all(admins.map((admin, n) => seenAt(agents[n]!, admin, token, id, cell, started)));
      if (seen.some((ms) => ms === null)) timeouts += 1;
      const lag = Math.max(...seen.map((ms) => ms ?? CHANGE_DEADLINE_MS));
      lags.push(lag);
      afterCommit.push(lag - written);
    }
  } finally {
    for (const agent of agents) agent.destroy();
  }
  const figures = {
    changes: CHANGES,
    routers: admins.length,
    p50Ms: pct(lags, 0.5),
    p99Ms: pct(lags, 0.99),
    maxMs: pct(lags, 1),
    writeP50Ms: pct(writes, 0.5),
    afterCommitP50Ms: pct(afterCommit, 0.5),
    afterCommitP99Ms: pct(afterCommit, 0.99),
    over100Ms: lags.filter((ms) => ms >= 100).length,
    timeouts,
  };
  console.log(`[control] mapping change → 2 routers on ${sys.kind}: ${JSON.stringify(figures)}`);
  return figures;
}

if (!pgState.ok && OUT) fs.writeFileSync(OUT, JSON.stringify({ skipped: pgState.reason }));

it.skipIf(!pgState.ok)('measures the control plane on PostgreSQL beside control.db', { timeout: 1_800_000 }, async () => {
  const loadBefore = os.loadavg().map((l) => round(l, 2));
  server = await startPg();
  const load = await measureLoad();
  const systems = { sqlite: await system('sqlite'), postgres: await system('postgres') };
  const throughput = await measureThroughput(systems);
  const lag: Record<string, unknown> = { goalP99Ms: 100 };
  for (const sys of Object.values(systems)) {
    const second = await routerServe(sys.ws.home);
    lag[sys.kind] = await measureLag(sys, [`http://127.0.0.1:${sys.ws.adminPort}`, second.adminUrl]);
    await stopChild(second.child);
  }
  lag.met = ((lag.postgres as { p99Ms: number }).p99Ms ?? Infinity) < 100;
  for (const sys of Object.values(systems)) await cliOk(sys.ws.home, ['stop']);
  const figures = {
    load,
    mappingLag: lag,
    throughput,
    loadAverage: { before: loadBefore, after: os.loadavg().map((l) => round(l, 2)) },
    cpus: os.cpus().length,
  };
  if (OUT) fs.writeFileSync(OUT, JSON.stringify(figures));
  console.log(JSON.stringify(figures));
});
