// The swarm runtime, for real across hosts: a Docker Swarm of simulated hosts (swarm.ts) — A the
// manager with PostgreSQL and the router node, B and C workers — driven by cellctl on host A
// (DOCKER_HOST = the manager, --control = PostgreSQL on A). Cells run as services pinned to B and C,
// the routers as a global service on A. Shown: `up` puts a cell on B and one on C, and customers
// land in both; a setting reaches the routers through the control plane; a move B → C under writes
// loses nothing, one killed midway converges; an operator's folder from `context export` drives
// everything from host B (no router there), logs, restart, rebalance and the dashboard included; a node cut off fails only
// its cell's customers and health names it; drill kill is contained and the engine restarts the
// cell; a drained cell is deleted with its data; a node without the image fails a start at once.
// Bad input (no engine, no --control, a worker, a missing image) leaves nothing behind.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cleanup, tempDir, waitFor } from '../helpers.js';
import type { Host, RunResult } from '../hosts/netns.js';
import { BUILD_MS } from './engine.js';
import { operatorEnv, startSwarm, type Swarm, swarmInit, swarmUnavailable } from './swarm.js';

const why = swarmUnavailable();
if (why) console.warn(`swarm runtime tests skipped: ${why}`);

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REQUESTS = path.join(HERE, '..', 'hosts', 'requests.mjs');
const WRITER = path.join(HERE, '..', 'hosts', 'writer.mjs');
/** Ports on the nodes: each node is a namespace of its own, so fixed ones never collide with other runs. */
const ROUTER_PORT = 8000;

interface Answer {
  status: number;
  body: any;
}

interface Tally {
  ackedAdds: number;
  ackedOrders: number;
  refused: number;
  serverErrors: string[];
  unexpected: string[];
}

describe.skipIf(why !== null)('the swarm runtime across hosts A, B, C', () => {
  let swarm: Swarm;
  let a: Host;
  let root: string;
  let home: string;
  let router: string;
  /** The cells `up` placed on B and on C. */
  let cellB = '';
  let cellC = '';

  const env = (extra: NodeJS.ProcessEnv = {}) => operatorEnv(swarm, extra);
  /** cellctl on host A, the operator's. */
  const cellctl = (args: string[], extra: NodeJS.ProcessEnv = {}, at = home): Promise<RunResult> =>
    a.run(process.execPath, [CLI, '--home', at, ...args], { env: env(extra), timeoutMs: 240_000 });
  const cellctlOk = async (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<RunResult> => {
    const result = await cellctl(args, extra);
    if (result.code !== 0) throw new Error(`cellctl ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
    return result;
  };
  const cellctlJson = async (args: string[]): Promise<any> => JSON.parse((await cellctlOk([...args, '--json'])).stdout);
  const send = async (list: { method: string; url: string; body?: unknown }[]): Promise<Answer[]> =>
    JSON.parse((await a.run(process.execPath, [REQUESTS, JSON.stringify(list)], { timeoutMs: 120_000 })).stdout) as Answer[];
  const manager = async (args: string[]): Promise<string> => {
    const result = await swarm.manager.docker(args);
    if (result.code !== 0) throw new Error(`docker ${args.join(' ')}: ${result.stderr}`);
    return result.stdout.trim();
  };
  const services = async () => (await manager(['service', 'ls', '--format', '{{.Name}}'])).split('\n').filter(Boolean).sort();

  beforeAll(async () => {
    swarm = await startSwarm('sr');
    a = swarm.hosts.hosts.A!;
    root = tempDir();
    fs.chmodSync(root, 0o755);
    home = path.join(root, 'ws');
    router = `http://${a.ip}:${ROUTER_PORT}`;
  }, BUILD_MS);
  afterAll(async () => {
    await swarm?.stop();
    await cleanup();
  }, 120_000);

  it('init refuses, leaving nothing behind: without --control, on a worker, with an image the manager lacks', async () => {
    const noControl = await cellctl(['init', '--runtime', 'swarm', '--image', swarm.image]);
    expect(noControl.code).toBe(2);
    expect(noControl.stderr).toMatch(/--control postgres:\/\//);
    const onWorker = await cellctl(['init', '--runtime', 'swarm', '--image', swarm.image, '--control', swarm.pg.url], swarm.engines.B!.env);
    expect(onWorker.code).not.toBe(0);
    expect(onWorker.stderr).toMatch(/is a swarm worker, not a manager: point DOCKER_HOST at a manager/);
    const noImage = await cellctl(['init', '--runtime', 'swarm', '--image', 'cellctl:no-such-tag', '--control', swarm.pg.url]);
    expect(noImage.code).not.toBe(0);
    expect(noImage.stderr).toMatch(/image cellctl:no-such-tag is not on the swarm manager/);
    const noEngine = await cellctl(['init', '--runtime', 'swarm', '--image', swarm.image, '--control', swarm.pg.url], {
      DOCKER_HOST: `unix://${path.join(root, 'no-engine.sock')}`,
    });
    expect(noEngine.code).not.toBe(0);
    expect(noEngine.stderr).toMatch(/does not answer .*start it, or point DOCKER_HOST at one that runs/);
    for (const result of [noControl, onWorker, noImage, noEngine]) expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(fs.existsSync(path.join(home, 'cellctl.json'))).toBe(false);
    expect(await manager(['secret', 'ls', '--quiet'])).toBe('');
    expect(await manager(['network', 'ls', '--quiet', '--filter', 'label=cellctl.workspace'])).toBe('');
  });

  it('up on a swarm workspace gives cells on B and C and routers reachable from A; customers created through the router land in both cells', async () => {
    // Cells go to the nodes labelled cellctl.node, here the workers B and C: A takes the routers.
    await manager(['node', 'update', '--label-rm', 'cellctl.node', swarm.nodes.A!.id]);
    const [, ...swarmFlags] = swarmInit(swarm, ROUTER_PORT);
    const up = await cellctlOk(['up', ...swarmFlags, '--cells', '2', '--customers', '16', '--timeout', '180']);
    expect(up.stdout + up.stderr).toMatch(/customers through the router: 16 created/);
    const status = await cellctlJson(['status']);
    expect(status.runtime).toMatchObject({ kind: 'swarm', image: swarm.image, error: null });
    const on = (node: string) => status.cells.find((cell: any) => cell.engine.container.includes(` on ${node} ${swarm.nodes[node]!.address}`))?.id;
    [cellB, cellC] = [on('B'), on('C')];
    expect([cellB, cellC].sort()).toEqual(['cell-1', 'cell-2']);
    // The one router registered under its node's id and port, at A's address.
    expect(status.routers.map((row: any) => row.id)).toEqual([`${swarm.nodes.A!.id}:${ROUTER_PORT}`]);

    const ids = Array.from({ length: 16 }, (_, n) => `c-${String(n + 1).padStart(4, '0')}`);
    const read = await send(ids.map((id) => ({ method: 'GET', url: `${router}/api/customers/${id}` })));
    expect(read.map((answer) => answer.status)).toEqual(ids.map(() => 200));
    expect(new Set(read.map((answer) => answer.body.cell_id))).toEqual(new Set([cellB, cellC]));
    expect((await cellctl(['health'])).code).toBe(0);

    const made = await cellctlJson(['create', 'x1', '--template', 'ecommerce', '--node', 'C']);
    expect(made.url).toBe(`http://${swarm.nodes.C!.address}:${made.port}`);
    await cellctlOk(['delete', 'x1', '--yes']);
    const badNode = await cellctl(['create', 'x2', '--template', 'ecommerce', '--node', 'Z']);
    expect(badNode.code).toBe(2);
    expect(badNode.stderr).toMatch(/no swarm node "Z" \(nodes: .*B.*\)/);
  });

  it('a setting changed by config set reaches the routers through the control plane (they have no cellctl.json of ours)', async () => {
    // The move below writes as fast as it can to one customer: far past the default rate limit.
    await cellctlOk(['config', 'set', 'limits.rateLimit', JSON.stringify({ requests: 1_000_000, windowSeconds: 1 })]);
    const said = await cellctlOk(['config', 'set', 'placement', 'least-loaded']);
    expect(said.stdout + said.stderr).toMatch(/the routers read the change from the control plane/);
    await waitFor(
      'the router enforces placement least-loaded',
      async () => (await cellctlJson(['status'])).router.enforcing?.placement === 'least-loaded',
      60_000,
    );
  });

  it('a move B → C under continuous writes loses nothing, doubles nothing, answers no 5xx', async () => {
    const customer = (await cellctlJson(['customers', '--cell', cellB]))[0].id as string;
    const before = await written(customer);
    const stopFile = path.join(root, `stop-${customer}`);
    const writer = a.exec(process.execPath, [WRITER, router, customer, stopFile, '4000', '150000'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    writer.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const ended = new Promise<void>((resolve) => writer.once('exit', () => resolve()));
    const acked = () => Math.max(0, ...[...output.matchAll(/acked (\d+)/g)].map((match) => Number(match[1])));
    await waitFor('the writer acknowledged 20 writes', () => acked() >= 20, 60_000);
    const moved = await cellctl(['migrate', 'customer', customer, '--to', cellC, '--json']);
    const at = acked();
    await waitFor('the writer acknowledged 20 more', () => acked() >= at + 20, 60_000).catch(async (error: Error) => {
      const logs = await cellctl(['logs', 'router', '-n', '40']);
      throw new Error(
        `${error.message}\nmove: ${moved.code} ${moved.stdout} ${moved.stderr}\nwriter: ${output.slice(-2000)}\nrouter log: ${logs.stdout.slice(-6000)}`,
      );
    });
    fs.writeFileSync(stopFile, '');
    await ended;
    expect(moved.code, moved.stderr).toBe(0);
    const tally = JSON.parse(output.trim().split('\n').at(-1)!) as Tally;
    expect(tally.serverErrors).toEqual([]);
    expect(tally.unexpected).toEqual([]);
    expect(tally.refused).toBe(0);
    const after = await written(customer);
    expect(after.cell).toBe(cellC);
    expect(after.orders).toBe(before.orders + tally.ackedOrders);
    expect(after.quantity).toBe(before.quantity + tally.ackedAdds);
    expect((await cellctl(['audit'])).code).toBe(0);
  });

  it('a move killed (SIGKILL of the CLI) after its copy is verified converges with migrate resume: the customer in one cell, nothing lost or doubled', async () => {
    const customer = (await cellctlJson(['customers', '--cell', cellC]))[0].id as string;
    const before = await written(customer);
    const file = path.join(root, `pause-${customer}`);
    const mover = a.exec(process.execPath, [CLI, '--home', home, 'migrate', 'customer', customer, '--to', cellB, '--json'], {
      env: env({ CELLCTL_PAUSE_AFTER_STEP: 'verified', CELLCTL_PAUSE_FILE: file }),
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => mover.once('exit', resolve));
    await waitFor('the move to reach "verified"', () => fs.existsSync(`${file}.reached`) || mover.exitCode !== null, 60_000);
    expect(mover.exitCode).toBeNull();
    process.kill(mover.pid!, 'SIGKILL');
    await exited;
    const [interrupted] = (await cellctlJson(['status'])).migrations as { id: number; customerId: string }[];
    expect(interrupted).toMatchObject({ customerId: customer });
    await cellctlOk(['migrate', 'resume', String(interrupted!.id)]);
    const after = await written(customer);
    expect(after).toEqual({ ...before, cell: cellB });
    expect((await cellctl(['audit'])).code).toBe(0);
  });

  it("an operator's folder holding only what context export wrote drives the workspace from host B, where no router runs: status, health, a move, logs (-n, --since, -f), stop, start, restart, rebalance, dashboard", async () => {
    const ops = path.join(root, 'ops');
    const exported = await cellctlOk(['context', 'export', ops]);
    expect(exported.stdout + exported.stderr).toContain(`operator's folder written to ${ops}`);
    expect(fs.statSync(ops).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(ops, 'secrets', 'admin-token')).mode & 0o777).toBe(0o600);
    const b = swarm.hosts.hosts.B!;
    const fromOps = (args: string[]) => b.run(process.execPath, [CLI, '--home', ops, ...args], { env: env(), timeoutMs: 240_000 });
    const status = JSON.parse((await fromOps(['status', '--json'])).stdout);
    // Listed by id: which of cell-1 and cell-2 up put on B is the engine's choice.
    expect(status.cells.map((cell: any) => [cell.id, cell.state])).toEqual([
      ['cell-1', 'running'],
      ['cell-2', 'running'],
    ]);
    expect(status.router).toMatchObject({ state: 'running', healthy: true });
    expect((await fromOps(['health'])).code).toBe(0);
    const customer = JSON.parse((await fromOps(['customers', '--cell', cellC, '--json'])).stdout)[0].id as string;
    const moved = await fromOps(['migrate', 'customer', customer, '--to', cellB, '--json']);
    expect(moved.code, moved.stderr).toBe(0);
    expect((await send([{ method: 'GET', url: `${router}/api/customers/${customer}` }]))[0]!.body.cell_id).toBe(cellB);
    const logs = await fromOps(['logs', cellC, '-n', '3']);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout.trim()).not.toBe('');
    const recent = await fromOps(['logs', cellC, '--since', '1h', '--json']);
    expect(recent.code, recent.stderr).toBe(0);
    expect(recent.stdout).toMatch(new RegExp(`cell ${cellC} \\(ecommerce\\) serving on `));
    expect((await fromOps(['logs', cellC, '--since', '2999-01-01T00:00:00Z'])).stdout.trim()).toBe('');
    await followsRouterLog(b, ops);
    expect((await fromOps(['stop', cellC])).code).toBe(0);
    expect(JSON.parse((await fromOps(['status', '--json'])).stdout).cells.find((cell: any) => cell.id === cellC).state).toBe('stopped');
    const started = await fromOps(['start', cellC, '--timeout', '180']);
    expect(started.code, started.stderr).toBe(0);
    const pidBefore = JSON.parse((await fromOps(['status', '--json'])).stdout).cells.find((cell: any) => cell.id === cellB).pid;
    const restarted = await fromOps(['restart', cellB, '--timeout', '180']);
    expect(restarted.code, restarted.stderr).toBe(0);
    const afterRestart = JSON.parse((await fromOps(['status', '--json'])).stdout).cells.find((cell: any) => cell.id === cellB);
    expect(afterRestart).toMatchObject({ state: 'running', healthy: true });
    expect(afterRestart.pid).not.toBe(pidBefore);
    const rebalanced = await fromOps(['rebalance', '--json']);
    expect(rebalanced.code, rebalanced.stderr).toBe(0);
    expect((await fromOps(['audit'])).code).toBe(0);
    const view = await dashboardView(b, ops);
    expect(view.cells.map((tile: any) => [tile.id, tile.health])).toEqual([
      ['cell-1', 'healthy'],
      ['cell-2', 'healthy'],
    ]);
    expect(view.routers.map((tile: any) => tile.health)).toEqual(['healthy']);
    expect((await fromOps(['health'])).code).toBe(0);
  });

  it("a node whose link is cut: only its cell's customers fail, health names the node; the cell comes back with its data when the node does", async () => {
    const onC = (await cellctlJson(['customers', '--cell', cellC]))[0].id as string;
    const onB = (await cellctlJson(['customers', '--cell', cellB]))[0].id as string;
    const before = await written(onC);
    const c = swarm.hosts.hosts.C!;
    swarm.hosts.cutLink(c);
    try {
      const unhealthy = await waitFor(
        'health to name node C',
        async () => {
          const result = await cellctl(['health', '--json']);
          return result.code === 3 && /its node C \(/.test(result.stdout) && JSON.parse(result.stdout);
        },
        90_000,
      );
      const onCCount = (await cellctlJson(['customers', '--cell', cellC])).length;
      expect(unhealthy.details.find((detail: any) => detail.problem.includes('its node C'))).toMatchObject({ customers: onCCount });
      const [fromB, fromC] = await send([
        { method: 'GET', url: `${router}/api/customers/${onB}` },
        { method: 'GET', url: `${router}/api/customers/${onC}` },
      ]);
      expect(fromB!.status).toBe(200);
      expect(fromC!.status).toBeGreaterThanOrEqual(500);
    } finally {
      swarm.hosts.restoreLink(c);
    }
    await waitFor('health again after C is back', async () => (await cellctl(['health'])).code === 0, 120_000);
    const after = await written(onC);
    expect(after).toEqual(before);
  });

  it('drill kill of a cell (its process killed by host pid): the engine restarts it on its node, only its customers see errors, status counts the restart', async () => {
    const before = (await cellctlJson(['status'])).cells.find((cell: any) => cell.id === cellB);
    expect(before.pid).toBeGreaterThan(0);
    const drill = await cellctl(['drill', 'kill', cellB, '--duration', '20', '--json']);
    expect(drill.code, drill.stderr).toBe(0);
    const summary = JSON.parse(drill.stdout);
    expect(summary).toMatchObject({ victim: cellB, contained: true, failuresOutsideVictim: 0, recoveryMeasured: true });
    expect(summary.recoveryMs).not.toBeNull();
    const back = await waitFor(
      `${cellB} running again, a new process`,
      async () => {
        const now = (await cellctlJson(['status'])).cells.find((cell: any) => cell.id === cellB);
        return now.state === 'running' && now.pid !== before.pid && now.healthy === true && now;
      },
      120_000,
    );
    expect(back.restarts).toBeGreaterThan(before.restarts);
    console.log(`drill kill on swarm: recovered in ${summary.recoveryMs} ms, ${(summary.requestShareFailed * 100).toFixed(1)}% of requests failed`);
  });

  it("drain moves the customers of B's cell to C; delete removes its service, secret and data; a cell made without --node goes to a node with none; stop keeps the volumes", async () => {
    await cellctlOk(['drain', cellB]);
    expect(await cellctlJson(['customers', '--cell', cellB])).toEqual([]);
    const stillRunning = await cellctl(['delete', cellB, '--yes']);
    expect(stillRunning.code).not.toBe(0);
    expect(stillRunning.stderr).toMatch(new RegExp(`cell ${cellB} is running \\(service cellctl-\\w+-${cellB}\\): stop it first`));
    await cellctlOk(['stop', cellB]);
    const volume = (await swarm.engines.B!.docker(['volume', 'ls', '--quiet'])).stdout.split('\n').find((name) => name.endsWith(`-${cellB}-data`))!;
    expect(volume).toBeDefined();
    expect(await filesIn('B', volume)).toBeGreaterThan(0);
    await cellctlOk(['delete', cellB, '--yes']);
    const left = await services();
    expect(left.some((name) => name.endsWith(`-${cellB}`) || name.endsWith(`-${cellB}-purge`))).toBe(false);
    expect((await manager(['secret', 'ls', '--format', '{{.Name}}'])).split('\n').some((name) => name.endsWith(`-${cellB}-token`))).toBe(false);
    expect(await filesIn('B', volume)).toBe(0);

    // No --node: the node labelled cellctl.node with the fewest cells (B has none now, C has one; A is not labelled).
    const placed = await cellctlJson(['create', 'd1', '--template', 'ecommerce']);
    expect(new URL(placed.url).hostname).toBe(swarm.nodes.B!.address);
    await cellctlOk(['delete', 'd1', '--yes']);

    // What the cell's task wrote, read from the engine (its start line among it).
    // The manager reads a task's lines from its node's agent, which may still be reconnecting after C's
    // link came back: until then logs shows what it has and exits 1 saying the log is incomplete.
    const logs = await waitFor(
      `the engine to read ${cellC}'s whole log`,
      async () => {
        const result = await cellctl(['logs', cellC, '-n', '20', '--json']);
        if (result.code !== 0) expect(result.stderr).toMatch(/log is incomplete: the engine could not read all of it/);
        return result.code === 0 && result;
      },
      120_000,
    );
    expect(logs.stdout).toMatch(new RegExp(`cell ${cellC} \\(ecommerce\\) serving on `));
    await cellctlOk(['stop']);
    expect((await cellctlJson(['status'])).cells.map((cell: any) => [cell.id, cell.state])).toEqual([[cellC, 'stopped']]);
    expect((await services()).some((name) => name.endsWith('-router'))).toBe(false);
    const c1Volume = (await swarm.engines.C!.docker(['volume', 'ls', '--quiet'])).stdout.split('\n').find((name) => name.endsWith(`-${cellC}-data`))!;
    expect(await filesIn('C', c1Volume)).toBeGreaterThan(0);
  });

  it('a node without the image: start fails at once saying so, and delete warns that the node could not empty the volume', async () => {
    const removed = await swarm.engines.C!.docker(['image', 'rm', '--force', swarm.image]);
    expect(removed.code, removed.stderr).toBe(0);
    await cellctlOk(['create', 'e1', '--template', 'ecommerce', '--node', 'C']);
    const started = await cellctl(['start', 'e1', '--timeout', '300']);
    expect(started.code).toBe(1);
    expect(started.stderr).toMatch(/e1 could not start: "?No such image: /);
    expect((await cellctlJson(['status'])).cells.find((cell: any) => cell.id === 'e1')).toMatchObject({ state: 'failed' });
    await cellctlOk(['stop', 'e1']);
    const deleted = await cellctlOk(['delete', 'e1', '--yes']);
    expect(deleted.stderr).toMatch(/cell e1 is deleted, but its data stays on its node: emptying volume \S+-e1-data failed \(No such image/);
    expect((await cellctlJson(['status'])).cells.map((cell: any) => cell.id)).toEqual([cellC]);
  });

  /** `logs router -f` from `home` on `host`: a request through the router shows up in it, and Ctrl-C ends it with 130. */
  async function followsRouterLog(host: Host, at: string): Promise<void> {
    const follower = host.exec(process.execPath, [CLI, '--home', at, 'logs', 'router', '-f', '--json'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    follower.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const exited = new Promise<number | null>((resolve) => follower.once('exit', (code) => resolve(code)));
    try {
      // A router logs each cell it (re)loads; a setting changed makes it reload and log again.
      const before = out.length;
      await cellctlOk(['config', 'set', 'limits.maxBodyBytes', String(1_048_576 + out.length + 1)]);
      await waitFor('the followed router log to show a new line', () => out.length > before && out.slice(before).includes('\n'), 60_000);
    } finally {
      follower.kill('SIGINT');
    }
    expect(await exited).toBe(130);
  }

  /** The first view `cellctl dashboard` from `at` on `host` sends its page (read from its event stream there). */
  async function dashboardView(host: Host, at: string): Promise<any> {
    const dashboard = host.exec(process.execPath, [CLI, '--home', at, 'dashboard'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    dashboard.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    try {
      const url = await waitFor('the dashboard to print its URL', () => /^(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m.exec(out)?.[1], 60_000);
      const script =
        "const u = new URL(process.argv[1]); require('http').get(new URL('/events' + u.search, u), (res) => { let b = ''; " +
        "res.on('data', (c) => { b += c; const m = /^data: (.*)$/m.exec(b); if (m) { console.log(m[1]); process.exit(0); } }); })";
      const read = await host.run(process.execPath, ['-e', script, url], { timeoutMs: 60_000 });
      if (read.code !== 0) throw new Error(`reading the dashboard's events: ${read.code} ${read.stderr}`);
      return JSON.parse(read.stdout);
    } finally {
      dashboard.kill('SIGINT');
    }
  }

  /** How many files a volume on `node` holds (a throwaway container lists it). */
  async function filesIn(node: string, volume: string): Promise<number> {
    const script = "console.log(require('fs').readdirSync('/data').length)";
    const listed = await swarm.engines[node]!.docker(['run', '--rm', '--entrypoint', 'node', '--volume', `${volume}:/data`, swarm.image, '-e', script]);
    if (listed.code !== 0) throw new Error(`listing ${volume} on ${node}: ${listed.stderr}`);
    return Number(listed.stdout.trim());
  }

  /** Quantities a customer has in orders and cart, read through the router. */
  async function written(customerId: string) {
    const [orders, cart] = await send([
      { method: 'GET', url: `${router}/api/customers/${customerId}/orders` },
      { method: 'GET', url: `${router}/api/customers/${customerId}/cart` },
    ]);
    expect(orders!.status).toBe(200);
    const list = orders!.body.orders as { items: { quantity: number }[] }[];
    const ordered = list.reduce((sum, order) => sum + order.items.reduce((s, item) => s + item.quantity, 0), 0);
    const inCart = (cart!.body.items as { quantity: number }[]).reduce((sum, item) => sum + item.quantity, 0);
    const [where] = await send([{ method: 'GET', url: `${router}/api/customers/${customerId}` }]);
    return { orders: list.length, quantity: ordered + inCart, cell: where!.body.cell_id as string };
  }
});
