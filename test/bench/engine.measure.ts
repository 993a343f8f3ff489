// Part of `npm run bench` (not a test): the docker runtime on a private Docker engine of this run
// (test/engine/engine.ts) with cellctl's image built on it. Measures the router in a container against
// a router on the host in front of the same cell container, in alternating rounds (clients reach the
// container by its own address, not through docker-proxy), and how long a new cell takes from
// `create` until it serves (create + start, until the router routes to it). Writes its figures as JSON
// to $CELLCTL_BENCH_OUT.
import autocannon from 'autocannon';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, it } from 'vitest';
import { CLI, cleanup, cliJson, cliOk, freePort, http, tempDir, track, waitFor } from '../helpers.js';
import { baseUnavailable, cellctlImage, type Engine, engineUnavailable, startDockerd } from '../engine/engine.js';

const QUICK = process.env.CELLCTL_BENCH_QUICK === '1';
const SECONDS = QUICK ? 3 : 5;
const ROUNDS = QUICK ? 1 : 3;
const why = engineUnavailable() ?? baseUnavailable();

let engine: Engine | undefined;
let hostRouter: ChildProcess | undefined;
afterAll(async () => {
  hostRouter?.kill('SIGTERM');
  await cleanup();
  await engine?.stop();
});

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

function rate(url: string): Promise<number> {
  return new Promise((resolve, reject) =>
    autocannon({ url, connections: 16, duration: SECONDS }, (error, result) => {
      if (error) return reject(error);
      if (result.non2xx + result.errors > 0) return reject(new Error(`${url}: ${result.non2xx} non-2xx and ${result.errors} errors`));
      resolve(Math.round(result.requests.average));
    }),
  );
}

it.skipIf(why !== null)('measures the docker runtime', { timeout: 1_200_000 }, async () => {
  engine = await startDockerd('bench');
  const image = await cellctlImage(engine);
  const env = engine.env;
  const home = path.join(tempDir(), 'ws');
  const routerPort = await freePort(2);
  await cliOk(home, ['init', '--router-port', String(routerPort), '--runtime', 'docker', '--image', image], env);
  const file = path.join(home, 'cellctl.json');
  const settings = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.writeFileSync(file, JSON.stringify({ ...settings, limits: { ...settings.limits, rateLimit: { requests: 100_000_000, windowSeconds: 1 } } }, null, 2));
  await cliOk(home, ['create', 'c1', '--template', 'ecommerce'], env);
  await cliOk(home, ['start', '--timeout', '120'], env);
  const created = await http('POST', `http://127.0.0.1:${routerPort}/api/customers/bench-1`, { name: 'Bench', email: 'bench@example.com' });
  if (created.status !== 201) throw new Error(`create answered ${created.status}`);

  // The same cell behind a router on the host (`router serve` on the same workspace).
  const [hostPort, hostAdmin] = [await freePort(), await freePort()];
  hostRouter = track(
    spawn(process.execPath, [CLI, '--home', home, 'router', 'serve', '--port', String(hostPort), '--admin-port', String(hostAdmin)], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    }),
  );
  const onHost = `http://127.0.0.1:${hostPort}/api/customers/bench-1`;
  await waitFor('the router on the host to serve', async () => (await http('GET', onHost)).status === 200, 60_000);
  const status = await cliJson(home, ['status'], env);
  const containerAddress = (status.routers as { id: string; publicUrl: string }[]).find((row) => row.id.startsWith('cellctl-'))!.publicUrl;
  const inContainer = `${containerAddress}/api/customers/bench-1`;

  const rounds = { container: [] as number[], host: [] as number[] };
  for (let round = 0; round < ROUNDS; round += 1) {
    rounds.container.push(await rate(inContainer));
    rounds.host.push(await rate(onHost));
  }
  const container = median(rounds.container);
  const host = median(rounds.host);

  // A new cell, from create until the router routes to it.
  const began = performance.now();
  await cliOk(home, ['create', 'c2', '--template', 'ecommerce'], env);
  await cliOk(home, ['start', 'c2', '--timeout', '120'], env);
  const createMs = Math.round(performance.now() - began);

  const figures = {
    routerGet: { containerPerSecond: container, hostPerSecond: host, ratio: round(container / host), rounds, url: containerAddress },
    createUntilServingMs: createMs,
    against:
      'a router on the host (router serve on the same workspace) in front of the same cell container, alternating rounds of GET of one customer, 16 connections (medians)',
  };
  if (process.env.CELLCTL_BENCH_OUT) fs.writeFileSync(process.env.CELLCTL_BENCH_OUT, JSON.stringify(figures));
});
