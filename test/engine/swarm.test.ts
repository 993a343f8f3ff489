// A Docker Swarm of simulated hosts (swarm.ts): A the manager, B and C workers, cellctl's image on
// each. A cell runs as a swarm service pinned to B with host-mode published ports and its data.db in
// a volume on B, given its data API token as a Docker secret; swarm restarts it after `docker kill`;
// a host-network service answers at its node's address; a task whose image is missing is rejected
// with the reason; PostgreSQL on A answers a task on C; the manager reports a node Down when its
// link is cut (and Ready again, restarting the cut node's task, once restored) and when its dockerd stops.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_API_PREFIX } from '../../src/data/protocol.js';
import { cleanup, isAlive, waitFor } from '../helpers.js';
import type { Host } from '../hosts/netns.js';
import { BUILD_MS } from './engine.js';
import { startSwarm, type Swarm, swarmUnavailable } from './swarm.js';

const why = swarmUnavailable();
if (why) console.warn(`swarm tests skipped: ${why}`);

const REQUESTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'hosts', 'requests.mjs');
/** Ports on the nodes: each node is a namespace of its own, so fixed ones never collide with other runs. */
const CELL_PORT = 18080;
const DATA_PORT = 18081;
const HOST_NET_PORT = 8090;
const TOKEN = `token-of-cell-b-${'x'.repeat(24)}`;

interface Answer {
  status: number;
  body: any;
}

describe.skipIf(why !== null)('a Docker Swarm of simulated hosts', () => {
  let swarm: Swarm;
  let a: Host;
  let b: Host;
  let c: Host;

  beforeAll(async () => {
    swarm = await startSwarm('sw');
    [a, b, c] = (['A', 'B', 'C'] as const).map((name) => swarm.hosts.hosts[name]!) as [Host, Host, Host];
    const { enginesMs, formedMs, imageMs, totalMs } = swarm.timings;
    console.log(`swarm of A, B, C: engines ${enginesMs} ms, formed ${formedMs} ms after, image built and loaded in ${imageMs} ms; ready in ${totalMs} ms`);
    await run(['network', 'create', '--driver', 'overlay', '--attachable', 'cells']);
    await run(['secret', 'create', 'cell-b-token', '-'], Readable.from([`${TOKEN}\n`]));
  }, BUILD_MS);
  afterAll(async () => {
    const stopping = Date.now();
    await swarm?.stop();
    console.log(`swarm stopped in ${Date.now() - stopping} ms`);
    await cleanup();
  }, 120_000);

  /** docker on the manager (or `engine`), which must succeed; its stdout. */
  async function run(args: string[], input?: Readable, engine = swarm.manager): Promise<string> {
    const result = await engine.docker(args, { input });
    if (result.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return result.stdout.trim();
  }

  /** Requests sent from inside `from`, in order. */
  async function send(from: Host, list: { method: string; url: string; body?: unknown; headers?: Record<string, string> }[]): Promise<Answer[]> {
    const result = await from.run(process.execPath, [REQUESTS, JSON.stringify(list)], { timeoutMs: 60_000 });
    return JSON.parse(result.stdout) as Answer[];
  }
  const status = async (from: Host, url: string) => (await send(from, [{ method: 'GET', url }]))[0]!.status;

  /** `docker service create` of an ecommerce cell, as the swarm runtime would run one, pinned to `node`. */
  function cellService(name: string, node: string, port: number, placement: string[]): string[] {
    const env = { CELL_ID: name, PORT: String(port), CELL_DB: '/data/data.db', CELL_HOME: '/data', CELL_HOST: '0.0.0.0', CELLCTL_ROLE: 'cell' };
    return [
      ...['service', 'create', '--detach', '--name', name, '--constraint', `node.id==${swarm.nodes[node]!.id}`],
      // No registry to record the image's digest at: each node uses its own copy (the one loaded there).
      '--no-resolve-image',
      // The image's health check every 10 s would hold a task in Starting 10 s: swarm waits for healthy.
      ...['--health-interval', '1s', '--restart-delay', '1s'],
      ...placement,
      ...Object.entries(env).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
      swarm.image,
      ...['serve', '--template', 'ecommerce', '--data-port', String(port + 1), '--data-host', '0.0.0.0', '--token-file', '/run/secrets/token'],
    ];
  }

  /** The service's newest task once it is Running (bounded). */
  const running = (service: string, other = '') =>
    waitFor(
      `a task of ${service} running${other ? ` other than ${other}` : ''}`,
      async () => {
        const [newest] = await swarm.taskRows(service);
        return newest && newest.id !== other && newest.currentState.startsWith('Running') && newest;
      },
      60_000,
    );

  it('forms with A the manager and B, C workers, each labelled with its host, the image on every node', async () => {
    const rows = await swarm.nodeRows();
    expect(Object.keys(rows).sort()).toEqual(['A', 'B', 'C']);
    expect(rows.A).toMatchObject({ status: 'Ready', availability: 'Active', managerStatus: 'Leader' });
    for (const worker of ['B', 'C']) expect(rows[worker]).toMatchObject({ status: 'Ready', availability: 'Active', managerStatus: '' });
    for (const [name, node] of Object.entries(swarm.nodes)) {
      expect(node.address).toBe(swarm.hosts.hosts[name]!.ip);
      const labels = JSON.parse(await run(['node', 'inspect', '--format', '{{json .Spec.Labels}}', node.id]));
      expect(labels).toEqual(name === 'A' ? { 'cellctl.node': 'A', 'cellctl.router': 'true' } : { 'cellctl.node': name });
      expect(await run(['image', 'inspect', '--format', '{{.Id}}', swarm.image], undefined, swarm.engines[name])).toMatch(/^sha256:/);
    }
    expect(new Set(Object.values(swarm.nodes).map((node) => node.id)).size).toBe(3);
    await swarm.label('C', 'cellctl.zone', 'z2');
    expect(JSON.parse(await run(['node', 'inspect', '--format', '{{json .Spec.Labels}}', swarm.nodes.C!.id]))).toMatchObject({ 'cellctl.zone': 'z2' });
  });

  it("a cell pinned to B answers from A at B's address on its host-mode ports, reads its token as a secret, and keeps its data.db in a volume on B across docker kill", async () => {
    await run(
      cellService('cellb', 'B', 8080, [
        ...['--network', 'cells', '--secret', 'source=cell-b-token,target=token', '--mount', 'type=volume,source=cellb-data,target=/data'],
        ...['--publish', `mode=host,target=8080,published=${CELL_PORT}`, '--publish', `mode=host,target=8081,published=${DATA_PORT}`],
      ]),
    );
    const first = await running('cellb');
    expect(first.host).toBe('B');
    const cell = `http://${b.ip}:${CELL_PORT}`;
    const data = `http://${b.ip}:${DATA_PORT}`;
    expect(await status(a, `${cell}/health`)).toBe(200);
    // Host mode publishes on the task's node only: nothing listens at A's address.
    expect(await status(a, `http://${a.ip}:${CELL_PORT}/health`)).toBe(0);
    const [created, withToken, withoutToken] = await send(a, [
      { method: 'POST', url: `${cell}/api/customers/ada`, body: { name: 'Ada', email: 'ada@example.com' } },
      { method: 'GET', url: `${data}${DATA_API_PREFIX}/info`, headers: { authorization: `Bearer ${TOKEN}` } },
      { method: 'GET', url: `${data}${DATA_API_PREFIX}/info` },
    ]);
    expect(created!.status).toBe(201);
    expect([withToken!.status, withoutToken!.status]).toEqual([200, 401]);
    // The volume is B's alone.
    const volumes = async (node: string) => (await run(['volume', 'ls', '--quiet'], undefined, swarm.engines[node])).split('\n').filter(Boolean);
    expect([await volumes('A'), await volumes('B'), await volumes('C')]).toEqual([[], ['cellb-data'], []]);

    const container = await run(['inspect', '--format', '{{.Status.ContainerStatus.ContainerID}}', first.id]);
    await run(['kill', '--signal', 'KILL', container], undefined, swarm.engines.B);
    const second = await running('cellb', first.id);
    expect(second.host).toBe('B');
    const killed = (await swarm.taskRows('cellb')).find((row) => row.id === first.id)!;
    expect(killed).toMatchObject({ desiredState: 'Shutdown', error: '"task: non-zero exit (137)"' });
    expect(killed.currentState).toMatch(/^Failed /);
    const [again] = await send(a, [{ method: 'GET', url: `${cell}/api/customers/ada` }]);
    expect(again).toMatchObject({ status: 200, body: { customer_id: 'ada', cell_id: 'cellb' } });
  });

  it("a service with --network host on C answers at C's address", async () => {
    await run(cellService('cellc', 'C', HOST_NET_PORT, ['--network', 'host', '--secret', 'source=cell-b-token,target=token']));
    expect((await running('cellc')).host).toBe('C');
    expect(await status(a, `http://${c.ip}:${HOST_NET_PORT}/health`)).toBe(200);
  });

  it('a task whose image its node lacks is rejected with the reason, and tried again', async () => {
    await run(['service', 'create', '--detach', '--name', 'missing', '--no-resolve-image', '--constraint', `node.id==${swarm.nodes.C!.id}`, 'cellctl:missing']);
    const rows = await waitFor('two rejected tasks of the missing image', async () => {
      const listed = await swarm.taskRows('missing');
      return listed.filter((row) => row.currentState.startsWith('Rejected')).length >= 2 && listed;
    });
    expect(rows.find((row) => row.currentState.startsWith('Rejected'))).toMatchObject({ host: 'C', error: '"No such image: cellctl:missing"' });
    expect(await run(['service', 'ls', '--filter', 'name=missing', '--format', '{{.Replicas}}'])).toBe('0/1');
    await run(['service', 'rm', 'missing']);
  });

  it('PostgreSQL on A answers a task on C (through the overlay) and a client in C', async () => {
    const script = [
      "const pg = require('/app/node_modules/pg');",
      'const client = new pg.Client({ connectionString: process.env.PG_URL, connectionTimeoutMillis: 10000 });',
      "client.connect().then(() => client.query('SELECT 41 + 1 AS answer')).then((r) => { console.log('answer', r.rows[0].answer); return client.end(); })",
      '.catch((error) => { console.log(String(error)); process.exit(3); });',
    ].join(' ');
    await run([
      ...['service', 'create', '--detach', '--name', 'pgprobe', '--no-resolve-image', '--restart-condition', 'none', '--network', 'cells'],
      ...['--constraint', `node.id==${swarm.nodes.C!.id}`, '--env', `PG_URL=${swarm.pg.url}`, '--entrypoint', 'node', swarm.image, '-e', script],
    ]);
    const done = await waitFor(
      'the probe task ended',
      async () => {
        const [newest] = await swarm.taskRows('pgprobe');
        return newest && /^(Complete|Failed|Rejected)/.test(newest.currentState) && newest;
      },
      60_000,
    );
    const logs = await run(['service', 'logs', '--raw', 'pgprobe']);
    expect(done.currentState, logs).toMatch(/^Complete /);
    expect(done.host).toBe('C');
    expect(logs).toContain('answer 42');
    const bin = fs.readdirSync('/usr/lib/postgresql').sort((x, y) => Number(y) - Number(x))[0]!;
    const ready = await c.run(path.join('/usr/lib/postgresql', bin, 'bin', 'pg_isready'), ['-h', a.ip, '-p', new URL(swarm.pg.url).port], {
      timeoutMs: 20_000,
    });
    expect(ready.code, ready.stdout + ready.stderr).toBe(0);
  });

  it('a node whose link is cut is reported Down, and Ready again once restored; its pinned task is then replaced', async () => {
    const before = await running('cellb');
    const cut = Date.now();
    swarm.hosts.cutLink(b);
    await waitFor('the manager lists B Down', async () => (await swarm.nodeRows()).B?.status === 'Down', 90_000);
    const downMs = Date.now() - cut;
    // Cut off, the task still runs and serves on B.
    expect(await status(b, `http://127.0.0.1:${CELL_PORT}/health`)).toBe(200);
    const restored = Date.now();
    swarm.hosts.restoreLink(b);
    await waitFor('the manager lists B Ready', async () => (await swarm.nodeRows()).B?.status === 'Ready', 90_000);
    const readyMs = Date.now() - restored;
    const after = await running('cellb', before.id);
    console.log(`link cut: B Down after ${downMs} ms; restored: Ready after ${readyMs} ms, its task replaced after ${Date.now() - restored} ms`);
    expect(after.host).toBe('B');
    expect((await send(a, [{ method: 'GET', url: `http://${b.ip}:${CELL_PORT}/api/customers/ada` }]))[0]!.status).toBe(200);
  });

  it('a node whose dockerd is stopped is reported Down by the manager', async () => {
    const dockerd = swarm.engines.C!.pid;
    const stopped = Date.now();
    let exitedMs: number | null = null;
    process.kill(dockerd, 'SIGTERM');
    await waitFor(
      'the manager lists C Down',
      async () => {
        if (exitedMs === null && !isAlive(dockerd)) exitedMs = Date.now() - stopped;
        return (await swarm.nodeRows()).C?.status === 'Down';
      },
      90_000,
    );
    const exited = exitedMs === null ? 'still exiting' : `exited after ${exitedMs} ms`;
    console.log(`dockerd of C sent SIGTERM: ${exited}, C Down after ${Date.now() - stopped} ms`);
    const rows = await swarm.nodeRows();
    expect([rows.A!.status, rows.B!.status]).toEqual(['Ready', 'Ready']);
  });
});
