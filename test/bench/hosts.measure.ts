// Part of `npm run bench` (not a test): moves across simulated hosts. The router and control store on
// host A; two ecommerce cells on B and C (`cellctl serve` with their data API, registered by URL).
// Measures the drain of DRAIN customers (87 rows each) from B to C, and the write pause (how long
// requests were held by the router's fence) of single moves between B and C under writes through A.
// Run by test/bench/run.js through vitest (for the TypeScript harness); writes its figures as JSON
// to $CELLCTL_BENCH_OUT.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, it } from 'vitest';
import { ControlStore } from '../../src/control/store.js';
import { fenceHolds } from './fence-holds.js';
import { CLI, cleanup, tempDir, waitFor } from '../helpers.js';
import { type Host, type Hosts, hostsUnavailable, makeHosts, type RunResult } from '../hosts/netns.js';

const DRAIN = Number(process.env.CELLCTL_BENCH_DRAIN ?? 2000);
const MOVES = Number(process.env.CELLCTL_BENCH_MOVES ?? 100);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const WRITER = path.join(HERE, '..', 'hosts', 'writer.mjs');
const ROUTER_PORT = 8000;
const CELL_PORT = 8100;
const DATA_PORT = 8101;
const why = hostsUnavailable();

let net: Hosts | undefined;
let home = '';
afterAll(async () => {
  if (net && home) await net.hosts.a!.run(process.execPath, [CLI, '--home', home, 'stop', '--timeout', '5'], { timeoutMs: 60_000 }).catch(() => undefined);
  net?.teardown();
  await cleanup();
});

function seedShopper(db: Database.Database, customerId: string, cellId: string): void {
  db.prepare("INSERT INTO customers VALUES (?, ?, ?, NULL, 't', 't', ?)").run(customerId, `${customerId}@example.com`, `Customer ${customerId}`, cellId);
  for (const sku of ['sku-keyboard', 'sku-mouse', 'sku-monitor', 'sku-cable', 'sku-stand', 'sku-headset'])
    db.prepare("INSERT INTO cart_items VALUES (?, ?, 1, 't')").run(customerId, sku);
  for (let i = 0; i < 20; i += 1) {
    const order = `${customerId}-o${i}`;
    db.prepare("INSERT INTO orders VALUES (?, ?, 'fulfilled', 900, 't', 't', ?)").run(order, customerId, cellId);
    db.prepare("INSERT INTO order_items VALUES (?, ?, 'sku-cable', 1, 900, 't')").run(order, customerId);
    db.prepare("INSERT INTO order_events VALUES (?, ?, ?, 'order.processing', 'done', 2, 0, 't')").run(`${order}-e`, order, customerId);
    db.prepare("INSERT INTO notifications VALUES (?, ?, ?, 'email', 'shipped', 't')").run(`${order}-n`, customerId, order);
  }
}

it.skipIf(why !== null)('measures moves across hosts', { timeout: 1_200_000 }, async () => {
  net = makeHosts(['a', 'b', 'c']);
  const { a, b, c } = net.hosts as Record<'a' | 'b' | 'c', Host>;
  const root = tempDir();
  home = path.join(root, 'a', 'ws');
  const env = { ...process.env, NO_COLOR: '1', CI: 'true' };
  const cellctl = async (args: string[]): Promise<RunResult> => {
    const result = await a.run(process.execPath, [CLI, '--home', home, ...args], { env, timeoutMs: 900_000 });
    if (result.code !== 0) throw new Error(`cellctl ${args.join(' ')} exited ${result.code}\n${result.stderr}`);
    return result;
  };
  const disk = (host: Host) => path.join(root, host.name);
  await cellctl(['init', '--router-port', String(ROUTER_PORT), '--template', 'ecommerce']);
  await cellctl(['config', 'set', 'limits.rateLimit', JSON.stringify({ requests: 1_000_000, windowSeconds: 1 })]);
  for (const host of [b, c]) {
    fs.mkdirSync(disk(host), { recursive: true });
    fs.writeFileSync(path.join(disk(host), 'data.token'), `token-of-${host.name}-${'x'.repeat(24)}\n`, { mode: 0o600 });
    host.exec(
      process.execPath,
      [CLI, 'serve', '--template', 'ecommerce', '--data-port', String(DATA_PORT), '--data-host', host.ip, '--token-file', path.join(disk(host), 'data.token')],
      {
        env: { ...env, CELL_ID: host.name, PORT: String(CELL_PORT), CELL_HOST: host.ip, CELL_DB: path.join(disk(host), 'data.db'), CELL_HOME: disk(host) },
        stdio: 'ignore',
      },
    );
  }
  const probe = (url: string) =>
    a.run(process.execPath, ['-e', `fetch(${JSON.stringify(url)}).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))`], { timeoutMs: 10_000 });
  for (const host of [b, c]) await waitFor(`cell ${host.name}`, async () => (await probe(`http://${host.ip}:${CELL_PORT}/health`)).code === 0, 60_000);
  await cellctl(['start', 'router']);
  for (const host of [b, c]) {
    const where = `http://${host.ip}`;
    await cellctl([
      'cells',
      'register',
      host.name,
      '--template',
      'ecommerce',
      '--url',
      `${where}:${CELL_PORT}`,
      '--data-url',
      `${where}:${DATA_PORT}`,
      '--token-file',
      path.join(disk(host), 'data.token'),
    ]);
  }

  // The drain: DRAIN customers seeded on B's disk and pinned to B, moved to C.
  const ids = Array.from({ length: DRAIN }, (_, i) => `d-${i}`);
  const seed = new Database(path.join(disk(b), 'data.db'));
  seed.pragma('busy_timeout = 5000');
  seed.transaction(() => ids.forEach((id) => seedShopper(seed, id, 'b')))();
  seed.close();
  const store = ControlStore.open(path.join(home, 'control.db'));
  store.pinCustomers(ids.map((customerId) => ({ customerId, cellId: 'b' })));
  store.close();
  const drained = JSON.parse((await cellctl(['drain', 'b', '--json'])).stdout) as { moved: number; seconds: number; customersPerSecond: number };
  await cellctl(['activate', 'b']);

  // The write pause, measured as on one host (run.js's migrationPause): a customer of 87 rows moved
  // back and forth between B and C while a writer on A adds to its cart (an upsert: the customer
  // keeps its size, so every move copies the same rows).
  const mover = new Database(path.join(disk(b), 'data.db'));
  mover.pragma('busy_timeout = 5000');
  mover.transaction(() => seedShopper(mover, 'mover', 'b'))();
  mover.close();
  await cellctl(['assign', 'customer', 'mover', '--cell', 'b']);
  const stopFile = path.join(root, 'stop-writer');
  const writer = a.exec(process.execPath, [WRITER, `http://127.0.0.1:${ROUTER_PORT}`, 'mover', stopFile, '1000000', '600000', '0'], { env });
  let last = (await cellctl(['route', 'mover', '--json'])).stdout;
  for (let i = 0; i < MOVES; i += 1) {
    const at = (JSON.parse(last) as { cell: string }).cell;
    await cellctl(['migrate', 'customer', 'mover', '--to', at === 'b' ? 'c' : 'b']);
    last = (await cellctl(['route', 'mover', '--json'])).stdout;
  }
  fs.writeFileSync(stopFile, '');
  await new Promise((resolve) => writer.once('exit', resolve));
  const holds = await fenceHolds(a, `http://127.0.0.1:${ROUTER_PORT + 1}`, home);
  const figures = {
    hosts: 'network namespaces joined by a bridge (test/hosts/netns.ts): router and control store on A, cells on B and C',
    drain: { customers: drained.moved, rowsPerCustomer: 87, seconds: drained.seconds, customersPerSecond: drained.customersPerSecond },
    writePause: { moves: MOVES, rowsPerCustomer: 87, heldRequests: holds.count, heldP50Ms: holds.p50Ms, heldP99Ms: holds.p99Ms, heldMaxMs: holds.maxMs },
  };
  if (process.env.CELLCTL_BENCH_OUT) fs.writeFileSync(process.env.CELLCTL_BENCH_OUT, JSON.stringify(figures));
  console.log(JSON.stringify(figures));
});
