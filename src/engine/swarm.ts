// Docker Swarm as the swarm runtime uses it (nodes, overlay networks, secrets, services and their
// tasks), through the docker client of a manager (DOCKER_HOST). Each call goes through
// DockerEngine.run (deadline, one-line failures). Knows nothing of workspaces: what runs where is
// decided in workspace/swarm.ts.
import { Readable } from 'node:stream';
import { failure } from '../shared/errors.js';
import { followDocker, lastLines, runDocker, sinceArgs, type LogRead, type DockerResult } from './client.js';
import { DockerEngine } from './docker.js';

export interface SwarmNode {
  id: string;
  hostname: string;
  /** The address the node advertises (where its host-mode ports are published). */
  address: string;
  /** ready, down, unknown, disconnected. */
  state: string;
  /** active, pause, drain. */
  availability: string;
  labels: Record<string, string>;
}

export interface ServiceSpec {
  name: string;
  image: string;
  labels: Record<string, string>;
  env: Record<string, string>;
  /** Placement constraints, e.g. `node.id==abc`. */
  constraints: string[];
  /** `replicated` with this many replicas, or `global` (one task per node that the constraints allow). */
  replicas: number | 'global';
  /** Container host name (Go template allowed: `{{.Node.ID}}`). */
  hostname?: string;
  network: string;
  /** `--mount` values (`type=volume,source=…,target=…`). */
  mounts: string[];
  /** Docker secrets, as `source=…,target=…`. */
  secrets: string[];
  /** Ports published in host mode on the task's node (the same number inside). */
  hostPorts: number[];
  command: string[];
  /** The entrypoint, when not the image's. */
  entrypoint?: string;
  /** `any` (restart whatever ended it, the default) or `none` (a one-shot job). */
  restart?: 'any' | 'none';
}

/** One task of a service, as the manager knows it. */
export interface TaskView {
  id: string;
  serviceId: string;
  nodeId: string;
  slot: number;
  /** new, pending, assigned, preparing, starting, running, complete, failed, rejected, shutdown, orphaned… */
  state: string;
  desiredState: string;
  /** Why it failed or was rejected ("No such image: …", "task: non-zero exit (137)"); '' when none. */
  error: string;
  /** When its state last changed. */
  since: string;
  /** Its container's main process on its node's host (0 when none). */
  pid: number;
  containerId: string | null;
  /** When the task was made (ms): the newest is the current one. */
  createdAt: number;
}

export interface ServiceView {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** Replicas asked for; null for a global service. */
  replicas: number | null;
  image: string;
  /** Its placement constraints (`node.id==…` pins it). */
  constraints: string[];
  /** Newest first. */
  tasks: TaskView[];
}

const labelFlags = (flag: string, labels: Record<string, string>): string[] => Object.entries(labels).flatMap(([key, value]) => [flag, `${key}=${value}`]);

/** The `docker service create` flags of a spec (a changed spec is made anew: `update` would need -add/-rm forms). */
function serviceFlags(spec: ServiceSpec): string[] {
  return [
    ...['--name', spec.name, '--detach', '--no-resolve-image'],
    ...(spec.replicas === 'global' ? ['--mode', 'global'] : ['--replicas', String(spec.replicas)]),
    ...labelFlags('--label', spec.labels),
    ...labelFlags('--container-label', spec.labels),
    ...Object.entries(spec.env).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
    ...spec.constraints.flatMap((constraint) => ['--constraint', constraint]),
    ...(spec.hostname ? ['--hostname', spec.hostname] : []),
    ...['--network', spec.network],
    ...spec.mounts.flatMap((mount) => ['--mount', mount]),
    ...spec.secrets.flatMap((secret) => ['--secret', secret]),
    ...spec.hostPorts.flatMap((port) => ['--publish', `mode=host,target=${port},published=${port}`]),
    // A crash is restarted after 1 s, not 5; the image's health check every 2 s, not 10: a task is
    // Starting until its first healthy check.
    ...['--restart-condition', spec.restart ?? 'any', '--restart-delay', '1s', '--health-interval', '2s', '--health-start-period', '30s'],
    ...(spec.entrypoint ? ['--entrypoint', spec.entrypoint] : []),
    spec.image,
    ...spec.command,
  ];
}

interface InspectedNode {
  ID: string;
  Spec: { Labels: Record<string, string> | null; Availability: string };
  Description: { Hostname: string };
  Status: { State: string; Addr: string };
  ManagerStatus?: { Addr?: string };
}

/** A node's address: Status.Addr, or for a manager that reports 0.0.0.0 or loopback there, its manager address's host. */
function nodeAddress(node: InspectedNode): string {
  const own = node.Status.Addr;
  if (own && own !== '0.0.0.0' && !own.startsWith('127.')) return own;
  return node.ManagerStatus?.Addr?.replace(/:\d+$/, '') ?? own;
}

interface InspectedService {
  ID: string;
  Spec: {
    Name: string;
    Labels: Record<string, string> | null;
    Mode: { Replicated?: { Replicas: number }; Global?: object };
    TaskTemplate: { ContainerSpec: { Image: string }; Placement?: { Constraints?: string[] | null } };
  };
}

interface InspectedTask {
  ID: string;
  CreatedAt: string;
  ServiceID: string;
  NodeID?: string;
  Slot?: number;
  DesiredState: string;
  Status: { State: string; Err?: string; Timestamp: string; ContainerStatus?: { ContainerID?: string; PID?: number } };
}

export class SwarmEngine {
  readonly docker = new DockerEngine();
  readonly name = this.docker.name;

  /** Fails with how to fix it unless the engine answers and is a swarm manager. */
  async checkManager(): Promise<void> {
    await this.docker.ping();
    const [state, control] = (await this.docker.run(['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'])).trim().split(' ');
    if (state !== 'active') {
      throw failure(
        `${this.name} is not in a swarm (state ${state || 'unknown'}): run "docker swarm init" there, or point DOCKER_HOST at a swarm manager`,
        'E_ENGINE',
      );
    }
    if (control !== 'true') {
      throw failure(`${this.name} is a swarm worker, not a manager: point DOCKER_HOST at a manager ("docker node ls" on one lists them)`, 'E_ENGINE');
    }
  }

  async nodes(): Promise<SwarmNode[]> {
    const ids = (await this.docker.run(['node', 'ls', '--quiet'])).split('\n').filter(Boolean);
    if (ids.length === 0) return [];
    const inspected = JSON.parse(await this.docker.run(['node', 'inspect', ...ids])) as InspectedNode[];
    return inspected.map((node) => ({
      id: node.ID,
      hostname: node.Description.Hostname,
      address: nodeAddress(node),
      state: node.Status.State,
      availability: node.Spec.Availability,
      labels: node.Spec.Labels ?? {},
    }));
  }

  async createOverlay(name: string, labels: Record<string, string>): Promise<void> {
    await this.docker.run(['network', 'create', '--driver', 'overlay', '--attachable', ...labelFlags('--label', labels), name]);
  }

  /** A secret made from `value` (never on a command line: through stdin). */
  async createSecret(name: string, value: string, labels: Record<string, string>): Promise<void> {
    const result = await runDocker(['secret', 'create', ...labelFlags('--label', labels), name, '-'], { timeoutMs: 30_000, input: Readable.from([value]) });
    if (result.code !== 0) throw failure(`docker secret create ${name} failed: ${lastLines(result.stderr, 2).join('; ') || `exit ${result.code}`}`, 'E_ENGINE');
  }

  /** Removes what exists of these secrets. */
  async removeSecrets(names: string[]): Promise<void> {
    const existing = new Set((await this.docker.run(['secret', 'ls', '--format', '{{.Name}}'])).split('\n').filter(Boolean));
    const present = names.filter((name) => existing.has(name));
    if (present.length > 0) await this.docker.run(['secret', 'rm', ...present]);
  }

  async createService(spec: ServiceSpec): Promise<void> {
    await this.docker.run(['service', 'create', ...serviceFlags(spec)]);
  }

  async scale(name: string, replicas: number): Promise<void> {
    await this.docker.run(['service', 'scale', '--detach', `${name}=${replicas}`]);
  }

  async removeService(name: string): Promise<void> {
    await this.docker.run(['service', 'rm', name]).catch((error: Error) => {
      if (!/not found|No such service/i.test(error.message)) throw error;
    });
  }

  /** Every service carrying `label=value`, with its tasks (newest first). */
  async services(label: string, value: string): Promise<ServiceView[]> {
    const ids = (await this.docker.run(['service', 'ls', '--quiet', '--filter', `label=${label}=${value}`])).split('\n').filter(Boolean);
    if (ids.length === 0) return [];
    // Services and tasks come and go between these calls (a router removed, old tasks pruned): what
    // vanished meanwhile is left out, not an error.
    const services = await this.inspectFound<InspectedService>(['service', 'inspect', ...ids]);
    const listed = await runDocker(['service', 'ps', '--quiet', '--no-trunc', ...services.map((service) => service.ID)], { timeoutMs: 30_000 });
    const taskIds = listed.stdout.split('\n').filter(Boolean);
    const tasks = taskIds.length === 0 ? [] : await this.inspectFound<InspectedTask>(['inspect', '--type', 'task', ...new Set(taskIds)]);
    const views = tasks
      .map((task): TaskView => ({
        id: task.ID,
        serviceId: task.ServiceID,
        nodeId: task.NodeID ?? '',
        slot: task.Slot ?? 0,
        state: task.Status.State,
        desiredState: task.DesiredState,
        error: task.Status.Err ?? '',
        since: task.Status.Timestamp,
        pid: task.Status.ContainerStatus?.PID ?? 0,
        containerId: task.Status.ContainerStatus?.ContainerID ?? null,
        createdAt: Date.parse(task.CreatedAt),
      }))
      .sort((x, y) => y.createdAt - x.createdAt);
    return services.map((service) => ({
      id: service.ID,
      name: service.Spec.Name,
      labels: service.Spec.Labels ?? {},
      replicas: service.Spec.Mode.Replicated ? service.Spec.Mode.Replicated.Replicas : null,
      image: service.Spec.TaskTemplate.ContainerSpec.Image,
      constraints: service.Spec.TaskTemplate.Placement?.Constraints ?? [],
      tasks: views.filter((task) => task.serviceId === service.ID),
    }));
  }

  /** `docker … inspect` of objects that may have vanished since they were listed: the ones still there. */
  private async inspectFound<T>(args: string[]): Promise<T[]> {
    const result = await runDocker(args, { timeoutMs: 30_000 });
    if (result.code !== 0 && !/no such|not found/i.test(result.stderr)) await this.docker.run(args); // throws the engine's own error
    const found = result.stdout.trim();
    return found ? (JSON.parse(found) as T[]) : [];
  }

  /**
   * The last `tail` lines a service's tasks wrote, oldest first (since `sinceMs`, by the engine's clock
   * of each line, when given). A node the manager cannot reach (down, or its agent reconnecting)
   * leaves its tasks' lines out: the rest is returned, with what is missing said in `missing`.
   */
  async logLines(name: string, tail: number, sinceMs: number | null = null): Promise<LogRead> {
    return serviceLogRead(name, await runDocker(['service', 'logs', '--raw', '--tail', String(tail), ...sinceArgs(sinceMs), name], { timeoutMs: 30_000 }));
  }

  /** Calls `onLine` with each new line a service's tasks write, until `stop()`. */
  followLogs(name: string, onLine: (line: string) => void): { stop: () => void; done: Promise<void> } {
    return followDocker(['service', 'logs', '--raw', '--follow', '--since', '0s', name], onLine);
  }
}

/** What `docker service logs` gave: its lines, or, when a node could not be read, the rest and what is missing; any other failure throws. */
export function serviceLogRead(name: string, result: Pick<DockerResult, 'code' | 'stdout' | 'stderr'>): LogRead {
  const incomplete = /incomplete log stream\.?(?:.*reasons: )?(.*)$/m.exec(result.stderr);
  if (result.code !== 0 && !incomplete)
    throw failure(`docker service logs ${name} failed: ${lastLines(result.stderr, 2).join('; ') || `exit ${result.code}`}`, 'E_ENGINE');
  const lines = `${result.stdout}${result.stderr}`.split('\n').filter((line) => line !== '' && !line.includes('incomplete log stream'));
  return { lines, missing: incomplete ? incomplete[1]!.trim() || "some of its tasks' lines" : null };
}
