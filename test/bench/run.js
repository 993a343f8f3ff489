// npm run bench: measures cellctl side by side with its baselines, in one run on this machine, and
// prints a table (and writes the same figures to test/bench/latest.json). Not a test: no CI.
//
//  1. router vs direct: one cell, GET and POST, keep-alive clients (autocannon), fixed duration; the
//     router's CPU per GET (from /proc) against nginx in front of the same cell and the router of the
//     build before issue 28 (SHAPE_BASELINE_REF);
//  2. migration: write pause under load for single moves; bulk drain vs the last ATTACH build and a
//     bare SQLite loop; other customers' latency and failures while a customer with 100,000 orders
//     moves (bystanders); drain and write pause across simulated hosts (hosts.measure.ts);
//  3. CLI: --version and status --json vs `node -e 0` (and the SHAPE_BASELINE_REF build's); start of 3
//     and 10 cells until healthy;
//  4. scale: the router's memory, start-up and lookup time with 1,000,000 customers over 100 cells
//     (memory and start-up also for the SHAPE_BASELINE_REF build's router);
//  5. control: the control plane in PostgreSQL beside control.db (control.measure.ts): a router's load
//     of 1,000,000 customers, a mapping change's lag to two routers, router throughput with either store;
//  6. pipelining: a client that keeps sending on one connection (reading its answers) against a
//     keep-alive client's rate, and the router's RSS while 50 such clients run (pipelining.js);
//  7. engine: the docker runtime on a private dockerd (engine.measure.ts): the router in a container
//     against one on the host, and a new cell from create until it serves;
//  8. swarm: the swarm runtime across namespace hosts (swarm.measure.ts): a cell from create --node
//     until it serves, and the write pause of moves between nodes.
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlStore } from '../../dist/control/store.js';
import { moveBatch } from '../../dist/migration/engine.js';
import { MappingTable } from '../../dist/router/mapping.js';
import { openWorkspace } from '../../dist/workspace/workspace.js';
import { keepAliveRate, pipeliningRate } from './pipelining.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'bin', 'cellctl.js');
const QUICK = process.argv.includes('--quick');
/** --only drain,scale runs just those parts (for working on one figure). */
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1].split(',') : null;
const wanted = (name) => ONLY === null || ONLY.includes(name);
const SECONDS = QUICK ? 3 : 5;
const ROUNDS = QUICK ? 1 : 3;
const DRAIN_CUSTOMERS = QUICK ? 500 : 2000;
const SCALE_CUSTOMERS = QUICK ? 200_000 : 1_000_000;
const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'cellctl-bench-'));
const homes = [];
const results = {};

const log = (text) => process.stderr.write(`[bench] ${text}\n`);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round = (value, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
// Below the kernel's ephemeral range (32768 up on Linux), which clients' local ports come from.
let nextPort = 10_000 + Math.floor(Math.random() * 15_000);
async function freePort(span = 1) {
  for (;;) {
    nextPort += span + 1;
    let ok = true;
    for (let i = 0; i < span && ok; i += 1) ok = await portFree(nextPort + i);
    if (ok) return nextPort;
  }
}

function cellctl(home, args, env = {}, cli = CLI) {
  return execFileSync(process.execPath, [cli, '--home', home, ...args], {
    env: { ...process.env, NO_COLOR: '1', CI: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString();
}

async function workspace(name, settings = {}, cli = CLI) {
  const home = path.join(temp, name);
  homes.push({ home, cli });
  cellctl(home, ['init', '--router-port', String(await freePort(2))], {}, cli);
  const file = path.join(home, 'cellctl.json');
  const current = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.writeFileSync(
    file,
    JSON.stringify({ ...current, ...settings, limits: { ...current.limits, rateLimit: { requests: 1e9, windowSeconds: 1 }, ...settings.limits } }, null, 2),
  );
  return { home, settings: JSON.parse(fs.readFileSync(file, 'utf8')) };
}

async function createCells(home, template, count, prefix = 'cell', cli = CLI) {
  for (let i = 1; i <= count; i += 1) cellctl(home, ['create', `${prefix}-${i}`, '--template', template, '--port', String(await freePort(2))], {}, cli);
}

function load(options) {
  return new Promise((resolve, reject) =>
    autocannon({ connections: 16, duration: SECONDS, ...options }, (error, result) => (error ? reject(error) : resolve(result))),
  );
}

/** One keep-alive connection, requests one after another: latency with sub-millisecond resolution. */
async function sequentialLatency(url, count) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const once = () =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      http
        .get(url, { agent }, (response) => {
          response.resume();
          response.on('end', () => resolve(performance.now() - started));
        })
        .on('error', reject);
    });
  for (let i = 0; i < 200; i += 1) await once();
  const times = [];
  for (let i = 0; i < count; i += 1) times.push(await once());
  agent.destroy();
  times.sort((a, b) => a - b);
  return { p50Ms: round(times[Math.floor(count / 2)], 3), p99Ms: round(times[Math.floor(count * 0.99)], 3) };
}

const summary = (result) => ({
  rps: Math.round(result.requests.average),
  p50Ms: result.latency.p50,
  p99Ms: result.latency.p99,
  errors: result.errors + result.non2xx,
});

// ---------------------------------------------------------------------------------------------
async function routerVsDirect() {
  log('router vs direct: one ecommerce cell');
  const ws = await workspace('router');
  await createCells(ws.home, 'ecommerce', 1);
  cellctl(ws.home, ['start']);
  const router = `http://127.0.0.1:${ws.settings.routerPort}`;
  const cellPort = JSON.parse(cellctl(ws.home, ['list', '--json']))[0].port;
  const direct = `http://127.0.0.1:${cellPort}`;
  await fetch(`${router}/api/customers/bench`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Bench', email: 'bench@example.com' }),
  });
  const post = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ product_id: 'sku-cable', quantity: 1 }) };
  const plainPort = await freePort();
  const plainProxy = spawn(process.execPath, [path.join(ROOT, 'test', 'bench', 'plain-proxy.js'), String(plainPort), String(cellPort)], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise((resolve) => plainProxy.once('message', resolve));
  const plain = `http://127.0.0.1:${plainPort}`;
  const out = {};
  for (const [label, path_, extra] of [
    ['GET', '/api/customers/bench', {}],
    ['POST', '/api/customers/bench/cart/items', post],
  ]) {
    await load({ url: direct + path_, duration: 1, ...extra }); // warm-up: JIT, connections, caches
    await load({ url: router + path_, duration: 1, ...extra });
    // Alternating rounds, medians: one slow round (another process, a GC) does not decide the ratio.
    const rounds = { direct: [], router: [], plain: [] };
    for (let round_ = 0; round_ < ROUNDS; round_ += 1) {
      rounds.direct.push(summary(await load({ url: direct + path_, ...extra })));
      rounds.router.push(summary(await load({ url: router + path_, ...extra })));
      rounds.plain.push(summary(await load({ url: plain + path_, ...extra })));
    }
    const mid = (list) => [...list].sort((a, b) => a.rps - b.rps)[Math.floor(list.length / 2)];
    const d = mid(rounds.direct);
    const r = mid(rounds.router);
    const p = mid(rounds.plain);
    const ratios = rounds.router.map((result, i) => round(result.rps / rounds.direct[i].rps));
    out[label] = {
      direct: d,
      router: r,
      plainNodeProxy: p,
      throughputRatio: round(r.rps / d.rps),
      plainProxyRatio: round(p.rps / d.rps),
      ratiosPerRound: ratios,
      addedMedianMs: round(r.p50Ms - d.p50Ms),
    };
    log(
      `${label}: direct ${d.rps}/s; router ${r.rps}/s (ratio ${out[label].throughputRatio}, rounds ${ratios.join(', ')}); plain Node proxy ${p.rps}/s (ratio ${out[label].plainProxyRatio})`,
    );
  }
  plainProxy.kill();
  out.accessLog = await accessLogCost(ws.home, router + '/api/customers/bench');
  const directLatency = await sequentialLatency(direct + '/api/customers/bench', QUICK ? 1000 : 5000);
  const routerLatency = await sequentialLatency(router + '/api/customers/bench', QUICK ? 1000 : 5000);
  out.sequentialGet = { direct: directLatency, router: routerLatency, addedMedianMs: round(routerLatency.p50Ms - directLatency.p50Ms, 3) };
  log(`sequential GET latency: direct p50 ${directLatency.p50Ms} ms, router p50 ${routerLatency.p50Ms} ms`);
  out.cpu = await routerCpuVsNginx(ws, cellPort, '/api/customers/bench');
  cellctl(ws.home, ['stop']);
  results.routerVsDirect = {
    ...out,
    against: 'the same cell called directly, same client, same run (median of alternating rounds)',
    connections: 16,
    seconds: SECONDS,
    rounds: ROUNDS,
  };
}

/**
 * The access log's cost: router GETs with accessLog off and on, alternating rounds (config set applies
 * it to the running router), medians. The setting is on by default only if on/off stays ≥ 0.97.
 */
async function accessLogCost(home, url) {
  const rounds = { off: [], on: [] };
  for (let round_ = 0; round_ < ROUNDS; round_ += 1) {
    for (const state of ['off', 'on']) {
      cellctl(home, ['config', 'set', 'accessLog', String(state === 'on')]);
      await load({ url, duration: 1 }); // the new setting's path warm
      rounds[state].push(summary(await load({ url })));
    }
  }
  cellctl(home, ['config', 'set', 'accessLog', 'false']);
  const mid = (list) => [...list].sort((a, b) => a.rps - b.rps)[Math.floor(list.length / 2)].rps;
  const figures = {
    offPerSecond: mid(rounds.off),
    onPerSecond: mid(rounds.on),
    ratio: round(mid(rounds.on) / mid(rounds.off)),
    ratiosPerRound: rounds.on.map((result, i) => round(result.rps / rounds.off[i].rps)),
  };
  log(
    `access log: router GET ${figures.onPerSecond}/s with it, ${figures.offPerSecond}/s without (ratio ${figures.ratio}, rounds ${figures.ratiosPerRound.join(', ')})`,
  );
  return figures;
}

/** Clock ticks per second of /proc's CPU times. */
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** CPU time (ms, user + system) a process has used so far, from /proc/<pid>/stat. */
function cpuMs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command's closing parenthesis: state is field 3, utime 14 and stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/**
 * nginx (Debian's package) in front of the cell at `cellPort`, as a tuned reverse proxy runs: one
 * worker, no access log, kept-alive upstream connections (keepalive 64, HTTP/1.1, empty Connection;
 * idle ones closed after 4 s, before the cell's Node server closes them after 5 s, which nginx would
 * otherwise answer 502 for a request it had just sent on one). Client connections are kept for a
 * million requests (nginx closes them after 1,000 by default; the router never does).
 * Returns its URL, the worker's pid (the process that does the work) and a stop function; null
 * without nginx.
 */
async function startNginx(cellPort) {
  const binary = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((file) => fs.existsSync(file));
  if (!binary) return null;
  const dir = fs.mkdtempSync(path.join(temp, 'nginx-'));
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream cell { server 127.0.0.1:${cellPort}; keepalive 64; keepalive_timeout 4s; }
  server {
    listen 127.0.0.1:${port};
    keepalive_requests 1000000;
    location / { proxy_pass http://cell; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`,
  );
  const master = spawn(binary, ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  // Bounded: 10 s, or nginx exiting.
  const started = performance.now();
  let worker = null;
  while (worker === null) {
    if (master.exitCode !== null || performance.now() - started > 10_000) {
      master.kill('SIGKILL');
      throw new Error(`nginx did not start: ${fs.readFileSync(path.join(dir, 'error.log'), 'utf8').slice(-400)}`);
    }
    const children = fs.readFileSync(`/proc/${master.pid}/task/${master.pid}/children`, 'utf8').trim();
    const answers =
      children !== '' &&
      (await fetch(`${url}/health`).then(
        (response) => response.ok,
        () => false,
      ));
    if (answers) worker = Number(children.split(' ')[0]);
    else await sleep(20);
  }
  const version = spawnSync(binary, ['-v']).stderr.toString().trim().replace('nginx version: ', '');
  return { url, pid: worker, version, stop: () => master.kill('SIGQUIT') };
}

/**
 * CPU per proxied GET: this build's router, the shape baseline's router (SHAPE_BASELINE_REF, its own
 * workspace and cell of the same template) and nginx in front of this build's cell, in alternating
 * rounds of the same load; each process's CPU read from /proc before and after its round. Medians.
 */
async function routerCpuVsNginx(ws, cellPort, get) {
  const nginx = await startNginx(cellPort);
  if (!nginx) {
    log('router CPU: skipped, nginx is not installed (apt-get install -y nginx)');
    return { skipped: 'nginx is not installed' };
  }
  const baseline = buildBaseline(SHAPE_BASELINE_REF);
  const old = await workspace('router-baseline', {}, baseline.cli);
  await createCells(old.home, 'ecommerce', 1, 'cell', baseline.cli);
  cellctl(old.home, ['start'], {}, baseline.cli);
  const oldRouter = `http://127.0.0.1:${old.settings.routerPort}`;
  await fetch(`${oldRouter}/api/customers/bench`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Bench', email: 'bench@example.com' }),
  });
  const targets = {
    router: { url: `http://127.0.0.1:${ws.settings.routerPort}${get}`, pid: (await routerStats(ws)).pid },
    baselineRouter: { url: `${oldRouter}${get}`, pid: (await routerStats(old)).pid },
    nginx: { url: `${nginx.url}${get}`, pid: nginx.pid },
  };
  const rounds = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
  for (const target of Object.values(targets)) await load({ url: target.url, duration: 1 }); // warm-up
  for (let round_ = 0; round_ < ROUNDS; round_ += 1) {
    for (const [name, target] of Object.entries(targets)) {
      const before = cpuMs(target.pid);
      const result = await load({ url: target.url });
      const used = cpuMs(target.pid) - before;
      rounds[name].push({
        usPerRequest: round((used * 1000) / result.requests.total, 1),
        rps: Math.round(result.requests.average),
        errors: result.errors + result.non2xx,
      });
    }
  }
  nginx.stop();
  cellctl(old.home, ['stop'], {}, baseline.cli);
  const mid = (list, key) => median(list.map((entry) => entry[key]));
  const figures = Object.fromEntries(
    Object.entries(rounds).map(([name, list]) => [
      name,
      {
        usPerRequest: mid(list, 'usPerRequest'),
        rps: mid(list, 'rps'),
        errors: list.reduce((sum, entry) => sum + entry.errors, 0),
        rounds: list.map((entry) => entry.usPerRequest),
      },
    ]),
  );
  const out = {
    ...figures,
    nginxVersion: nginx.version,
    cpuRatioToNginx: round(figures.router.usPerRequest / figures.nginx.usPerRequest),
    throughputRatioToNginx: round(figures.router.rps / figures.nginx.rps),
    cpuRatioToBaseline: round(figures.router.usPerRequest / figures.baselineRouter.usPerRequest),
    baselineRef: SHAPE_BASELINE_REF,
    against: `nginx ${nginx.version} (one worker, access_log off, upstream keepalive 64, HTTP/1.1, empty Connection) in front of the same cell; the ${SHAPE_BASELINE_REF} build's router in front of a cell of its own; same load, alternating rounds, CPU from /proc (user + system)`,
  };
  log(
    `router CPU per GET: ${figures.router.usPerRequest} µs (${figures.router.rps}/s), ${SHAPE_BASELINE_REF} build ${figures.baselineRouter.usPerRequest} µs (${figures.baselineRouter.rps}/s), nginx ${figures.nginx.usPerRequest} µs (${figures.nginx.rps}/s): ${out.cpuRatioToNginx}× nginx's CPU, ${out.throughputRatioToNginx}× its throughput`,
  );
  return out;
}

// ---------------------------------------------------------------------------------------------
function seedShopper(db, customerId, orders, cartItems, cellId = 'cell-1') {
  db.prepare("INSERT INTO customers VALUES (?, ?, ?, NULL, 't', 't', ?)").run(customerId, `${customerId}@example.com`, `Customer ${customerId}`, cellId);
  const skus = ['sku-keyboard', 'sku-mouse', 'sku-monitor', 'sku-cable', 'sku-stand', 'sku-headset'];
  for (let i = 0; i < cartItems; i += 1) db.prepare("INSERT INTO cart_items VALUES (?, ?, 1, 't')").run(customerId, skus[i]);
  for (let i = 0; i < orders; i += 1) {
    const order = `${customerId}-o${i}`;
    db.prepare("INSERT INTO orders VALUES (?, ?, 'fulfilled', 900, 't', 't', ?)").run(order, customerId, cellId);
    db.prepare("INSERT INTO order_items VALUES (?, ?, 'sku-cable', 1, 900, 't')").run(order, customerId);
    db.prepare("INSERT INTO order_events VALUES (?, ?, ?, 'order.processing', 'done', 2, 0, 't')").run(`${order}-e`, order, customerId);
    db.prepare("INSERT INTO notifications VALUES (?, ?, ?, 'email', 'shipped', 't')").run(`${order}-n`, customerId, order);
  }
}

async function migrationPause() {
  log('migration: write pause of single moves under load');
  const ws = await workspace('pause');
  await createCells(ws.home, 'ecommerce', 2);
  const seed = new Database(path.join(ws.home, 'cell-1', 'data.db'));
  seed.transaction(() => seedShopper(seed, 'mover', 20, 6))();
  seed.close();
  cellctl(ws.home, ['assign', 'customer', 'mover', '--cell', 'cell-1']);
  cellctl(ws.home, ['start']);
  const router = `http://127.0.0.1:${ws.settings.routerPort}`;
  let stop = false;
  const latencies = [];
  const writer = async () => {
    while (!stop) {
      const started = performance.now();
      const response = await fetch(`${router}/api/customers/mover/cart/items`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ product_id: 'sku-cable', quantity: 1 }),
      });
      await response.text();
      if (response.status >= 500) throw new Error(`write failed during a move: ${response.status}`);
      latencies.push(performance.now() - started);
    }
  };
  const writers = [writer(), writer()];
  const space = await openWorkspace(ws.home);
  const fenced = [];
  const moves = QUICK ? 20 : 50;
  let at = 'cell-1';
  for (let i = 0; i < moves; i += 1) {
    const to = at === 'cell-1' ? 'cell-2' : 'cell-1';
    const result = await moveBatch(space, [{ customerId: 'mover', from: at, to }], { keepSourceUntil: null, batch: null });
    fenced.push(result.fencedMs);
    at = to;
    await sleep(50);
  }
  stop = true;
  await Promise.all(writers);
  const stats = await (
    await fetch(`http://127.0.0.1:${ws.settings.routerAdminPort}/admin/stats`, {
      headers: { authorization: `Bearer ${fs.readFileSync(path.join(ws.home, 'secrets', 'admin-token'), 'utf8').trim()}` },
    })
  ).json();
  await (space.plane ?? space.store).close();
  cellctl(ws.home, ['stop']);
  const sorted = [...fenced].sort((a, b) => a - b);
  results.writePause = {
    moves,
    rowsPerCustomer: 1 + 6 + 20 * 4,
    heldRequests: stats.fenceHolds.count,
    heldP50Ms: stats.fenceHolds.p50Ms,
    heldP99Ms: stats.fenceHolds.p99Ms,
    heldMaxMs: stats.fenceHolds.maxMs,
    fenceWindowP50Ms: round(sorted[Math.floor(sorted.length / 2)]),
    fenceWindowP99Ms: round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]),
    writeP50Ms: round(median(latencies)),
    against: 'time each request spent held by the fence at the router (the pause a client saw); the fence window is fence-up to fence-down as the mover saw it',
  };
  log(`write pause: held p50 ${stats.fenceHolds.p50Ms} ms, p99 ${stats.fenceHolds.p99Ms} ms over ${stats.fenceHolds.count} held requests`);
}

function bareLoop(sourceFile, targetFile, customers) {
  const db = new Database(sourceFile);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.prepare('ATTACH DATABASE ? AS target').run(targetFile);
  const tables = [
    ['customers', 'customer_id'],
    ['cart_items', 'customer_id'],
    ['orders', 'customer_id'],
    ['order_items', 'customer_id'],
    ['order_events', 'customer_id'],
    ['notifications', 'customer_id'],
  ];
  const inserts = tables.map(([table, column]) => db.prepare(`INSERT INTO target.${table} SELECT * FROM main.${table} WHERE ${column} = ?`));
  const deletes = [...tables].reverse().map(([table, column]) => db.prepare(`DELETE FROM main.${table} WHERE ${column} = ?`));
  const move = db.transaction((id) => {
    for (const insert of inserts) insert.run(id);
    for (const remove of deletes) remove.run(id);
  });
  const started = performance.now();
  for (const id of customers) move(id);
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return seconds;
}

/**
 * The build cellctl's moves are compared with: the last one that moved rows by ATTACHing both cells'
 * files in the CLI's process, before rows went through each cell's data API (override with
 * --baseline <git ref>). Built from git into a temporary worktree, so both run in the same run.
 */
const BASELINE_REF = process.argv.includes('--baseline') ? process.argv[process.argv.indexOf('--baseline') + 1] : '7aa687b';
/**
 * The build before issue 28's restructuring (router connection, settings, control store): the router's
 * CPU per request, the CLI's times and the router's memory are measured with it and with this build
 * in the same run. --shape-baseline REF picks another.
 */
const SHAPE_BASELINE_REF = process.argv.includes('--shape-baseline') ? process.argv[process.argv.indexOf('--shape-baseline') + 1] : '55242de';
/** Worktrees made for baselines, removed at the end. */
const baselineDirs = [];
const baselines = new Map();

/** Checks out and compiles `ref` in a worktree of its own (once per run); its CLI and dist. */
function buildBaseline(ref = BASELINE_REF) {
  if (baselines.has(ref)) return baselines.get(ref);
  const dir = path.join(temp, `baseline-${ref}`);
  execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', dir, ref], { stdio: 'ignore' });
  baselineDirs.push(dir);
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(dir, 'tsconfig.json')], {
    stdio: 'ignore',
  });
  const build = { name: `baseline ${ref}`, ref, cli: path.join(dir, 'bin', 'cellctl.js'), dist: path.join(dir, 'dist') };
  baselines.set(ref, build);
  return build;
}

/** A started two-cell workspace of one build with DRAIN_CUSTOMERS small customers (87 rows each) seeded and pinned in cell-1. */
async function drainWorkspace(build, name) {
  const ws = await workspace(name, {}, build.cli);
  await createCells(ws.home, 'ecommerce', 2, 'cell', build.cli);
  const ids = Array.from({ length: DRAIN_CUSTOMERS }, (_, i) => `d-${i}`);
  const seed = new Database(path.join(ws.home, 'cell-1', 'data.db'));
  seed.transaction(() => ids.forEach((id) => seedShopper(seed, id, 20, 6)))();
  seed.close();
  const { ControlStore: Store } = await import(path.join(build.dist, 'control', 'store.js'));
  const control = Store.open(path.join(ws.home, 'control.db'));
  control.pinCustomers(ids.map((customerId) => ({ customerId, cellId: 'cell-1' })));
  control.close();
  cellctl(ws.home, ['start'], {}, build.cli);
  return { ws, ids };
}

/** Drains DRAIN_CUSTOMERS seeded customers from cell-1 to cell-2 with one build; customers per second. */
async function drainWith(build, label) {
  const { ws, ids } = await drainWorkspace(build, `drain-${label}`);
  const bulk = await import(path.join(build.dist, 'migration', 'bulk.js'));
  const plan = await import(path.join(build.dist, 'migration', 'plan.js'));
  const { openWorkspace: open } = await import(path.join(build.dist, 'workspace', 'workspace.js'));
  const space = await open(ws.home);
  const loads = await bulk.cellLoads(space);
  const moves = plan.planDrain(
    loads.find((cell) => cell.id === 'cell-1'),
    ids,
    loads,
  );
  const drained = await bulk.runMoves(space, moves, 100, { tick() {} }, () => false);
  await (space.plane ?? space.store).close();
  const audit = spawnSync(process.execPath, [build.cli, '--home', ws.home, 'audit'], { env: { ...process.env, NO_COLOR: '1' } });
  cellctl(ws.home, ['stop'], {}, build.cli);
  return { rate: Math.round(drained.moved / drained.seconds), auditClean: audit.status === 0 };
}

async function bulkDrain() {
  log(`migration: drain of ${DRAIN_CUSTOMERS} customers (20 orders and a full cart each): this build, the ${BASELINE_REF} build, a bare SQLite loop`);
  // The bare loop gets data of the same shape, in files of its own.
  const bareWs = await workspace('drain-bare');
  await createCells(bareWs.home, 'ecommerce', 2);
  const ids = Array.from({ length: DRAIN_CUSTOMERS }, (_, i) => `d-${i}`);
  const bareSource = path.join(bareWs.home, 'cell-1', 'data.db');
  const seed = new Database(bareSource);
  seed.transaction(() => ids.forEach((id) => seedShopper(seed, id, 20, 6)))();
  seed.close();
  const baseline = buildBaseline();
  const builds = { now: { cli: CLI, dist: path.join(ROOT, 'dist') }, baseline };
  // Rounds alternate which build goes first, and each build's best round counts: a throughput is
  // only ever lowered by a busy moment, so the best round is the closest to what the build can do.
  const rounds = { now: [], baseline: [] };
  for (let turn = 0; turn < ROUNDS; turn += 1) {
    for (const label of turn % 2 === 0 ? ['now', 'baseline'] : ['baseline', 'now']) rounds[label].push(await drainWith(builds[label], `${label}-${turn}`));
  }
  const best = (runs) => runs.reduce((a, b) => (b.rate > a.rate ? b : a));
  const now = { ...best(rounds.now), auditClean: rounds.now.every((run) => run.auditClean) };
  const before = { ...best(rounds.baseline), auditClean: rounds.baseline.every((run) => run.auditClean) };
  const bareSeconds = bareLoop(bareSource, path.join(bareWs.home, 'cell-2', 'data.db'), ids);
  const bareRate = Math.round(ids.length / bareSeconds);
  results.drain = {
    customers: ids.length,
    rowsPerCustomer: 87,
    cellctlPerSecond: now.rate,
    baselinePerSecond: before.rate,
    baselineRef: BASELINE_REF,
    ratioToBaseline: round(now.rate / before.rate),
    rounds: { now: rounds.now.map((run) => run.rate), baseline: rounds.baseline.map((run) => run.rate) },
    bareLoopPerSecond: bareRate,
    ratio: round(now.rate / bareRate),
    auditClean: now.auditClean && before.auditClean,
    against: `the ${BASELINE_REF} build (rows moved by ATTACH in the CLI's process) on the same data in the same run, and a bare loop: ATTACH + INSERT…SELECT + DELETE, one transaction per customer (no fence, journal or verification)`,
  };
  log(`drain: cellctl ${now.rate}/s, ${BASELINE_REF} build ${before.rate}/s (ratio ${results.drain.ratioToBaseline}), bare loop ${bareRate}/s`);
}

/** The build before online moves (issue 27): a drain of small customers must not get slower than it. */
const ONLINE_BASELINE_REF = 'eea6f27';

/** `cellctl drain cell-1` of DRAIN_CUSTOMERS seeded customers with one build, through its CLI: customers per second. */
async function drainByCli(build, label) {
  const { ws, ids } = await drainWorkspace(build, `cli-drain-${label}`);
  const started = performance.now();
  const drained = spawnSync(process.execPath, [build.cli, '--home', ws.home, 'drain', 'cell-1', '--json'], {
    env: { ...process.env, NO_COLOR: '1', CI: 'true' },
  });
  const seconds = (performance.now() - started) / 1000;
  if (drained.status !== 0) throw new Error(`drain with ${label} failed: ${drained.stderr}`);
  cellctl(ws.home, ['stop'], {}, build.cli);
  return { rate: Math.round(ids.length / seconds) };
}

/** A drain of small customers through the CLI, this build against the one before online moves, best of alternating rounds. */
async function drainBeforeOnline() {
  log(`migration: drain of ${DRAIN_CUSTOMERS} small customers through the CLI: this build and the ${ONLINE_BASELINE_REF} build (before online moves)`);
  const builds = { now: { cli: CLI, dist: path.join(ROOT, 'dist') }, before: buildBaseline(ONLINE_BASELINE_REF) };
  const rounds = { now: [], before: [] };
  for (let turn = 0; turn < ROUNDS; turn += 1) {
    for (const label of turn % 2 === 0 ? ['now', 'before'] : ['before', 'now']) rounds[label].push((await drainByCli(builds[label], `${label}-${turn}`)).rate);
  }
  const best = (rates) => Math.max(...rates);
  results.drainBeforeOnline = {
    customers: DRAIN_CUSTOMERS,
    perSecond: best(rounds.now),
    baselinePerSecond: best(rounds.before),
    baselineRef: ONLINE_BASELINE_REF,
    ratio: round(best(rounds.now) / best(rounds.before)),
    rounds,
    against: `\`cellctl drain cell-1\` (wall time of the command) with the ${ONLINE_BASELINE_REF} build, the last before online moves, on the same data in the same run; best of ${ROUNDS} alternating rounds`,
  };
  log(
    `drain through the CLI: ${results.drainBeforeOnline.perSecond}/s, ${ONLINE_BASELINE_REF} build ${results.drainBeforeOnline.baselinePerSecond}/s (ratio ${results.drainBeforeOnline.ratio})`,
  );
}

/** Runs one test/bench/<name>.measure.ts (only that file) through vitest, with `env` added. */
function measure(name, env) {
  return spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', 'test/bench/vitest.measure.config.ts', `test/bench/${name}.measure.ts`],
    { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
}

/**
 * Moves across simulated hosts (network namespaces; root and iproute2): test/bench/hosts.measure.ts,
 * run by vitest for its TypeScript harness. Skipped with the reason where namespaces cannot be made.
 */
async function acrossHosts() {
  log(`hosts: drain of ${DRAIN_CUSTOMERS} customers from host B to host C, and the write pause of single moves, router on host A`);
  const out = path.join(temp, 'hosts.json');
  const run = measure('hosts', { CELLCTL_BENCH_OUT: out, CELLCTL_BENCH_DRAIN: String(DRAIN_CUSTOMERS), CELLCTL_BENCH_MOVES: QUICK ? '10' : '100' });
  if (!fs.existsSync(out)) {
    log(`hosts: not measured (${run.status === 0 ? 'skipped: no network namespaces here' : `failed:\n${run.stdout}${run.stderr}`})`);
    return;
  }
  results.hosts = JSON.parse(fs.readFileSync(out, 'utf8'));
  log(`hosts: drain ${results.hosts.drain.customersPerSecond}/s, write pause held p99 ${results.hosts.writePause.heldP99Ms} ms`);
}

/**
 * The docker runtime on a private Docker engine (test/bench/engine.measure.ts, with the engine-test
 * harness): the router in a container against one on the host, and a new cell from create until it
 * serves. Skipped with the reason where dockerd cannot run.
 */
async function dockerRuntime() {
  log('engine: the router in a container against the router on the host, same cell container; create of a cell until it serves');
  const out = path.join(temp, 'engine.json');
  const run = measure('engine', { CELLCTL_BENCH_OUT: out, CELLCTL_BENCH_QUICK: QUICK ? '1' : '0' });
  if (!fs.existsSync(out)) {
    log(`engine: not measured (${run.status === 0 ? 'skipped: no Docker engine can run here' : `failed:\n${run.stdout}${run.stderr}`})`);
    return;
  }
  results.engine = JSON.parse(fs.readFileSync(out, 'utf8'));
  log(
    `engine: router GET ${results.engine.routerGet.containerPerSecond}/s in a container vs ${results.engine.routerGet.hostPerSecond}/s on the host (ratio ${results.engine.routerGet.ratio}); create until serving ${results.engine.createUntilServingMs} ms`,
  );
}

/**
 * The swarm runtime across simulated hosts (test/bench/swarm.measure.ts, with the swarm harness): a
 * cell from create --node until it serves, and the write pause of moves between nodes. Skipped with
 * the reason where a swarm cannot be formed.
 */
async function swarmRuntime() {
  log('swarm: create of a cell on a node until it serves, and the write pause of moves between nodes B and C');
  const out = path.join(temp, 'swarm.json');
  const run = measure('swarm', { CELLCTL_BENCH_OUT: out, CELLCTL_BENCH_MOVES: QUICK ? '10' : '40' });
  if (!fs.existsSync(out)) {
    log(`swarm: not measured (${run.status === 0 ? 'skipped: no swarm can be formed here' : `failed:\n${run.stdout}${run.stderr}`})`);
    return;
  }
  results.swarm = JSON.parse(fs.readFileSync(out, 'utf8'));
  log(`swarm: create until serving ${results.swarm.createUntilServingMs.join(', ')} ms; write pause held p99 ${results.swarm.writePause.heldP99Ms} ms`);
  const steps = Object.entries(results.swarm.stepsMs ?? {}).map(([step, t]) => `${step} ${t.p50}`);
  if (steps.length > 0) log(`swarm: a move's steps, p50 ms: ${steps.join(', ')}`);
}

/**
 * The control plane in PostgreSQL beside control.db, in one run (test/bench/control.measure.ts, which
 * starts a throwaway cluster with test/pg.ts). Skipped with the reason where PostgreSQL cannot start.
 */
async function controlPlane() {
  log(`control: ${SCALE_CUSTOMERS} customers loaded from PostgreSQL and control.db, mapping-change lag to 2 routers, throughput with either store`);
  const out = path.join(temp, 'control.json');
  const run = measure('control', { CELLCTL_BENCH_OUT: out, CELLCTL_BENCH_QUICK: QUICK ? '1' : '0', CELLCTL_BENCH_CUSTOMERS: String(SCALE_CUSTOMERS) });
  const figures = fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, 'utf8')) : null;
  if (!figures || figures.skipped) {
    log(`control: not measured (${figures ? `skipped: ${figures.skipped}` : `failed:\n${run.stdout}${run.stderr}`})`);
    return;
  }
  results.control = {
    ...figures,
    against: 'control.db in the same run: same router, same customers and cells, alternating rounds (medians)',
  };
  const { load, mappingLag, throughput } = figures;
  log(
    `control: load ${load.postgres.readyMs} ms (PostgreSQL) vs ${load.sqlite.readyMs} ms (control.db); lag p99 ${mappingLag.postgres.p99Ms} ms vs ${mappingLag.sqlite.p99Ms} ms; throughput ratio ${throughput.ratio}`,
  );
}

// ---------------------------------------------------------------------------------------------
function wallMs(command, args, runs = 10) {
  const times = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    spawnSync(command, args, { env: { ...process.env, NO_COLOR: '1' }, stdio: 'ignore' });
    times.push(performance.now() - started);
  }
  return round(median(times), 1);
}

async function cliTimes() {
  log('CLI wall times and start-up of 3 and 10 cells');
  const ws = await workspace('cli');
  await createCells(ws.home, 'basic', 3);
  cellctl(ws.home, ['start']);
  const baseline = buildBaseline(SHAPE_BASELINE_REF);
  const old = await workspace('cli-baseline', {}, baseline.cli);
  await createCells(old.home, 'basic', 3, 'cell', baseline.cli);
  cellctl(old.home, ['start'], {}, baseline.cli);
  const nodeMs = wallMs(process.execPath, ['-e', '0']);
  const versionMs = wallMs(process.execPath, [CLI, '--version']);
  const statusMs = wallMs(process.execPath, [CLI, '--home', ws.home, 'status', '--json']);
  const before = {
    ref: SHAPE_BASELINE_REF,
    versionMs: wallMs(process.execPath, [baseline.cli, '--version']),
    statusJsonMs: wallMs(process.execPath, [baseline.cli, '--home', old.home, 'status', '--json']),
  };
  cellctl(ws.home, ['stop']);
  cellctl(old.home, ['stop'], {}, baseline.cli);
  const startOf = async (count) => {
    const space = await workspace(`start-${count}`);
    await createCells(space.home, 'basic', count);
    const started = performance.now();
    cellctl(space.home, ['start', '--timeout', '120']);
    const ms = Math.round(performance.now() - started);
    cellctl(space.home, ['stop']);
    return ms;
  };
  results.cli = {
    nodeNoopMs: nodeMs,
    versionMs,
    statusJsonMs: statusMs,
    baseline: before,
    start3CellsMs: await startOf(3),
    start10CellsMs: await startOf(10),
    against: 'node -e 0 on the same machine (median of 10 runs)',
  };
  log(
    `CLI: node -e 0 ${nodeMs} ms, --version ${versionMs} ms (${SHAPE_BASELINE_REF} build ${before.versionMs} ms), status --json ${statusMs} ms (${before.statusJsonMs} ms)`,
  );
}

/** Starts the router of the build at `dist` on the scale workspace until it answers; its RSS then (MiB) and how long it took. */
async function routerAtScale(ws, dist) {
  const started = performance.now();
  const router = spawn(process.execPath, [path.join(dist, 'router', 'main.js')], {
    env: { ...process.env, CELLCTL_HOME: ws.home, CELLCTL_PROC: 'router', CELLCTL_LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${ws.settings.routerPort}/health`;
  try {
    // Bounded: 2 minutes, or the router exiting.
    for (let ready = false; !ready;) {
      if (router.exitCode !== null || performance.now() - started > 120_000) throw new Error('scale: the router did not start within 2 minutes');
      ready = await fetch(url).then(
        (response) => response.ok,
        () => false,
      );
      if (!ready) await sleep(20);
    }
    const readyMs = Math.round(performance.now() - started);
    return { rssMiB: Math.round((await routerStats(ws)).memoryRssBytes / 1048576), readyMs };
  } finally {
    router.kill('SIGKILL');
    await new Promise((resolve) => (router.exitCode !== null ? resolve() : router.once('exit', resolve)));
  }
}

// ---------------------------------------------------------------------------------------------
async function scale() {
  log(`scale: router with ${SCALE_CUSTOMERS} customers over 100 cells`);
  const ws = await workspace('scale');
  const db = new Database(path.join(ws.home, 'control.db'));
  db.transaction(() => {
    for (let i = 0; i < 100; i += 1) {
      db.prepare(
        "INSERT INTO cells (id, template, template_dir, schema_version, port, capacity, health_path, status, created_at, url, data_url) VALUES (?, 'basic', '/none', 1, ?, 1000000, '/health', 'active', 't', ?, ?)",
      ).run(`cell-${i}`, 50_000 + i, `http://127.0.0.1:${50_000 + i}`, `http://127.0.0.1:${51_000 + i}`);
    }
    const insert = db.prepare("INSERT INTO customers (id, cell_id, created_at) VALUES (?, ?, 't')");
    for (let i = 0; i < SCALE_CUSTOMERS; i += 1) insert.run(`customer-${i}`, `cell-${i % 100}`);
  })();
  db.close();
  const now = await routerAtScale(ws, path.join(ROOT, 'dist'));
  const before = await routerAtScale(ws, buildBaseline(SHAPE_BASELINE_REF).dist);
  // Lookup time, in-process, on the same table the router builds.
  const store = ControlStore.open(path.join(ws.home, 'control.db'));
  const table = new MappingTable('hash');
  table.refresh(store);
  store.close();
  const lookups = 1_000_000;
  const probe = Array.from({ length: 1000 }, (_, i) => `customer-${(i * 7919) % SCALE_CUSTOMERS}`);
  const t0 = performance.now();
  let hits = 0;
  for (let i = 0; i < lookups; i += 1) if (table.lookup(probe[i % 1000])) hits += 1;
  const nsPerLookup = round(((performance.now() - t0) * 1e6) / lookups, 0);
  const unmapped = performance.now();
  for (let i = 0; i < 100_000; i += 1) table.lookup(`new-${i}`);
  const nsPerPlacement = round(((performance.now() - unmapped) * 1e6) / 100_000, 0);
  results.scale = {
    customers: SCALE_CUSTOMERS,
    cells: 100,
    routerRssMiB: now.rssMiB,
    routerReadyMs: now.readyMs,
    baseline: { ref: SHAPE_BASELINE_REF, routerRssMiB: before.rssMiB, routerReadyMs: before.readyMs },
    nsPerMappedLookup: nsPerLookup,
    nsPerHashPlacement: nsPerPlacement,
    lookupsChecked: hits,
    against: 'in-memory Map lookup; placement = rendezvous hash over 100 cells',
  };
  log(
    `scale: RSS ${now.rssMiB} MiB (${SHAPE_BASELINE_REF} build ${before.rssMiB} MiB), ready in ${now.readyMs} ms (${before.readyMs} ms), ${nsPerLookup} ns per mapped lookup`,
  );
}

// ---------------------------------------------------------------------------------------------
/** The router's /admin/stats. */
async function routerStats(ws) {
  const token = fs.readFileSync(path.join(ws.home, 'secrets', 'admin-token'), 'utf8').trim();
  return (await fetch(`http://127.0.0.1:${ws.settings.routerAdminPort}/admin/stats`, { headers: { authorization: `Bearer ${token}` } })).json();
}

/** Issue 22: a client that keeps sending on one connection is served like a keep-alive one, and 50 of them do not fill the router's memory. */
async function pipelining() {
  log('pipelining: one client that keeps sending vs a keep-alive client; router RSS with 50 of them');
  const ws = await workspace('pipelining');
  await createCells(ws.home, 'ecommerce', 1);
  cellctl(ws.home, ['start']);
  const port = ws.settings.routerPort;
  await fetch(`http://127.0.0.1:${port}/api/customers/bench`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Bench', email: 'bench@example.com' }),
  });
  const target = '/api/customers/bench';
  await keepAliveRate(port, target, 1); // warm-up: JIT, cell connections
  await pipeliningRate(port, target, 1);
  const rounds = { keepAlive: [], pipelining: [] };
  for (let i = 0; i < ROUNDS; i += 1) {
    rounds.keepAlive.push(await keepAliveRate(port, target, SECONDS));
    rounds.pipelining.push(await pipeliningRate(port, target, SECONDS));
  }
  const mid = (list) => [...list].sort((a, b) => a.rps - b.rps)[Math.floor(list.length / 2)];
  const keepAlive = mid(rounds.keepAlive);
  const piped = mid(rounds.pipelining);
  const ratio = round(piped.rps / keepAlive.rps);
  log(`pipelining: ${piped.rps}/s vs keep-alive ${keepAlive.rps}/s (ratio ${ratio}, goal ≥ 0.8)`);
  const rssBefore = (await routerStats(ws)).memoryRssBytes;
  let peak = rssBefore;
  let limitedSeen = 0;
  let running = true;
  // Sampled every 100 ms while the clients run (bounded by their own deadlines).
  const sampler = (async () => {
    while (running) {
      const stats = await routerStats(ws);
      peak = Math.max(peak, stats.memoryRssBytes);
      limitedSeen = Math.max(limitedSeen, stats.pipelineLimitedConnections);
      await sleep(100);
    }
  })();
  const many = await Promise.all(Array.from({ length: 50 }, () => pipeliningRate(port, target, SECONDS)));
  running = false;
  await sampler;
  const after = await routerStats(ws);
  cellctl(ws.home, ['stop']);
  const MiB = 1024 * 1024;
  results.pipelining = {
    keepAlive,
    pipelining: piped,
    ratio,
    ratiosPerRound: rounds.pipelining.map((each, i) => round(each.rps / rounds.keepAlive[i].rps)),
    clients50: {
      rssBeforeMiB: Math.round(rssBefore / MiB),
      rssPeakMiB: Math.round(peak / MiB),
      rssAfterMiB: Math.round(after.memoryRssBytes / MiB),
      answersPerSecond: many.reduce((sum, each) => sum + each.rps, 0),
      notOk: many.reduce((sum, each) => sum + each.notOk, 0),
      mostLimitedAtOnce: limitedSeen,
      pipelinePauses: after.pipelinePauses,
    },
    against:
      "one raw keep-alive connection (a request, its whole answer, the next) to the same cell through the same router; RSS from the router's /admin/stats, sampled every 100 ms",
    seconds: SECONDS,
    rounds: ROUNDS,
  };
  log(`pipelining: 50 clients, router RSS ${results.pipelining.clients50.rssBeforeMiB} → peak ${results.pipelining.clients50.rssPeakMiB} MiB (goal < 150 MB)`);
}

// ---------------------------------------------------------------------------------------------
// ---------------------------------------------------------------------------------------------
/** A big customer moves while other customers of both cells keep reading and writing. */
async function bystanders() {
  const orders = QUICK ? 20_000 : 100_000;
  log(`bystanders: moving a customer with ${orders} orders while others use both cells`);
  const ws = await workspace('bystanders');
  await createCells(ws.home, 'ecommerce', 2);
  const seed = new Database(path.join(ws.home, 'cell-1', 'data.db'));
  seed.transaction(() => {
    seed.prepare("INSERT INTO customers VALUES ('whale', 'whale@example.com', 'Whale', NULL, 't', 't', 'cell-1')").run();
    const series = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${orders})`;
    seed.exec(`${series} INSERT INTO orders SELECT 'w-' || i, 'whale', 'fulfilled', 900, 't', 't', 'cell-1' FROM n`);
    seed.exec(`${series} INSERT INTO order_items SELECT 'w-' || i, 'whale', 'sku-cable', 1, 900, 't' FROM n`);
    seed.exec(`${series} INSERT INTO order_events SELECT 'w-' || i || '-e', 'w-' || i, 'whale', 'order.processing', 'done', 2, 0, 't' FROM n`);
    seed.exec(`${series} INSERT INTO notifications SELECT 'w-' || i || '-n', 'whale', 'w-' || i, 'email', 'shipped', 't' FROM n`);
  })();
  seed.close();
  cellctl(ws.home, ['assign', 'customer', 'whale', '--cell', 'cell-1']);
  cellctl(ws.home, ['start']);
  const router = `http://127.0.0.1:${ws.settings.routerPort}`;
  const others = Array.from({ length: 20 }, (_, i) => `by-${i}`);
  for (const id of others)
    await fetch(`${router}/api/customers/${id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: id, email: `${id}@example.com` }),
    }).then((r) => r.text());
  let phase = 'before';
  const samples = { before: [], during: [] };
  const failures = { before: 0, during: 0 };
  let stop = false;
  const client = async (worker) => {
    for (let n = 0; !stop && n < 1_000_000; n += 1) {
      const id = others[(worker * 7 + n) % others.length];
      const started = performance.now();
      const response =
        n % 2
          ? await fetch(`${router}/api/customers/${id}/cart/items`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ product_id: 'sku-cable', quantity: 1 }),
            })
          : await fetch(`${router}/api/customers/${id}/cart`);
      await response.text();
      const at = phase;
      if (at === 'after') continue;
      if (response.status >= 500) failures[at] += 1;
      else samples[at].push(performance.now() - started);
    }
  };
  const clients = [client(0), client(1), client(2), client(3)];
  await sleep(3_000);
  phase = 'during';
  const moveStarted = performance.now();
  const moved = await new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, '--home', ws.home, 'migrate', 'customer', 'whale', '--to', 'cell-2', '--json'], {
      env: { ...process.env, NO_COLOR: '1', CI: 'true' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('exit', (code) => resolve(code === 0 ? JSON.parse(out) : null));
  });
  const moveMs = performance.now() - moveStarted;
  phase = 'after';
  stop = true;
  await Promise.all(clients);
  cellctl(ws.home, ['stop']);
  if (!moved) throw new Error('the big customer could not be moved');
  const pct = (values, q) => round([...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))] ?? 0);
  results.bystanders = {
    rowsMoved: moved.verification.reduce((sum, table) => sum + table.targetRows, 0),
    moveSeconds: round(moveMs / 1000),
    before: { requests: samples.before.length, failures: failures.before, p50Ms: pct(samples.before, 0.5), p99Ms: pct(samples.before, 0.99) },
    during: {
      requests: samples.during.length,
      failures: failures.during,
      p50Ms: pct(samples.during, 0.5),
      p99Ms: pct(samples.during, 0.99),
      maxMs: pct(samples.during, 1),
    },
    against: 'the same clients (4, reads and writes of 20 other customers in both cells, through the router) in the 3 s before the move',
  };
  log(
    `bystanders: ${results.bystanders.rowsMoved} rows moved in ${results.bystanders.moveSeconds} s; others' p99 ${results.bystanders.before.p99Ms} → ${results.bystanders.during.p99Ms} ms, failures ${failures.during}`,
  );
}

/** Seeds customer `id` in a cell's data.db with about `rows` rows over the customer tables (a customer row, and orders of 4 rows each). */
function seedRows(file, id, rows, cellId) {
  const orders = Math.max(1, Math.round((rows - 1) / 4));
  const seed = new Database(file);
  seed.transaction(() => {
    seed.prepare("INSERT INTO customers VALUES (?, ?, ?, NULL, 't', 't', ?)").run(id, `${id}@example.com`, id, cellId);
    const series = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${orders})`;
    const o = `'${id}-' || i`;
    seed.exec(`${series} INSERT INTO orders SELECT ${o}, '${id}', 'fulfilled', 900, 't', 't', '${cellId}' FROM n`);
    seed.exec(`${series} INSERT INTO order_items SELECT ${o}, '${id}', 'sku-cable', 1, 900, 't' FROM n`);
    seed.exec(`${series} INSERT INTO order_events SELECT ${o} || '-e', ${o}, '${id}', 'order.processing', 'done', 2, 0, 't' FROM n`);
    seed.exec(`${series} INSERT INTO notifications SELECT ${o} || '-n', '${id}', ${o}, 'email', 'shipped', 't' FROM n`);
  })();
  seed.close();
  return 1 + orders * 4;
}

/** `cellctl migrate customer … --json` as a child process: its report, or null when it failed. */
function moveByCli(home, args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, '--home', home, 'migrate', 'customer', ...args, '--json'], {
      env: { ...process.env, NO_COLOR: '1', CI: 'true' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('exit', (code) => resolve(code === 0 ? JSON.parse(out) : null));
  });
}

const pct = (values, q) => round([...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))] ?? 0);

/**
 * One online move of a customer of `rows` rows while a writer adds to its cart 50 times a second and
 * 4 clients read and write 20 other customers of both cells: the moving customer's pause at the
 * router (held p99 and max), and the others' latency before and during the move.
 */
async function onlineMoveOfSize(rows) {
  const ws = await workspace(`online-${rows}`);
  await createCells(ws.home, 'ecommerce', 2);
  const seeded = seedRows(path.join(ws.home, 'cell-1', 'data.db'), 'whale', rows, 'cell-1');
  cellctl(ws.home, ['assign', 'customer', 'whale', '--cell', 'cell-1']);
  cellctl(ws.home, ['start']);
  const router = `http://127.0.0.1:${ws.settings.routerPort}`;
  const post = (url, body) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const others = Array.from({ length: 20 }, (_, i) => `by-${i}`);
  for (const id of others) await post(`${router}/api/customers/${id}`, { name: id, email: `${id}@example.com` }).then((r) => r.text());
  let phase = 'before';
  let stop = false;
  const samples = { before: [], during: [], after: [] };
  const failures = { before: 0, during: 0, after: 0 };
  const client = async (worker) => {
    for (let n = 0; !stop && n < 1_000_000; n += 1) {
      const id = others[(worker * 7 + n) % others.length];
      const at = phase;
      const started = performance.now();
      const response =
        n % 2
          ? await post(`${router}/api/customers/${id}/cart/items`, { product_id: 'sku-cable', quantity: 1 })
          : await fetch(`${router}/api/customers/${id}/cart`);
      await response.text();
      if (response.status >= 500) failures[at] += 1;
      else samples[at].push(performance.now() - started);
    }
  };
  // The moving customer's own writer: one write every 20 ms, its latency and its failures.
  const whale = { latencies: [], failures: 0 };
  const writer = async () => {
    const skus = ['sku-keyboard', 'sku-mouse', 'sku-monitor', 'sku-cable', 'sku-stand', 'sku-headset'];
    for (let n = 0; !stop && n < 1_000_000; n += 1) {
      const next = performance.now() + 20;
      const started = performance.now();
      const response = await post(`${router}/api/customers/whale/cart/items`, { product_id: skus[n % skus.length], quantity: 1 });
      await response.text();
      if (response.status >= 500) whale.failures += 1;
      else if (phase === 'during') whale.latencies.push(performance.now() - started);
      await sleep(Math.max(0, next - performance.now()));
    }
  };
  const clients = [client(0), client(1), client(2), client(3), writer()];
  await sleep(3_000);
  phase = 'during';
  const moved = await moveByCli(ws.home, ['whale', '--to', 'cell-2']);
  phase = 'after';
  stop = true;
  await Promise.all(clients);
  const stats = await (
    await fetch(`http://127.0.0.1:${ws.settings.routerAdminPort}/admin/stats`, {
      headers: { authorization: `Bearer ${fs.readFileSync(path.join(ws.home, 'secrets', 'admin-token'), 'utf8').trim()}` },
    })
  ).json();
  cellctl(ws.home, ['stop']);
  if (!moved) throw new Error(`the customer of ${rows} rows could not be moved`);
  return {
    rows: seeded,
    copy: moved.copy.mode,
    moveSeconds: round(moved.tookMs / 1000),
    requestsHeldMs: moved.requestsHeldMs,
    heldRequests: stats.fenceHolds.count,
    heldP50Ms: stats.fenceHolds.p50Ms,
    heldP99Ms: stats.fenceHolds.p99Ms,
    heldMaxMs: stats.fenceHolds.maxMs,
    writerP99Ms: pct(whale.latencies, 0.99),
    writerMaxMs: pct(whale.latencies, 1),
    writerFailures: whale.failures,
    stepsMs: moved.stepsMs,
    others: {
      before: { requests: samples.before.length, failures: failures.before, p99Ms: pct(samples.before, 0.99) },
      during: { requests: samples.during.length, failures: failures.during, p99Ms: pct(samples.during, 0.99), maxMs: pct(samples.during, 1) },
    },
  };
}

/** Online moves by customer size (issue 27): the write pause must not grow with the customer. */
async function onlineMoves() {
  const sizes = QUICK ? [1_000, 20_000, 100_000] : [1_000, 100_000, 1_000_000];
  const bySize = [];
  for (const rows of sizes) {
    log(`online moves: a customer of ${rows} rows, written 50 times a second, while others use both cells`);
    const figure = await onlineMoveOfSize(rows);
    log(
      `online move of ${figure.rows} rows (${figure.copy}): ${figure.moveSeconds} s, held p99 ${figure.heldP99Ms} ms, max ${figure.heldMaxMs} ms; writer p99 ${figure.writerP99Ms} ms; others' p99 ${figure.others.before.p99Ms} → ${figure.others.during.p99Ms} ms, failures ${figure.others.during.failures}`,
    );
    bySize.push(figure);
  }
  results.onlineMoves = {
    bySize,
    against:
      "held: time each of the moving customer's requests spent held by the fence at the router; others: 4 clients (reads and writes of 20 other customers of both cells, through the router) in the 3 s before the move",
  };
}

/** The control part's lines: each of issue 14's goals, PostgreSQL beside control.db. */
function controlRows(c) {
  const met = (ok) => (ok ? 'met' : 'NOT met');
  return [
    [
      `router load of ${c.load.customers} customers`,
      `${c.load.postgres.readyMs} ms from PostgreSQL`,
      `control.db ${c.load.sqlite.readyMs} ms; spawn → /health reports all (goal < 5 s from PostgreSQL: ${met(c.load.met)})`,
    ],
    [
      'mapping change → 2 routers p50 / p99 / max',
      `${c.mappingLag.postgres.p50Ms} / ${c.mappingLag.postgres.p99Ms} / ${c.mappingLag.postgres.maxMs} ms on PostgreSQL`,
      `control.db ${c.mappingLag.sqlite.p50Ms} / ${c.mappingLag.sqlite.p99Ms} / ${c.mappingLag.sqlite.maxMs} ms; ${c.mappingLag.postgres.changes} changes each, ${c.mappingLag.postgres.over100Ms ?? '?'} over 100 ms (goal p99 < 100 ms: ${met(c.mappingLag.met)})`,
    ],
    [
      'router GET throughput, PostgreSQL store',
      `${c.throughput.postgres.rps}/s vs control.db ${c.throughput.sqlite.rps}/s`,
      `ratio ${c.throughput.ratio}, rounds ${c.throughput.ratiosPerRound.join(', ')} (goal: equal, i.e. ratio ≥ 0.9: ${met(c.throughput.met)})`,
    ],
  ];
}

function render(r) {
  const rows = [
    [
      'router GET throughput',
      `${r.routerVsDirect.GET.router.rps}/s vs direct ${r.routerVsDirect.GET.direct.rps}/s`,
      `ratio ${r.routerVsDirect.GET.throughputRatio} (goal ≥ 0.6); plain Node proxy ${r.routerVsDirect.GET.plainProxyRatio}`,
    ],
    [
      'router GET latency p50 / p99',
      `${r.routerVsDirect.GET.router.p50Ms} / ${r.routerVsDirect.GET.router.p99Ms} ms`,
      `direct ${r.routerVsDirect.GET.direct.p50Ms} / ${r.routerVsDirect.GET.direct.p99Ms} ms`,
    ],
    [
      'router added median latency (1 client)',
      `${r.routerVsDirect.sequentialGet.addedMedianMs} ms`,
      `router ${r.routerVsDirect.sequentialGet.router.p50Ms} ms vs direct ${r.routerVsDirect.sequentialGet.direct.p50Ms} ms (goal < 1 ms)`,
    ],
    [
      'router POST throughput',
      `${r.routerVsDirect.POST.router.rps}/s vs direct ${r.routerVsDirect.POST.direct.rps}/s`,
      `ratio ${r.routerVsDirect.POST.throughputRatio}; plain Node proxy ${r.routerVsDirect.POST.plainProxyRatio}`,
    ],
    [
      'router POST latency p50 / p99',
      `${r.routerVsDirect.POST.router.p50Ms} / ${r.routerVsDirect.POST.router.p99Ms} ms`,
      `direct ${r.routerVsDirect.POST.direct.p50Ms} / ${r.routerVsDirect.POST.direct.p99Ms} ms`,
    ],
    ...(r.routerVsDirect.accessLog
      ? [
          [
            'router GET with the access log on',
            `${r.routerVsDirect.accessLog.onPerSecond}/s vs off ${r.routerVsDirect.accessLog.offPerSecond}/s`,
            `ratio ${r.routerVsDirect.accessLog.ratio}, rounds ${r.routerVsDirect.accessLog.ratiosPerRound.join(', ')} (on by default only if ≥ 0.97)`,
          ],
        ]
      : []),
    ...(r.routerVsDirect.cpu?.nginx
      ? [
          [
            'router CPU per proxied GET',
            `${r.routerVsDirect.cpu.router.usPerRequest} µs vs nginx ${r.routerVsDirect.cpu.nginx.usPerRequest} µs`,
            `ratio ${r.routerVsDirect.cpu.cpuRatioToNginx} (goal ≤ 1: ${r.routerVsDirect.cpu.cpuRatioToNginx <= 1 ? 'met' : 'NOT met'}); ${r.routerVsDirect.cpu.baselineRef} build ${r.routerVsDirect.cpu.baselineRouter.usPerRequest} µs`,
          ],
          [
            'router throughput vs nginx',
            `${r.routerVsDirect.cpu.router.rps}/s vs nginx ${r.routerVsDirect.cpu.nginx.rps}/s`,
            `ratio ${r.routerVsDirect.cpu.throughputRatioToNginx} (goal ≥ 1: ${r.routerVsDirect.cpu.throughputRatioToNginx >= 1 ? 'met' : 'NOT met'}); ${r.routerVsDirect.cpu.baselineRef} build ${r.routerVsDirect.cpu.baselineRouter.rps}/s`,
          ],
        ]
      : []),
    [
      'write pause (held requests) p50 / p99',
      `${r.writePause.heldP50Ms} / ${r.writePause.heldP99Ms} ms`,
      `${r.writePause.heldRequests} held over ${r.writePause.moves} moves (goal p99 < 50 ms)`,
    ],
    ['fence window p50 / p99', `${r.writePause.fenceWindowP50Ms} / ${r.writePause.fenceWindowP99Ms} ms`, 'fence up → fence down, per move'],
    [
      'drain rate',
      `${r.drain.cellctlPerSecond} customers/s`,
      `${r.drain.baselineRef} build ${r.drain.baselinePerSecond}/s (ratio ${r.drain.ratioToBaseline}, goal ≥ 0.8; best of rounds ${r.drain.rounds?.now.join('/') ?? '?'} vs ${r.drain.rounds?.baseline.join('/') ?? '?'}); bare loop ${r.drain.bareLoopPerSecond}/s`,
    ],
    [
      'cellctl --version',
      `${r.cli.versionMs} ms`,
      `node -e 0: ${r.cli.nodeNoopMs} ms (${round(r.cli.versionMs / r.cli.nodeNoopMs)}×, goal ≤ 1.3×)${r.cli.baseline ? `; ${r.cli.baseline.ref} build ${r.cli.baseline.versionMs} ms` : ''}`,
    ],
    [
      'cellctl status --json (3 cells)',
      `${r.cli.statusJsonMs} ms`,
      `node -e 0: ${r.cli.nodeNoopMs} ms (${round(r.cli.statusJsonMs / r.cli.nodeNoopMs)}×, goal ≤ 2×)${r.cli.baseline ? `; ${r.cli.baseline.ref} build ${r.cli.baseline.statusJsonMs} ms` : ''}`,
    ],
    ['cellctl start, 3 / 10 cells', `${r.cli.start3CellsMs} / ${r.cli.start10CellsMs} ms`, 'until every process is healthy'],
    ...(r.bystanders
      ? [
          [
            'others while a big customer moves',
            `p99 ${r.bystanders.before.p99Ms} → ${r.bystanders.during.p99Ms} ms, ${r.bystanders.during.failures} failed`,
            `${r.bystanders.rowsMoved} rows moved in ${r.bystanders.moveSeconds} s; ${r.bystanders.during.requests} requests of other customers meanwhile`,
          ],
        ]
      : []),
    ...(r.onlineMoves
      ? r.onlineMoves.bySize.map((f) => [
          `online move, ${f.rows} rows`,
          `held p99 ${f.heldP99Ms} ms, max ${f.heldMaxMs} ms`,
          `${f.copy} copy, ${f.moveSeconds} s, ${f.heldRequests} held; writer (50/s) p99 ${f.writerP99Ms} ms, ${f.writerFailures} failed; others p99 ${f.others.before.p99Ms} → ${f.others.during.p99Ms} ms, ${f.others.during.failures} failed (goals: held p99 < 50 ms, max < 500 ms; others within 2×)`,
        ])
      : []),
    ...(r.drainBeforeOnline
      ? [
          [
            'drain through the CLI',
            `${r.drainBeforeOnline.perSecond} customers/s`,
            `${r.drainBeforeOnline.baselineRef} build (before online moves) ${r.drainBeforeOnline.baselinePerSecond}/s: ratio ${r.drainBeforeOnline.ratio} (goal ≥ 0.95; best of ${r.drainBeforeOnline.rounds.now.join('/')} vs ${r.drainBeforeOnline.rounds.before.join('/')})`,
          ],
        ]
      : []),
    ...(r.hosts
      ? [
          [
            'across hosts (namespaces)',
            `drain ${r.hosts.drain.customersPerSecond} customers/s`,
            `write pause held p50 ${r.hosts.writePause.heldP50Ms} ms, p99 ${r.hosts.writePause.heldP99Ms} ms (nearest rank), max ${r.hosts.writePause.heldMaxMs} ms over ${r.hosts.writePause.heldRequests} held requests (goals ≥ 300/s, p99 < 20 ms)`,
          ],
        ]
      : []),
    ...(r.engine
      ? [
          [
            'router in a container (docker runtime)',
            `${r.engine.routerGet.containerPerSecond}/s vs on the host ${r.engine.routerGet.hostPerSecond}/s`,
            `ratio ${r.engine.routerGet.ratio}, rounds ${r.engine.routerGet.rounds.container.join('/')} vs ${r.engine.routerGet.rounds.host.join('/')} (goal ≥ 0.9: ${r.engine.routerGet.ratio >= 0.9 ? 'met' : 'NOT met'})`,
          ],
          ['docker cell, create until serving', `${r.engine.createUntilServingMs} ms`, 'create + start of one ecommerce cell until the router routes to it'],
        ]
      : []),
    ...(r.swarm
      ? [
          [
            'swarm cell, create until serving',
            `${r.swarm.createUntilServingMs.join(', ')} ms`,
            `create --node + start of an ecommerce cell on B, then C, until the router on A routes to it (goal < 10 s: ${Math.max(...r.swarm.createUntilServingMs) < 10_000 ? 'met' : 'NOT met'})`,
          ],
          [
            'swarm, moves between nodes',
            `write pause held p99 ${r.swarm.writePause.heldP99Ms} ms`,
            `p50 ${r.swarm.writePause.heldP50Ms} ms, max ${r.swarm.writePause.heldMaxMs} ms over ${r.swarm.writePause.heldRequests} held requests, ${r.swarm.writePause.moves} moves B ⇄ C under writes through A (goal p99 < 20 ms: ${r.swarm.writePause.heldP99Ms < 20 ? 'met' : 'NOT met'})`,
          ],
        ]
      : []),
    [
      `router with ${r.scale.customers} customers`,
      `${r.scale.routerRssMiB} MiB RSS, ready in ${r.scale.routerReadyMs} ms`,
      `${r.scale.nsPerMappedLookup} ns per lookup (goal ≤ 300 MB: ${r.scale.routerRssMiB * 1.048576 <= 300 ? 'met' : 'NOT met'})${r.scale.baseline ? `; ${r.scale.baseline.ref} build ${r.scale.baseline.routerRssMiB} MiB` : ''}`,
    ],
    ...(r.control ? controlRows(r.control) : []),
    ...(r.pipelining
      ? [
          [
            'pipelining client (1 connection)',
            `${r.pipelining.pipelining.rps}/s vs keep-alive ${r.pipelining.keepAlive.rps}/s`,
            `ratio ${r.pipelining.ratio}, rounds ${r.pipelining.ratiosPerRound.join(', ')} (goal ≥ 0.8: ${r.pipelining.ratio >= 0.8 ? 'met' : 'NOT met'})`,
          ],
          [
            'router RSS, 50 pipelining clients',
            `${r.pipelining.clients50.rssBeforeMiB} → peak ${r.pipelining.clients50.rssPeakMiB} MiB`,
            `${r.pipelining.clients50.answersPerSecond} answers/s in all, ${r.pipelining.clients50.notOk} not 200 (goal < 150 MB: ${r.pipelining.clients50.rssPeakMiB * 1.048576 < 150 ? 'met' : 'NOT met'})`,
          ],
        ]
      : []),
  ];
  const width = rows.reduce((max, row) => Math.max(max, row[0].length), 0);
  const valueWidth = rows.reduce((max, row) => Math.max(max, row[1].length), 0);
  return rows.map((row) => `${row[0].padEnd(width)}  ${row[1].padEnd(valueWidth)}  ${row[2]}`).join('\n');
}

try {
  results.machine = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    quick: QUICK,
  };
  if (wanted('router')) await routerVsDirect();
  if (wanted('pause')) await migrationPause();
  if (wanted('drain')) await bulkDrain();
  if (wanted('bystanders')) await bystanders();
  if (wanted('online')) await onlineMoves();
  if (wanted('online-drain')) await drainBeforeOnline();
  if (wanted('hosts')) await acrossHosts();
  if (wanted('cli')) await cliTimes();
  if (wanted('scale')) await scale();
  if (wanted('control')) await controlPlane();
  if (wanted('engine')) await dockerRuntime();
  if (wanted('swarm')) await swarmRuntime();
  if (wanted('pipelining')) await pipelining();
  const out = path.join(ROOT, 'test', 'bench', QUICK ? 'latest-quick.json' : 'latest.json');
  // --only replaces just its parts of the last full run's figures (each part keeps its own date).
  const previous = ONLY !== null && fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, 'utf8')) : {};
  const merged = { ...previous, ...results };
  for (const part of Object.keys(results)) if (part !== 'machine') merged[part] = { ...results[part], measuredAt: results.machine.date };
  fs.writeFileSync(out, JSON.stringify(merged, null, 2) + '\n');
  const complete = ['routerVsDirect', 'writePause', 'drain', 'cli', 'scale'].every((part) => merged[part]);
  process.stdout.write((complete ? render(merged) : JSON.stringify(results, null, 2)) + '\n');
  log(`figures written to ${path.relative(process.cwd(), out)}`);
} finally {
  for (const { home, cli } of homes) spawnSync(process.execPath, [cli, '--home', home, 'stop', '--timeout', '5'], { stdio: 'ignore' });
  for (const dir of baselineDirs) spawnSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', dir], { stdio: 'ignore' });
  fs.rmSync(temp, { recursive: true, force: true });
}
