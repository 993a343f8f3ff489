// The Docker Engine as the docker runtime uses it (networks, volumes, containers), through the one
// docker client (client.ts). Each call has a deadline; each failure says how to fix it. Knows nothing
// of workspaces: what runs where is decided above (workspace/containers.ts).
import { failure } from '../shared/errors.js';
import { checkEngine, engineName, followDocker, inspectImage, lastLines, runDocker, sinceArgs, type LogRead } from './client.js';

/** How long a question to the engine may take (a build or a pull has its own, longer). */
const ASK_MS = 30_000;

export interface ContainerSpec {
  name: string;
  /** Its host name inside (a router's id is its host name and port). */
  hostname: string;
  image: string;
  labels: Record<string, string>;
  env: Record<string, string>;
  /** `uid:gid` the process runs as. */
  user: string;
  network: string;
  ip: string;
  /** Named volumes and bind mounts, as `source:target[:ro]`. */
  mounts: string[];
  /** Ports published on the engine's host, as `address:hostPort:containerPort`. */
  publish: string[];
  command: string[];
}

/** A container as `docker inspect` tells it, reduced to what status and the lifecycle read. */
export interface ContainerView {
  name: string;
  id: string;
  labels: Record<string, string>;
  /** created, running, restarting, paused, exited, dead. */
  status: string;
  running: boolean;
  /** The container's main process on the engine's host (0 when not running). */
  pid: number;
  startedAt: string | null;
  finishedAt: string | null;
  exitCode: number;
  restarts: number;
  /** starting, healthy, unhealthy, or null without a HEALTHCHECK. */
  health: string | null;
  image: string;
  error: string | null;
}

/** `--label key=value` for each label. */
const labelFlags = (labels: Record<string, string>): string[] => Object.entries(labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]);

export class DockerEngine {
  /** Which engine, for messages: DOCKER_HOST's, or the client's default. */
  readonly name = engineName();

  /** Runs `docker args…`; its stdout, or a CellctlError that says what failed and how to fix it. */
  async run(args: string[], timeoutMs = ASK_MS): Promise<string> {
    const result = await runDocker(args, { timeoutMs });
    if (result.code === 0) return result.stdout;
    const said = lastLines(result.stderr, 3).join('; ');
    if (result.timedOut)
      throw failure(
        `${this.name} did not answer "docker ${args[0]}" within ${Math.round(timeoutMs / 1000)} s: is dockerd running (and DOCKER_HOST right)?`,
        'E_DOCKER_UNAVAILABLE',
      );
    if (/Cannot connect to the Docker daemon|error during connect|connection refused/i.test(said)) {
      throw failure(`${this.name} does not answer (${said}): start dockerd, or set DOCKER_HOST to an engine that runs`, 'E_DOCKER_UNAVAILABLE');
    }
    throw failure(`docker ${args.slice(0, 2).join(' ')} failed: ${said || `exit ${result.code}`}`, 'E_ENGINE');
  }

  /** The engine's version; fails at once when it does not answer. */
  ping(): Promise<string> {
    return checkEngine();
  }

  async imageExists(image: string): Promise<boolean> {
    return (await inspectImage(image)) !== null;
  }

  async networkExists(name: string): Promise<boolean> {
    return this.exists(['network', 'inspect', '--format', '{{.Id}}', name]);
  }

  private async exists(args: string[]): Promise<boolean> {
    try {
      await this.run(args);
      return true;
    } catch (error) {
      if (/No such|not found/i.test(String((error as Error).message))) return false;
      throw error;
    }
  }

  /**
   * A bridge network with a subnet of its own (fixed container addresses need one): the engine
   * picks a free subnet from its pools, which is then fixed by re-creating the network with it.
   */
  async createNetwork(name: string, labels: Record<string, string>): Promise<{ subnet: string; gateway: string }> {
    await this.run(['network', 'create', '--driver', 'bridge', ...labelFlags(labels), name]);
    const [subnet, gateway] = (await this.run(['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', name]))
      .trim()
      .split(' ');
    await this.run(['network', 'rm', name]);
    if (!subnet || !gateway) throw failure(`${this.name} gave network ${name} no IPv4 subnet: give dockerd a default address pool`, 'E_ENGINE');
    await this.run(['network', 'create', '--driver', 'bridge', '--subnet', subnet, '--gateway', gateway, ...labelFlags(labels), name]);
    return { subnet, gateway };
  }

  async removeNetwork(name: string): Promise<void> {
    if (await this.networkExists(name)) await this.run(['network', 'rm', name]);
  }

  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    await this.run(['volume', 'create', ...labelFlags(labels), name]);
  }

  async removeVolume(name: string): Promise<void> {
    await this.run(['volume', 'rm', '--force', name]);
  }

  /** Creates (does not start) a container that the engine restarts unless it is stopped. */
  async createContainer(spec: ContainerSpec): Promise<void> {
    await this.run([
      'create',
      '--name',
      spec.name,
      '--hostname',
      spec.hostname,
      '--restart',
      'unless-stopped',
      '--user',
      spec.user,
      '--network',
      spec.network,
      '--ip',
      spec.ip,
      ...labelFlags(spec.labels),
      ...Object.entries(spec.env).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
      ...spec.mounts.flatMap((mount) => ['--volume', mount]),
      ...spec.publish.flatMap((port) => ['--publish', port]),
      spec.image,
      ...spec.command,
    ]);
  }

  async start(names: string[]): Promise<void> {
    if (names.length > 0) await this.run(['start', ...names]);
  }

  async stop(names: string[], timeoutMs: number): Promise<void> {
    if (names.length > 0) await this.run(['stop', '--time', String(Math.max(1, Math.ceil(timeoutMs / 1000))), ...names], timeoutMs + ASK_MS);
  }

  async removeContainer(name: string): Promise<void> {
    await this.run(['rm', '--force', '--volumes', name]);
  }

  /** Every container carrying `label=value`, running or not. */
  async containers(label: string, value: string): Promise<ContainerView[]> {
    const ids = (await this.run(['ps', '--all', '--quiet', '--no-trunc', '--filter', `label=${label}=${value}`])).split('\n').filter(Boolean);
    if (ids.length === 0) return [];
    const inspected = JSON.parse(await this.run(['inspect', ...ids])) as InspectedContainer[];
    return inspected.map(viewOf);
  }

  /** The last `tail` lines a container wrote (stdout and stderr), oldest first (since `sinceMs`, by the engine's clock of each line, when given). */
  async logLines(name: string, tail: number, sinceMs: number | null = null): Promise<LogRead> {
    const result = await runDocker(['logs', '--tail', String(tail), ...sinceArgs(sinceMs), name], { timeoutMs: ASK_MS });
    if (result.code !== 0) throw failure(`docker logs ${name} failed: ${lastLines(result.stderr, 2).join('; ') || `exit ${result.code}`}`, 'E_ENGINE');
    return { lines: `${result.stdout}${result.stderr}`.split('\n').filter(Boolean), missing: null };
  }

  /** Calls `onLine` with each new line a container writes, until `stop()`; `done` resolves when the engine ends it. */
  followLogs(name: string, onLine: (line: string) => void): { stop: () => void; done: Promise<void> } {
    return followDocker(['logs', '--follow', '--since', '0s', name], onLine);
  }
}

interface InspectedContainer {
  Id: string;
  Name: string;
  RestartCount: number;
  Config: { Labels: Record<string, string> | null; Image: string };
  State: { Status: string; Running: boolean; Pid: number; StartedAt: string; FinishedAt: string; ExitCode: number; Error: string; Health?: { Status: string } };
}

const NEVER = '0001-01-01T00:00:00Z';

function viewOf(container: InspectedContainer): ContainerView {
  const { State: state } = container;
  return {
    name: container.Name.replace(/^\//, ''),
    id: container.Id.slice(0, 12),
    labels: container.Config.Labels ?? {},
    status: state.Status,
    running: state.Running,
    pid: state.Pid,
    startedAt: state.StartedAt && state.StartedAt !== NEVER ? state.StartedAt : null,
    finishedAt: state.FinishedAt && state.FinishedAt !== NEVER ? state.FinishedAt : null,
    exitCode: state.ExitCode,
    restarts: container.RestartCount,
    health: state.Health?.Status ?? null,
    image: container.Config.Image,
    error: state.Error || null,
  };
}
