// A Docker Swarm for engine tests: simulated hosts (test/hosts/netns.ts) A, B, C…, a private dockerd
// in each (engine.ts, started in the host's namespace), A the manager and the others workers,
// cellctl's image on every node (built once on A, `docker save | docker load` into the others: no
// registry), and a PostgreSQL on A that every host reaches. One swarm per test file (the hosts'
// namespaces are named after the file's process).
//
//   swarmUnavailable(): string | null — why no swarm can be had here (no namespaces, no engine, no
//       base image, no PostgreSQL), one line, or null. Tests print it and skip.
//   startSwarm(name, { workers = ['B', 'C'] }): Promise<Swarm>
//       name: a short word for the engines' folders. Resolves once the manager lists every node
//       Ready with its labels `cellctl.node=<host>` (and `cellctl.router=true` on A), the image is on
//       every node and PostgreSQL answers. On a failure midway, what it made is stopped before it throws.
//   Swarm = { hosts, engines, manager, nodes, pg: { url, stop() }, image, timings, label(),
//             nodeRows(), taskRows(), stop() } — see the interface below. Everything it made is
//   named after the run and the file (namespaces cch-<run>-<pid>-…, engine folders in the run's
//   folder, pools claimed in pools.ts), so two runs side by side do not meet; the suite's teardown
//   catches what a crashed file left.
//
// Facts measured with this harness (Docker 20.10.24, cgroup v1, 2 cores shared with other runs),
// which the swarm runtime's design rests on; docs/engines.md "Swarm in tests" has them too.
// - Forming: the three dockerds serve 0.6–1.7 s after their start (in parallel); `swarm init`, two
//   `swarm join`s, every node Ready and labelled take 3.0–9.3 s more (the image builds meanwhile).
//   The image build and its `save`/`load` into B and C take 66–109 s: startSwarm is 67–111 s.
// - iptables: a dockerd in a namespace writes its DOCKER chains and the MASQUERADE of
//   docker_gwbridge's subnet in that namespace's tables only (none appear in the machine's). Nothing
//   is mounted outside the run's folder but the hosts' own /run/netns files.
// - A service pinned to B (`--constraint node.id==<B>`) with `--publish mode=host,target=8080,
//   published=P` answers from A and C at B's address:P; not at A's address (refused: host mode
//   publishes on the task's node only). `--network host` in a namespace node works: the cell answers
//   at that node's address. An overlay network (`--attachable`) takes its subnet from the manager's
//   swarmPool; its tasks reach PostgreSQL on A through docker_gwbridge (masqueraded to the node's
//   address), and pg_isready from C's namespace answers too.
// - `--mount type=volume,source=V,…` makes V on the task's node only (`docker volume ls`: B has it,
//   A and C none); with the task pinned, data.db in it outlives task restarts.
// - Task states go Pending → Preparing → Starting → Running. With the image's HEALTHCHECK (every
//   10 s) a task stays Starting until its first healthy check: Running 11–12 s after `service
//   create`; with `--health-interval 1s` 3.0 s; with `--no-healthcheck` 1.7 s.
// - `docker kill -s KILL` of a task's container, or SIGKILL of its process by host pid (task →
//   `{{.Status.ContainerStatus.PID}}`), both make swarm start a new task on the same node (restart
//   condition `any`, unlike a plain container's `unless-stopped`, where `docker kill` is a stop): the
//   old one shows desired Shutdown, "Failed …", error "\"task: non-zero exit (137)\""; the new one
//   Running 16.3 / 16.9 s later with the defaults (5 s restart delay + 10 s health interval), 3.3 s
//   with `--restart-delay 1s --health-interval 1s`.
// - `docker service ps --no-trunc --format '{{.ID}}\t{{.Name}}\t{{.Node}}\t{{.DesiredState}}\t
//   {{.CurrentState}}\t{{.Error}}'` gives e.g. `<id> cellb.1 vm Running Running 5 seconds ago ` and
//   `<id> nope.1 vm Ready Rejected 5 seconds ago "No such image: cellctl:missing"` — the error in
//   double quotes, the node as its host name (the same for every simulated host: a task's node id is
//   `docker inspect --format '{{.NodeID}}' <task>`), the state in words with an age. A task whose
//   node lacks the image (created with `--no-resolve-image`) is Rejected within 0.4 s and tried again
//   every 5 s as a new task; `service ls` shows 0/1. Without `--no-resolve-image`, `service create`
//   still succeeds but warns that the image "could not be accessed on a registry to record its digest".
//   A pinned task whose node is Down waits Pending: "no suitable node (2 nodes not available for new
//   tasks; scheduling constraints not satisfied on 1 node)".
// - `docker node ls --format '{{.ID}}\t{{.Hostname}}\t{{.Status}}\t{{.Availability}}\t{{.ManagerStatus}}'`:
//   `Ready Active Leader` for A, `Ready Active ` (empty) for a worker, `Down` once lost. A cut link
//   is Down after 11.2–13.1 s; a dockerd sent SIGTERM exits in ~2 s (~8 s when a task ignores TERM)
//   and its node is Down 11.5–13.2 s after the signal: the manager notices by missed heartbeats either
//   way. A restored link is Ready again after 1.1–2.2 s. Cut off, the task keeps running and serving
//   on B; the manager has already made a replacement task (Pending), so once B is back it stops the
//   old one and starts the new: the cell restarts 6.5–12.7 s after the restore (Pending with
//   "host-mode port already in use on 1 node" until the old one stops).
// - `docker secret create token -` and `--secret source=token,target=token` give the task
//   /run/secrets/token (mode 0444, uid 0: readable by uid 10001); `--token-file /run/secrets/token`
//   works, the data API answering 200 with that token and 401 without.
// - stop(): the three dockerds stop in parallel, 3–9 s each (a manager's is the slowest); 16–24 s
//   in all after the tests.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers.js';
import { pgAvailable, startPg, type TestPg } from '../pg.js';
import { type Host, type Hosts, hostsUnavailable, makeHosts } from '../hosts/netns.js';
import { baseUnavailable, cellctlImage, type DockerCall, type Engine, engineUnavailable, startDockerd } from './engine.js';

const PG_READY = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'hosts', 'pg-ready.mjs');
/** How long the manager may take to list every node Ready after the joins. */
const READY_MS = 60_000;

export interface SwarmNode {
  /** The swarm's node id (`docker info` .Swarm.NodeID): pin with `--constraint node.id==<id>`. */
  id: string;
  /** The node's address: its host's, which it advertises and publishes ports on. */
  address: string;
  host: Host;
}

/** A row of `docker node ls`. */
export interface NodeRow {
  id: string;
  /** Ready, Down, Unknown, Disconnected. */
  status: string;
  /** Active, Pause, Drain. */
  availability: string;
  /** Leader, Reachable, Unreachable, or '' for a worker. */
  managerStatus: string;
}

/** A row of `docker service ps --no-trunc`. */
export interface TaskRow {
  id: string;
  name: string;
  /** The node's host name — the machine's for every simulated host, so useless to tell them apart. */
  node: string;
  desiredState: string;
  /** e.g. "Running 5 seconds ago", "Rejected 2 seconds ago", "Failed 1 second ago". */
  currentState: string;
  /** e.g. "No such image: …", "task: non-zero exit (137)", or ''. */
  error: string;
}

export interface Swarm {
  /** The simulated hosts: A (the manager's), then the workers'. */
  hosts: Hosts;
  /** One dockerd per host, by host name. */
  engines: Record<string, Engine>;
  /** A's engine: run `docker service …` and `docker node …` here. */
  manager: Engine;
  nodes: Record<string, SwarmNode>;
  /** PostgreSQL on A's address, password auth for the hosts' subnet: reachable from every host and task. */
  pg: { url: string; stop(): Promise<void> };
  /** cellctl's image, on every node. */
  image: string;
  /**
   * How long startSwarm took, in ms: engines (every dockerd serving), formed (init, joins, every
   * node Ready and labelled, after the engines), image (build and load, from the engines' start, in
   * parallel with forming), total.
   */
  timings: { enginesMs: number; formedMs: number; imageMs: number; totalMs: number };
  /** Adds (or changes) a label on a node, by host name: `docker node update --label-add key=value`. */
  label(node: string, key: string, value: string): Promise<void>;
  /** The nodes as the manager lists them, by host name. */
  nodeRows(): Promise<Record<string, NodeRow>>;
  /** A service's tasks as the manager lists them, newest first, with their node's host name (by node id). */
  taskRows(service: string): Promise<(TaskRow & { host: string | null })[]>;
  /** Removes every service, stops PostgreSQL and every dockerd, deletes the hosts. Idempotent; also on failure. */
  stop(): Promise<void>;
}

/** The environment of cellctl run on host A as the swarm's operator: DOCKER_HOST the manager, none of the caller's CELLCTL_CONTROL_URL. */
export function operatorEnv(swarm: Swarm, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', CI: 'true', DOCKER_HOST: swarm.manager.env.DOCKER_HOST, ...extra };
  delete env.CELLCTL_CONTROL_URL;
  return env;
}

/** `cellctl init` of a swarm workspace on `swarm`: its image, its PostgreSQL, the routers on `routerPort`, ecommerce cells. */
export const swarmInit = (swarm: Swarm, routerPort: number): string[] => [
  ...['init', '--runtime', 'swarm', '--image', swarm.image, '--control', swarm.pg.url],
  ...['--router-port', String(routerPort), '--template', 'ecommerce'],
];

export function swarmUnavailable(): string | null {
  const why = hostsUnavailable() ?? engineUnavailable() ?? baseUnavailable();
  if (why) return why;
  const pg = pgAvailable();
  return pg.ok ? null : pg.reason;
}

/** Runs `docker` against `engine` and returns its stdout; throws with its stderr on a non-zero exit. */
async function docker(engine: Engine, args: string[], timeoutMs?: number): Promise<string> {
  const result: DockerCall = await engine.docker(args, { timeoutMs });
  if (result.code !== 0) throw new Error(`docker ${args.join(' ')} on ${engine.name} exited ${result.code}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

const lines = (text: string): string[][] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t'));

/** `docker swarm init` on A, advertising, listening and carrying data on A's address; overlays from the manager's swarmPool. */
async function initSwarm(manager: Engine, address: string): Promise<string> {
  await docker(manager, [
    ...['swarm', 'init', '--advertise-addr', address, '--listen-addr', `${address}:2377`, '--data-path-addr', address],
    ...['--default-addr-pool', manager.swarmPool, '--default-addr-pool-mask-length', '24'],
  ]);
  return docker(manager, ['swarm', 'join-token', '-q', 'worker']);
}

async function joinSwarm(engine: Engine, address: string, token: string, managerAddress: string): Promise<void> {
  await docker(engine, [
    ...['swarm', 'join', '--token', token, '--advertise-addr', address, '--listen-addr', `${address}:2377`, '--data-path-addr', address],
    `${managerAddress}:2377`,
  ]);
}

async function nodeOf(engine: Engine, host: Host): Promise<SwarmNode> {
  const [id, address] = (await docker(engine, ['info', '--format', '{{.Swarm.NodeID}} {{.Swarm.NodeAddr}}'])).split(' ');
  if (!id || !address) throw new Error(`${engine.name} is not in a swarm: docker info gave no node id and address`);
  return { id, address, host };
}

async function nodeRowsById(manager: Engine): Promise<Map<string, NodeRow>> {
  const listed = await docker(manager, ['node', 'ls', '--format', '{{.ID}}\t{{.Status}}\t{{.Availability}}\t{{.ManagerStatus}}']);
  return new Map(lines(listed).map(([id = '', status = '', availability = '', managerStatus = '']) => [id, { id, status, availability, managerStatus }]));
}

/** Waits (bounded) until the manager lists every id Ready; a timeout shows the last listing. */
async function everyNodeReady(manager: Engine, ids: string[]): Promise<void> {
  await waitFor(
    'the manager to list every node Ready',
    async () => {
      const rows = await nodeRowsById(manager);
      if (ids.every((id) => rows.get(id)?.status === 'Ready')) return true;
      throw new Error(JSON.stringify([...rows.values()]));
    },
    READY_MS,
  );
}

/** `docker save` of `image` on `from` into a file in its folder, then `docker load` of it into every engine of `to`. */
async function copyImage(image: string, from: Engine, to: Engine[]): Promise<void> {
  const file = path.join(from.dir, 'image.tar');
  try {
    await docker(from, ['save', '-o', file, image], 300_000);
    await Promise.all(
      to.map(async (engine) => {
        const result = await engine.docker(['load'], { input: fs.createReadStream(file), timeoutMs: 300_000 });
        if (result.code !== 0) throw new Error(`docker load on ${engine.name} exited ${result.code}: ${result.stderr.trim()}`);
      }),
    );
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** PostgreSQL run by host A (as the postgres user, switched inside the host), on A's address, checked from inside A. */
function startPgOn(host: Host): Promise<TestPg> {
  return startPg({
    listen: host.ip,
    spawn: (file, args, { uid, gid, ...options }) => host.exec('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', file, ...args], options),
    ready: async (url) => (await host.run(process.execPath, [PG_READY, url], { timeoutMs: 10_000 })).code === 0,
  });
}

export async function startSwarm(name: string, options: { workers?: string[] } = {}): Promise<Swarm> {
  const why = swarmUnavailable();
  if (why) throw new Error(`cannot start a swarm: ${why}`);
  const workers = options.workers ?? ['B', 'C'];
  const names = ['A', ...workers];
  const hosts = makeHosts(names);
  const engines: Record<string, Engine> = {};
  let pg: TestPg | null = null;
  let stopped: Promise<void> | null = null;

  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      const problems: unknown[] = [];
      const attempt = async (step: () => Promise<unknown>) => {
        try {
          await step();
        } catch (error) {
          problems.push(error);
        }
      };
      // Services first, so no worker is handed a new task while the engines stop.
      const manager = engines.A;
      if (manager) {
        await attempt(async () => {
          const services = (await manager.docker(['service', 'ls', '-q'], { timeoutMs: 30_000 })).stdout.split('\n').filter(Boolean);
          if (services.length > 0) await manager.docker(['service', 'rm', ...services], { timeoutMs: 30_000 });
        });
      }
      await attempt(async () => pg?.stop());
      await Promise.all(Object.values(engines).map((engine) => attempt(() => engine.stop())));
      hosts.teardown();
      if (problems.length > 0) throw new AggregateError(problems, `stopping the swarm ${name} failed: ${problems.map(String).join('; ')}`);
    })());

  let pending: Promise<unknown>[] = [];
  const began = Date.now();
  try {
    // Settled, not all: an engine that started must be known to stop() even when another failed.
    const started = await Promise.allSettled(
      names.map(async (host) => (engines[host] = await startDockerd(`${name}${host}`, { netns: hosts.hosts[host]!.ns }))),
    );
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    const manager = engines.A!;
    const a = hosts.hosts.A!;
    const enginesMs = Date.now() - began;
    let imageMs = 0;
    // The image build (a minute or more) runs while the swarm forms and PostgreSQL starts.
    const image = (async () => {
      const tag = await cellctlImage(manager);
      await copyImage(
        tag,
        manager,
        workers.map((host) => engines[host]!),
      );
      imageMs = Date.now() - began - enginesMs;
      return tag;
    })();
    const postgres = startPgOn(a).then((server) => (pg = server));
    pending = [image, postgres];
    const token = await initSwarm(manager, a.ip);
    await Promise.all(workers.map((host) => joinSwarm(engines[host]!, hosts.hosts[host]!.ip, token, a.ip)));
    const nodes: Record<string, SwarmNode> = {};
    for (const host of names) nodes[host] = await nodeOf(engines[host]!, hosts.hosts[host]!);
    await everyNodeReady(
      manager,
      names.map((host) => nodes[host]!.id),
    );
    const label = async (node: string, key: string, value: string): Promise<void> => {
      const target = nodes[node];
      if (!target) throw new Error(`no node ${node} in this swarm (${names.join(', ')})`);
      await docker(manager, ['node', 'update', '--label-add', `${key}=${value}`, target.id]);
    };
    for (const host of names) await label(host, 'cellctl.node', host);
    await label('A', 'cellctl.router', 'true');
    const formedMs = Date.now() - began - enginesMs;
    const [tag, server] = await Promise.all([image, postgres]);
    const hostOf = new Map(names.map((host) => [nodes[host]!.id, host]));
    return {
      hosts,
      engines,
      manager,
      nodes,
      pg: { url: server.url(), stop: () => server.stop() },
      image: tag,
      timings: { enginesMs, formedMs, imageMs, totalMs: Date.now() - began },
      label,
      async nodeRows() {
        const rows = await nodeRowsById(manager);
        return Object.fromEntries(names.flatMap((host) => (rows.has(nodes[host]!.id) ? [[host, rows.get(nodes[host]!.id)!]] : [])));
      },
      async taskRows(service) {
        const format = '{{.ID}}\t{{.Name}}\t{{.Node}}\t{{.DesiredState}}\t{{.CurrentState}}\t{{.Error}}';
        const listed = await docker(manager, ['service', 'ps', '--no-trunc', '--format', format, service]);
        const rows = lines(listed).map(([id = '', taskName = '', node = '', desiredState = '', currentState = '', error = '']) => ({
          id,
          name: taskName,
          node,
          desiredState,
          currentState,
          error,
        }));
        // The node column names host names, the same for every simulated host: ask each task's node id.
        return Promise.all(
          rows.map(async (row) => {
            const nodeId = (await manager.docker(['inspect', '--format', '{{.NodeID}}', row.id])).stdout.trim();
            return { ...row, host: hostOf.get(nodeId) ?? null };
          }),
        );
      },
      stop,
    };
  } catch (error) {
    // PostgreSQL is stopped only once started; the build fails fast once its engine is gone.
    const [image, postgres] = pending;
    await Promise.allSettled([postgres]);
    await stop().catch(() => undefined);
    await Promise.allSettled([image]);
    throw error;
  }
}
