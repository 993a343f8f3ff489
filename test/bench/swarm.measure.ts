// Part of `npm run bench` (not a test): the swarm runtime across simulated hosts (test/engine/swarm.ts:
// A the manager with PostgreSQL and the routers, B and C workers). Measures how long a cell takes
// from `create --node B` until it serves (create + start, until the router routes to it), and the
// write pause of single moves of one customer between B and C while a writer on A writes through the
// router (the router's fence holds, from its admin stats). Writes its figures as JSON to $CELLCTL_BENCH_OUT.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, it } from 'vitest';
import { fenceHolds } from './fence-holds.js';
import { CLI, cleanup, tempDir } from '../helpers.js';
import type { RunResult } from '../hosts/netns.js';
import { operatorEnv, startSwarm, type Swarm, swarmInit, swarmUnavailable } from '../engine/swarm.js';

const MOVES = Number(process.env.CELLCTL_BENCH_MOVES ?? 40);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const WRITER = path.join(HERE, '..', 'hosts', 'writer.mjs');
const ROUTER_PORT = 8000;
const why = swarmUnavailable();

let swarm: Swarm | undefined;
afterAll(async () => {
  await swarm?.stop();
  await cleanup();
});

it.skipIf(why !== null)('measures the swarm runtime', { timeout: 1_800_000 }, async () => {
  swarm = await startSwarm('bsw');
  const a = swarm.hosts.hosts.A!;
  const root = tempDir();
  fs.chmodSync(root, 0o755);
  const home = path.join(root, 'ws');
  const env = operatorEnv(swarm);
  const cellctl = async (args: string[]): Promise<RunResult> => {
    const result = await a.run(process.execPath, [CLI, '--home', home, ...args], { env, timeoutMs: 300_000 });
    if (result.code !== 0) throw new Error(`cellctl ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return result;
  };
  await cellctl(swarmInit(swarm, ROUTER_PORT));
  await cellctl(['config', 'set', 'limits.rateLimit', JSON.stringify({ requests: 100_000_000, windowSeconds: 1 })]);
  await cellctl(['start', 'router', '--timeout', '180']);

  const createMs: number[] = [];
  for (const [cell, node] of [
    ['b1', 'B'],
    ['c1', 'C'],
  ] as const) {
    const began = performance.now();
    await cellctl(['create', cell, '--template', 'ecommerce', '--node', node]);
    await cellctl(['start', cell, '--timeout', '180']);
    createMs.push(Math.round(performance.now() - began));
  }

  // One customer with a cart, moved back and forth while a writer on A adds to its cart.
  const router = `http://${a.ip}:${ROUTER_PORT}`;
  const made = await a.run(
    process.execPath,
    [
      '-e',
      `fetch('${router}/api/customers/mover', {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({name: 'Mover', email: 'mover@example.com'})}).then(r => process.exit(r.status === 201 ? 0 : 1))`,
    ],
    { timeoutMs: 30_000 },
  );
  if (made.code !== 0) throw new Error('the customer could not be created through the router');
  const stopFile = path.join(root, 'stop-writer');
  const writer = a.exec(process.execPath, [WRITER, router, 'mover', stopFile, '1000000', '900000', '0'], { env, stdio: 'ignore' });
  const exited = new Promise((resolve) => writer.once('exit', resolve));
  /** Each move's time by step (migrate customer --json stepsMs). */
  const stepTimes: Record<string, number>[] = [];
  try {
    for (let i = 0; i < MOVES; i += 1) {
      const at = (JSON.parse((await cellctl(['route', 'mover', '--json'])).stdout) as { cell: string }).cell;
      const moved = await cellctl(['migrate', 'customer', 'mover', '--to', at === 'b1' ? 'c1' : 'b1', '--json']);
      stepTimes.push((JSON.parse(moved.stdout) as { stepsMs: Record<string, number> }).stepsMs);
    }
  } finally {
    fs.writeFileSync(stopFile, '');
    await exited;
  }
  const holds = await fenceHolds(a, `http://${a.ip}:${ROUTER_PORT + 1}`, home);
  const figures = {
    hosts: 'a Docker Swarm of network namespaces (test/engine/swarm.ts): manager, PostgreSQL and router on A, cells pinned to B and C',
    createUntilServingMs: createMs,
    writePause: { moves: MOVES, heldRequests: holds.count, heldP50Ms: holds.p50Ms, heldP99Ms: holds.p99Ms, heldMaxMs: holds.maxMs },
    /** The mover's time by step, p50 and max over the moves (ms): where the hold (fence … lift) goes. */
    stepsMs: Object.fromEntries(
      Object.keys(stepTimes[0] ?? {}).map((step) => {
        const times = stepTimes.map((laps) => laps[step] ?? 0).sort((x, y) => x - y);
        return [step, { p50: times[Math.floor(times.length / 2)], max: times.at(-1) }];
      }),
    ),
  };
  if (process.env.CELLCTL_BENCH_OUT) fs.writeFileSync(process.env.CELLCTL_BENCH_OUT, JSON.stringify(figures));
  console.log(JSON.stringify(figures));
});
