// The docker runtime: a workspace's processes as containers of one Docker Engine. Each cell is a
// container with a named volume for its data.db and an address of its own on the workspace's
// network (its URL, unchanged when the engine restarts it); the router is a container that reads the
// workspace folder (control.db, settings, secrets) through a bind mount, running as the folder's
// owner so its 0600 files stay readable to it alone. The engine restarts what crashes (restart
// policy unless-stopped); cellctl only creates, starts, stops and removes, and reads their state.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { CellRecord } from '../control/plane.js';
import { type ContainerSpec, type ContainerView, DockerEngine } from '../engine/docker.js';
import { failure, usageError } from '../shared/errors.js';
import type { Template } from '../templates/template.js';
import { cellTokenFile } from './paths.js';
import type { Settings } from './settings.js';
import type { LogRead } from '../engine/client.js';

export const LABEL_WORKSPACE = 'cellctl.workspace';
export const LABEL_ROLE = 'cellctl.role';
export const LABEL_CELL = 'cellctl.cell';

/** The router's process name, as the supervisor's (supervisor/protocol.ts ROUTER). */
export const ROUTER_NAME = 'router';
/** Where a cell container keeps its database (a named volume), and reads its data API token. */
export const DATA_DIR = '/data';
const TOKEN_FILE = '/run/cellctl/token';
/** The ports inside a cell container: each cell has an address of its own, so every cell uses the same. */
export const CONTAINER_CELL_PORT = 8080;
export const CONTAINER_DATA_PORT = 8081;

/**
 * A built-in cell in a container of any engine (docker, swarm, Kubernetes): its environment (the app
 * on `port` of every address, its data.db in DATA_DIR) and its `cellctl serve` command (the data API
 * on `dataPort` with the token in `tokenFile`). Each engine adds how it names, places and mounts it.
 */
export function cellContainer(cell: Pick<CellRecord, 'id' | 'template' | 'healthPath'>, port: number, dataPort: number, tokenFile: string) {
  return {
    env: {
      CELLCTL_ROLE: 'cell',
      CELL_ID: cell.id,
      PORT: String(port),
      CELL_HOST: '0.0.0.0',
      CELL_DB: `${DATA_DIR}/data.db`,
      CELL_HOME: DATA_DIR,
      CELLCTL_HEALTH_PATH: cell.healthPath,
    },
    command: ['serve', '--template', cell.template, '--data-port', String(dataPort), '--data-host', '0.0.0.0', '--token-file', tokenFile],
  };
}

/** An id for a new workspace (the `cellctl.workspace` label). */
export const newWorkspaceId = (): string => randomBytes(6).toString('hex');

/** What a docker workspace's settings hold, checked: the engine runtime's fields are set. */
export interface DockerSettings {
  workspaceId: string;
  image: string;
  network: string;
  subnet: string;
}

export function dockerSettings(settings: Settings): DockerSettings {
  if (settings.runtime !== 'docker' || !settings.engine?.subnet || !settings.workspaceId) throw new Error('not a docker workspace');
  return { workspaceId: settings.workspaceId, ...settings.engine, subnet: settings.engine.subnet };
}

/** The engine, its image there, and a network of the workspace's own, before anything else of it exists. */
export async function prepareDocker(workspaceId: string, image: string): Promise<Settings['engine'] & {}> {
  const engine = new DockerEngine();
  await engine.ping();
  if (!(await engine.imageExists(image))) {
    throw failure(
      `image ${image} is not on the Docker engine: build it with "cellctl image build --tag ${image}", or load it (docker load), then run init again`,
      'E_ENGINE',
    );
  }
  const network = `cellctl-${workspaceId}`;
  const { subnet } = await engine.createNetwork(network, { [LABEL_WORKSPACE]: workspaceId });
  return { image, network, subnet };
}

/** Undoes prepareDocker (an init that failed later). */
export async function unprepareDocker(network: string): Promise<void> {
  await new DockerEngine().removeNetwork(network);
}

/** The n-th host address of an IPv4 subnet (a.b.c.0/24, n = 10 → a.b.c.10). */
function hostAddress(subnet: string, n: number): string {
  const [base, bits] = subnet.split('/') as [string, string];
  const value = base.split('.').reduce((sum, part) => sum * 256 + Number(part), 0) + n;
  const size = 2 ** (32 - Number(bits));
  if (n >= size - 1) throw failure(`the network's subnet ${subnet} has no address left for another cell: delete a cell, or init a new workspace`, 'E_ENGINE');
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** The router's address on the network (the gateway is .1). */
export const routerAddress = (docker: DockerSettings): string => hostAddress(docker.subnet, 2);

/** The lowest cell address (from .10) that no cell of the workspace has. */
export function freeCellAddress(docker: DockerSettings, cells: readonly CellRecord[]): string {
  const taken = new Set(cells.map((cell) => new URL(cell.url).hostname));
  for (let n = 10; ; n += 1) {
    const address = hostAddress(docker.subnet, n);
    if (!taken.has(address)) return address;
  }
}

/** A template a cell container can run: a built-in app (the image holds it), not a user's own command. */
export function checkContainerTemplate(template: Template): void {
  if (!('app' in template.run)) {
    throw usageError(
      `template ${template.name} runs its own command, which the cellctl image does not hold: the docker runtime runs the built-in templates (basic, ecommerce); run this one on a local workspace, or in an image of your own beside "cellctl cell-agent" and "cellctl cells register" it`,
    );
  }
}

/** The docker runtime of one workspace. */
export class DockerRuntime {
  readonly engine = new DockerEngine();
  readonly docker: DockerSettings;

  constructor(
    readonly home: string,
    readonly settings: Settings,
  ) {
    this.docker = dockerSettings(settings);
  }

  get image(): string {
    return this.docker.image;
  }

  /** Where a cell runs, when its container runs: for "stop it first" messages. */
  async running(cellId: string): Promise<string | null> {
    const container = (await this.containers()).get(cellId);
    return container?.running ? `container ${container.name}` : null;
  }

  logLines(name: string, tail: number, sinceMs: number | null = null): Promise<LogRead> {
    return this.engine.logLines(this.containerName(name), tail, sinceMs);
  }

  followLogs(name: string, onLine: (line: string) => void): { stop: () => void; done: Promise<void> } {
    return this.engine.followLogs(this.containerName(name), onLine);
  }

  /** A process's container: `cellctl-<workspace id>-<name>`. */
  containerName(name: string): string {
    return `cellctl-${this.docker.workspaceId}-${name}`;
  }

  /** A cell's data volume. */
  volumeName(cellId: string): string {
    return `cellctl-${this.docker.workspaceId}-${cellId}-data`;
  }

  private labels(role: 'cell' | 'router', cell?: string): Record<string, string> {
    return { [LABEL_WORKSPACE]: this.docker.workspaceId, [LABEL_ROLE]: role, ...(cell ? { [LABEL_CELL]: cell } : {}) };
  }

  /** The workspace folder's owner: every container runs as it, so the 0600 secrets are theirs. */
  private owner(): string {
    const { uid, gid } = fs.statSync(this.home);
    return `${uid}:${gid}`;
  }

  /** A cell's container, as `create` makes it (and `export compose` writes it). */
  cellSpec(cell: CellRecord): ContainerSpec {
    const { env, command } = cellContainer(cell, cell.port, cell.dataPort!, TOKEN_FILE);
    return {
      name: this.containerName(cell.id),
      hostname: this.containerName(cell.id),
      image: this.docker.image,
      labels: this.labels('cell', cell.id),
      env,
      user: this.owner(),
      network: this.docker.network,
      ip: new URL(cell.url).hostname,
      mounts: [`${this.volumeName(cell.id)}:${DATA_DIR}`, `${cellTokenFile(this.home, cell.id)}:${TOKEN_FILE}:ro`],
      publish: [],
      command,
    };
  }

  /** Makes a cell's volume and container (not started): `create` on this runtime. */
  async createCell(cell: CellRecord): Promise<void> {
    await this.engine.createVolume(this.volumeName(cell.id), this.labels('cell', cell.id));
    try {
      await this.engine.createContainer(this.cellSpec(cell));
    } catch (error) {
      await this.engine.removeVolume(this.volumeName(cell.id)).catch(() => {});
      throw error;
    }
  }

  /** The router's container: the workspace folder at the same path, its ports published where the settings say. */
  routerSpec(): ContainerSpec {
    const { routerPort, routerAdminPort, routerHost, routerAdminHost } = this.settings;
    return {
      name: this.containerName(ROUTER_NAME),
      hostname: this.containerName(ROUTER_NAME),
      image: this.docker.image,
      labels: this.labels('router'),
      env: { CELLCTL_ROLE: 'router', CELLCTL_ROUTER_PORT: String(routerPort), CELLCTL_HOME: this.home },
      user: this.owner(),
      network: this.docker.network,
      ip: routerAddress(this.docker),
      mounts: [`${this.home}:${this.home}`],
      publish: [`${routerHost}:${routerPort}:${routerPort}`, `${routerAdminHost}:${routerAdminPort}:${routerAdminPort}`],
      command: [
        'router',
        'serve',
        '--port',
        String(routerPort),
        '--admin-port',
        String(routerAdminPort),
        '--host',
        '0.0.0.0',
        '--admin-host',
        '0.0.0.0',
        '--advertise',
        routerAddress(this.docker),
      ],
    };
  }

  /** Made on first start (and anew whenever it is not running). */
  private async createRouter(): Promise<void> {
    await this.engine.createContainer(this.routerSpec());
  }

  /** The workspace's containers by process name (a cell's id, or "router"). */
  async containers(): Promise<Map<string, ContainerView>> {
    const found = await this.engine.containers(LABEL_WORKSPACE, this.docker.workspaceId);
    // The same process may have two containers (cellctl's, stopped, and one from the exported compose
    // file): the running one is the process.
    const byName = new Map<string, ContainerView>();
    for (const view of found) {
      const name = view.labels[LABEL_ROLE] === 'router' ? ROUTER_NAME : (view.labels[LABEL_CELL] ?? view.name);
      if (!byName.get(name)?.running) byName.set(name, view);
    }
    return byName;
  }

  /** Starts the named processes (the router's container made if missing); which were started and which already ran. */
  async start(names: string[]): Promise<{ started: string[]; alreadyRunning: string[] }> {
    let containers = await this.containers();
    // The router holds no data: a stopped one is made anew, so it starts with today's settings (ports, image).
    const router = containers.get(ROUTER_NAME);
    if (names.includes(ROUTER_NAME) && !router?.running) {
      if (router) await this.engine.removeContainer(router.name);
      await this.createRouter();
      containers = await this.containers();
    }
    const missing = names.filter((name) => !containers.has(name));
    if (missing.length > 0) {
      throw failure(
        `${missing.join(', ')} ${missing.length === 1 ? 'has' : 'have'} no container on ${this.engine.name} (removed outside cellctl?): "cellctl delete ${missing[0]} --force", then create the cell again`,
        'E_ENGINE',
      );
    }
    const alreadyRunning = names.filter((name) => containers.get(name)!.running);
    const started = names.filter((name) => !alreadyRunning.includes(name));
    await this.engine.start(started.map((name) => this.containerName(name)));
    return { started, alreadyRunning };
  }

  /** Stops the named processes (null: every one, cells before the router); which were running. */
  async stop(names: string[] | null, timeoutMs: number): Promise<string[]> {
    const containers = await this.containers();
    const chosen = (names ?? [...containers.keys()]).filter((name) => containers.get(name)?.running);
    const cells = chosen.filter((name) => name !== ROUTER_NAME);
    await this.engine.stop(
      cells.map((name) => this.containerName(name)),
      timeoutMs,
    );
    if (chosen.includes(ROUTER_NAME)) await this.engine.stop([this.containerName(ROUTER_NAME)], timeoutMs);
    return [...cells, ...chosen.filter((name) => name === ROUTER_NAME)];
  }

  /**
   * The host pid of a running cell's process, for a drill that kills it as a crash would (the engine
   * restarts a process that dies; `docker kill` counts as a stop it does not undo). Only on the
   * engine's own host: elsewhere the pid is another machine's.
   */
  async hostPid(cellId: string): Promise<number> {
    const container = (await this.containers()).get(cellId);
    if (!container?.running || container.pid <= 0) throw failure(`cell ${cellId} is not running on the engine: start it with "cellctl start ${cellId}" first`);
    let cgroup = '';
    try {
      cgroup = fs.readFileSync(`/proc/${container.pid}/cgroup`, 'utf8');
    } catch {
      // not a process of this machine
    }
    if (!cgroup.includes(container.id)) {
      throw failure(`cell ${cellId}'s container runs on another machine than this one (${this.engine.name}): run the drill on the engine's host`);
    }
    return container.pid;
  }

  /** Removes a cell's container and its data volume (`delete`); what it left behind: never anything (null), the engine is here. */
  async removeCell(cellId: string): Promise<string | null> {
    await this.engine.removeContainer(this.containerName(cellId)).catch((error: Error) => {
      if (!/No such container/i.test(error.message)) throw error;
    });
    await this.engine.removeVolume(this.volumeName(cellId));
    return null;
  }
}
