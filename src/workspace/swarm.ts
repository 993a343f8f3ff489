// The swarm runtime: a workspace's processes as services of a Docker Swarm, the CLI talking to a
// manager (DOCKER_HOST). Each cell is a service of one replica pinned to a node (its data in a
// volume on that node, so the engine never moves a cell's data by rescheduling it), its app and
// data API published in host mode on the node's address: a cell's URL is its node's address and
// port, unchanged when the engine restarts it. The routers are one global service on the nodes
// labelled cellctl.router=true, their ports published in host mode; each reads its settings from
// the control plane (PostgreSQL) and its secrets (admin token, JWT key, control-plane URL) as Docker
// secrets, never from a file on another node. The engine schedules and restarts; cellctl creates,
// scales, removes and reads their state.
import { setTimeout as sleep } from 'node:timers/promises';
import fs from 'node:fs';
import type { CellRecord, ControlPlane } from '../control/plane.js';
import { type ServiceView, SwarmEngine, type SwarmNode, type TaskView } from '../engine/swarm.js';
import { failure, usageError } from '../shared/errors.js';
import { cellContainer, DATA_DIR, LABEL_CELL, LABEL_ROLE, LABEL_WORKSPACE, ROUTER_NAME as ROUTER } from './containers.js';
import { cellTokenFile, workspacePaths } from './paths.js';
import type { Settings } from './settings.js';
import type { LogRead } from '../engine/client.js';

/** The node label that places a cell (`create --node <value>`), and the one that marks router nodes. */
export const NODE_LABEL = 'cellctl.node';
export const ROUTER_NODE_LABEL = 'cellctl.router';
/** Where a router task finds its secrets (`router serve --from-secrets`), and a cell its token. */
export const SECRETS_DIR = '/run/secrets';
/** A deleted cell's data is removed by a one-shot task on its node; it may take this long. */
const PURGE_MS = 60_000;

/** Task states in which its container may still run. */
const LIVE_TASK_STATES = new Set(['assigned', 'accepted', 'preparing', 'ready', 'starting', 'running']);
/** What a stop may take past its timeout: the engine's own grace (10 s) before it kills. */
const STOP_GRACE_MS = 15_000;

/** The secrets every router reads: the names of their files in SECRETS_DIR. */
export const ROUTER_SECRETS = ['admin-token', 'jwt-key', 'control-url'] as const;

/** The shared value that carries the workspace's settings to routers with no workspace folder. */
export const SHARED_SETTINGS = 'settings';

export interface SwarmSettings {
  workspaceId: string;
  image: string;
  network: string;
}

export function swarmSettings(settings: Settings): SwarmSettings {
  if (settings.runtime !== 'swarm' || !settings.engine || !settings.workspaceId) throw new Error('not a swarm workspace');
  return { workspaceId: settings.workspaceId, image: settings.engine.image, network: settings.engine.network };
}

const prefix = (workspaceId: string) => `cellctl-${workspaceId}`;
const routerSecretName = (workspaceId: string, file: string) => `${prefix(workspaceId)}-${file}`;

/** The nodes the routers run on; none labelled is an error that says how to label one. */
function routerNodes(nodes: SwarmNode[]): SwarmNode[] {
  const labelled = nodes.filter((node) => node.labels[ROUTER_NODE_LABEL] === 'true');
  if (labelled.length === 0) {
    throw usageError(
      `no swarm node is labelled for routers: label one or more with "docker node update --label-add ${ROUTER_NODE_LABEL}=true <node>", then run the command again`,
    );
  }
  return labelled;
}

/**
 * Checks the engine before anything is made: a manager, the image there, a node for the routers.
 * Returns the address the CLI reaches the routers at (the first router node's).
 */
export async function checkSwarm(image: string): Promise<string> {
  const swarm = new SwarmEngine();
  await swarm.checkManager();
  if (!(await swarm.docker.imageExists(image))) {
    throw failure(
      `image ${image} is not on the swarm manager: build it with "cellctl image build --tag ${image}" and put it on every node (docker save | docker load, or "--push REGISTRY"), then run init again`,
      'E_ENGINE',
    );
  }
  const ready = routerNodes(await swarm.nodes()).find((node) => node.state === 'ready' && node.availability === 'active');
  if (!ready)
    throw failure(`no node labelled ${ROUTER_NODE_LABEL}=true is Ready and Active: bring one back, or label another, then run init again`, 'E_ENGINE');
  return ready.address;
}

/** Makes the workspace's overlay network and router secrets (from the workspace's secret files); `undo` removes them. */
export async function prepareSwarm(home: string, workspaceId: string, image: string): Promise<{ engine: Settings['engine'] & {}; undo: () => Promise<void> }> {
  const swarm = new SwarmEngine();
  const network = prefix(workspaceId);
  const labels = { [LABEL_WORKSPACE]: workspaceId };
  await swarm.createOverlay(network, labels);
  const secrets: string[] = [];
  const undo = async () => {
    await swarm.removeSecrets(secrets).catch(() => {});
    await swarm.docker.removeNetwork(network).catch(() => {});
  };
  try {
    const paths = workspacePaths(home);
    const files: Record<(typeof ROUTER_SECRETS)[number], string> = {
      'admin-token': paths.adminToken,
      'jwt-key': paths.jwtKey,
      'control-url': paths.controlUrl,
    };
    for (const [name, file] of Object.entries(files)) {
      const secret = routerSecretName(workspaceId, name);
      await swarm.createSecret(secret, fs.readFileSync(file, 'utf8'), labels);
      secrets.push(secret);
    }
  } catch (error) {
    await undo();
    throw error;
  }
  return { engine: { image, network }, undo };
}

/** Writes the settings where a swarm's routers read them (the control plane), when they changed. */
export async function publishSettings(plane: ControlPlane, settings: Settings): Promise<void> {
  const value = JSON.stringify(settings);
  if ((await plane.readShared(SHARED_SETTINGS)) !== value) await plane.writeShared(SHARED_SETTINGS, value);
}

/** The node id a service is pinned to (a cell's), or null. */
export const pinnedNode = (service: ServiceView): string | null =>
  service.constraints.find((constraint) => constraint.startsWith('node.id=='))?.slice('node.id=='.length) ?? null;

/** The task that counts: the newest one meant to run (else the newest). */
export const currentTask = (service: ServiceView): TaskView | undefined => service.tasks.find((task) => task.desiredState === 'running') ?? service.tasks[0];

/** The swarm runtime of one workspace. */
export class SwarmRuntime {
  readonly engine = new SwarmEngine();
  readonly swarm: SwarmSettings;

  constructor(
    readonly home: string,
    readonly settings: Settings,
  ) {
    this.swarm = swarmSettings(settings);
  }

  get image(): string {
    return this.swarm.image;
  }

  /** A process's service: `cellctl-<workspace id>-<name>`. */
  serviceName(name: string): string {
    return `${prefix(this.swarm.workspaceId)}-${name}`;
  }

  volumeName(cellId: string): string {
    return `${prefix(this.swarm.workspaceId)}-${cellId}-data`;
  }

  private cellSecret(cellId: string): string {
    return `${prefix(this.swarm.workspaceId)}-${cellId}-token`;
  }

  private labels(role: 'cell' | 'router', cell?: string): Record<string, string> {
    return { [LABEL_WORKSPACE]: this.swarm.workspaceId, [LABEL_ROLE]: role, ...(cell ? { [LABEL_CELL]: cell } : {}) };
  }

  /**
   * The node a new cell runs on: `asked` (a node id, or the value of its cellctl.node label), else
   * the node labelled cellctl.node with the fewest of the workspace's cells (any node when none is
   * labelled). Only Ready, Active nodes take a new cell.
   */
  async chooseNode(asked: string | undefined, cells: readonly CellRecord[]): Promise<SwarmNode> {
    const nodes = await this.engine.nodes();
    const usable = (node: SwarmNode) => node.state === 'ready' && node.availability === 'active';
    if (asked !== undefined) {
      const node = nodes.find((candidate) => candidate.id === asked || candidate.labels[NODE_LABEL] === asked);
      if (!node) {
        const known = nodes.map((candidate) => candidate.labels[NODE_LABEL] ?? candidate.id);
        throw usageError(`no swarm node "${asked}" (nodes: ${known.join(', ')}): give a node id or the value of its ${NODE_LABEL} label ("docker node ls")`);
      }
      if (!usable(node))
        throw failure(`node ${asked} is ${node.state}, ${node.availability}: bring it back (or choose another --node) before placing a cell there`);
      return node;
    }
    const labelled = nodes.filter((node) => node.labels[NODE_LABEL] !== undefined);
    const candidates = (labelled.length > 0 ? labelled : nodes).filter(usable);
    if (candidates.length === 0) throw failure(`no swarm node is Ready and Active for a new cell: "docker node ls" shows them`);
    const count = (node: SwarmNode) => cells.filter((cell) => new URL(cell.url).hostname === node.address).length;
    return candidates.reduce((best, node) => (count(node) < count(best) ? node : best));
  }

  /** Makes a cell's token secret and service (no replica yet: `start` scales it to one). */
  async createCell(cell: CellRecord, node: SwarmNode): Promise<void> {
    const secret = this.cellSecret(cell.id);
    const { env, command } = cellContainer(cell, cell.port, cell.dataPort!, `${SECRETS_DIR}/token`);
    await this.engine.createSecret(secret, fs.readFileSync(cellTokenFile(this.home, cell.id), 'utf8'), this.labels('cell', cell.id));
    try {
      await this.engine.createService({
        name: this.serviceName(cell.id),
        image: this.swarm.image,
        labels: this.labels('cell', cell.id),
        env,
        constraints: [`node.id==${node.id}`],
        replicas: 0,
        hostname: this.serviceName(cell.id),
        network: this.swarm.network,
        mounts: [`type=volume,source=${this.volumeName(cell.id)},target=${DATA_DIR}`],
        secrets: [`source=${secret},target=token`],
        hostPorts: [cell.port, cell.dataPort!],
        command,
      });
    } catch (error) {
      await this.engine.removeSecrets([secret]).catch(() => {});
      throw error;
    }
  }

  /** The routers' global service: one task per node labelled for routers, its id that node's id and its port. */
  private async createRouters(): Promise<void> {
    const { routerPort, routerAdminPort } = this.settings;
    const nodes = routerNodes(await this.engine.nodes());
    await this.engine.createService({
      name: this.serviceName(ROUTER),
      image: this.swarm.image,
      labels: this.labels('router'),
      env: {
        CELLCTL_ROLE: 'router',
        CELLCTL_ROUTER_PORT: String(routerPort),
        CELLCTL_NODE_ID: '{{.Node.ID}}',
        // A task knows its node's id, not its address: the routers advertise the address named here.
        CELLCTL_NODE_ADDRESSES: JSON.stringify(Object.fromEntries(nodes.map((node) => [node.id, node.address]))),
      },
      constraints: [`node.labels.${ROUTER_NODE_LABEL}==true`],
      replicas: 'global',
      hostname: '{{.Node.ID}}',
      network: this.swarm.network,
      mounts: [],
      secrets: ROUTER_SECRETS.map((file) => `source=${routerSecretName(this.swarm.workspaceId, file)},target=${file}`),
      hostPorts: [routerPort, routerAdminPort],
      command: [
        ...['router', 'serve', '--port', String(routerPort), '--admin-port', String(routerAdminPort)],
        ...['--host', '0.0.0.0', '--admin-host', '0.0.0.0', '--from-secrets', SECRETS_DIR],
      ],
    });
  }

  /** The workspace's services by process name (a cell's id, or "router"). */
  async services(): Promise<Map<string, ServiceView>> {
    const found = await this.engine.services(LABEL_WORKSPACE, this.swarm.workspaceId);
    return new Map(
      found.filter((view) => view.labels[LABEL_ROLE]).map((view) => [view.labels[LABEL_ROLE] === 'router' ? ROUTER : view.labels[LABEL_CELL]!, view]),
    );
  }

  async start(names: string[], plane: ControlPlane): Promise<{ started: string[]; alreadyRunning: string[] }> {
    let services = await this.services();
    const started: string[] = [];
    if (names.includes(ROUTER) && !services.has(ROUTER)) {
      // New routers read the settings of this folder: the ones `start` is run with.
      await publishSettings(plane, this.settings);
      await this.createRouters();
      started.push(ROUTER);
      services = await this.services();
    }
    const cells = names.filter((name) => name !== ROUTER);
    const missing = cells.filter((name) => !services.has(name));
    if (missing.length > 0) {
      throw failure(
        `${missing.join(', ')} ${missing.length === 1 ? 'has' : 'have'} no service on the swarm (removed outside cellctl?): "cellctl delete ${missing[0]} --force", then create the cell again`,
        'E_ENGINE',
      );
    }
    const alreadyRunning = names.filter((name) => {
      const service = services.get(name)!;
      return !started.includes(name) && service.replicas !== 0 && currentTask(service)?.state === 'running';
    });
    for (const name of cells) {
      if (services.get(name)!.replicas === 0) {
        await this.engine.scale(this.serviceName(name), 1);
        started.push(name);
      }
    }
    return { started, alreadyRunning };
  }

  /**
   * Stops cells (scaled to no replica: the service, its volume and its place stay) and the routers
   * (removed: they hold nothing). Returns once no task of a stopped cell runs, so a start or a delete
   * that follows never meets the old process on its ports or its volume (bounded by `timeoutMs` and
   * the engine's own stop grace).
   */
  async stop(names: string[] | null, timeoutMs: number): Promise<string[]> {
    const services = await this.services();
    const chosen = (names ?? [...services.keys()]).filter((name) => {
      const service = services.get(name);
      return service && (name === ROUTER || service.replicas !== 0);
    });
    const cells = chosen.filter((name) => name !== ROUTER);
    for (const name of cells) await this.engine.scale(this.serviceName(name), 0);
    if (chosen.includes(ROUTER)) await this.engine.removeService(this.serviceName(ROUTER));
    const deadline = Date.now() + timeoutMs + STOP_GRACE_MS;
    for (;;) {
      const now = await this.services();
      const still = cells.filter((name) => now.get(name)?.tasks.some((task) => LIVE_TASK_STATES.has(task.state)));
      if (still.length === 0) break;
      if (Date.now() > deadline)
        throw failure(
          `${still.join(', ')} still running on the swarm after ${Math.round((Date.now() - deadline + timeoutMs + STOP_GRACE_MS) / 1000)} s: "cellctl status" shows their tasks`,
          'E_ENGINE',
        );
      await sleep(250);
    }
    return chosen;
  }

  /** Where a cell runs, when a task of it is meant to run: for "stop it first" messages. */
  async running(cellId: string): Promise<string | null> {
    const service = (await this.services()).get(cellId);
    return service && service.replicas !== 0 ? `service ${service.name}` : null;
  }

  /** The host pid of a running cell's task, when its node is this machine (a drill kills it as a crash would). */
  async hostPid(cellId: string): Promise<number> {
    const service = (await this.services()).get(cellId);
    const task = service && currentTask(service);
    if (!service || !task || task.state !== 'running' || task.pid <= 0)
      throw failure(`cell ${cellId} is not running on the swarm: start it with "cellctl start ${cellId}" first`);
    let cgroup = '';
    try {
      cgroup = fs.readFileSync(`/proc/${task.pid}/cgroup`, 'utf8');
    } catch {
      // not a process of this machine
    }
    if (!task.containerId || !cgroup.includes(task.containerId)) {
      throw failure(`cell ${cellId}'s task runs on another machine than this one: run the drill on its node's host (or "docker kill" its container there)`);
    }
    return task.pid;
  }

  /**
   * Removes a cell's service and its token secret, then its data: a one-shot task on the cell's
   * node empties the volume (a manager cannot remove a volume on another node). A node that does not
   * run it within a minute leaves the volume there, said in the error.
   */
  async removeCell(cellId: string): Promise<string | null> {
    const service = (await this.services()).get(cellId);
    const node = service ? pinnedNode(service) : null;
    await this.engine.removeService(this.serviceName(cellId));
    await this.engine.removeSecrets([this.cellSecret(cellId)]);
    if (!node) return null;
    // The cell is gone either way: data its node could not remove is said, for removal by hand.
    return this.purgeVolume(cellId, `node.id==${node}`).then(
      () => null,
      (error: Error) => error.message,
    );
  }

  private async purgeVolume(cellId: string, constraint: string): Promise<void> {
    const name = this.serviceName(`${cellId}-purge`);
    await this.engine.removeService(name);
    await this.engine.createService({
      name,
      image: this.swarm.image,
      labels: { [LABEL_WORKSPACE]: this.swarm.workspaceId },
      env: {},
      constraints: [constraint],
      replicas: 1,
      network: this.swarm.network,
      mounts: [`type=volume,source=${this.volumeName(cellId)},target=${DATA_DIR}`],
      secrets: [],
      hostPorts: [],
      entrypoint: 'node',
      command: [
        '-e',
        `const fs = require('fs'); for (const f of fs.readdirSync('${DATA_DIR}')) fs.rmSync('${DATA_DIR}/' + f, { recursive: true, force: true });`,
      ],
      restart: 'none',
    });
    try {
      const deadline = Date.now() + PURGE_MS;
      for (;;) {
        const [task] = (await this.engine.services(LABEL_WORKSPACE, this.swarm.workspaceId)).find((view) => view.name === name)?.tasks ?? [];
        if (task?.state === 'complete') return;
        if (task && ['failed', 'rejected'].includes(task.state))
          throw failure(
            `its data stays on its node: emptying volume ${this.volumeName(cellId)} failed (${task.error}); remove it there with "docker volume rm ${this.volumeName(cellId)}"`,
            'E_ENGINE',
          );
        if (Date.now() > deadline) {
          throw failure(
            `its data stays on its node: the node did not empty volume ${this.volumeName(cellId)} within ${PURGE_MS / 1000} s (${constraint}: is it Down?); remove it there with "docker volume rm ${this.volumeName(cellId)}"`,
            'E_ENGINE',
          );
        }
        await sleep(250);
      }
    } finally {
      await this.engine.removeService(name).catch(() => {});
    }
  }

  logLines(name: string, tail: number, sinceMs: number | null = null): Promise<LogRead> {
    return this.engine.logLines(this.serviceName(name), tail, sinceMs);
  }

  followLogs(name: string, onLine: (line: string) => void): { stop: () => void; done: Promise<void> } {
    return this.engine.followLogs(this.serviceName(name), onLine);
  }
}
