// The Docker Engine as cellctl uses it: through the user's own `docker` client, so DOCKER_HOST, a
// docker context or an ssh:// engine reach it exactly as the user's own commands do, and cellctl
// needs no native client library. Each call has a deadline; each failure says how to fix it.
// Knows nothing of workspaces: what runs where is decided above (workspace/containers.ts).
import { execFile, spawn } from 'node:child_process';
import { failure } from '../shared/errors.js';

/** How long a question to the engine may take (a build or a pull has its own, longer). */
const ASK_MS = 30_000;
/** How long `docker version` may take before the engine counts as not answering. */
const PING_MS = 8_000;

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

/** What every failure of the engine starts with: which engine, so the user knows what to fix. */
export const engineName = (host: string | undefined): string =>
  host ? `the Docker engine at ${host}` : 'the Docker engine (DOCKER_HOST unset: the local socket)';

export class DockerEngine {
  /** The DOCKER_HOST to use; undefined: the client's own default (its context, or the local socket). */
  constructor(readonly host: string | undefined = process.env.DOCKER_HOST) {}

  private env(): NodeJS.ProcessEnv {
    const env = { ...process.env };
    if (this.host) env.DOCKER_HOST = this.host;
    return env;
  }

  /** Runs `docker args…`; its stdout, or a CellctlError that says what failed and how to fix it. */
  run(args: string[], timeoutMs = ASK_MS): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('docker', args, { env: this.env(), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        reject(this.explain(args, error as NodeJS.ErrnoException & { killed?: boolean }, String(stderr), timeoutMs));
      });
    });
  }

  private explain(args: string[], error: NodeJS.ErrnoException & { killed?: boolean }, stderr: string, timeoutMs: number) {
    if (error.code === 'ENOENT')
      return failure('no docker client on the PATH: install Docker (Debian: apt-get install docker.io) or put `docker` on the PATH', 'E_ENGINE');
    const said = stderr.trim().split('\n').filter(Boolean).slice(-3).join('; ');
    if (error.killed)
      return failure(
        `${engineName(this.host)} did not answer "docker ${args[0]}" within ${Math.round(timeoutMs / 1000)} s: is dockerd running (and DOCKER_HOST right)?`,
        'E_ENGINE',
      );
    if (/Cannot connect to the Docker daemon|error during connect|connection refused|no such host/i.test(said)) {
      return failure(`${engineName(this.host)} does not answer (${said}): start dockerd, or set DOCKER_HOST to an engine that runs`, 'E_ENGINE');
    }
    return failure(`docker ${args.slice(0, 2).join(' ')} failed: ${said || error.message}`, 'E_ENGINE');
  }

  /** The engine's version; fails within PING_MS when it does not answer. */
  async ping(): Promise<string> {
    return (await this.run(['version', '--format', '{{.Server.Version}}'], PING_MS)).trim();
  }

  async imageExists(image: string): Promise<boolean> {
    return this.exists(['image', 'inspect', '--format', '{{.Id}}', image]);
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
    const labelArgs = Object.entries(labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]);
    await this.run(['network', 'create', '--driver', 'bridge', ...labelArgs, name]);
    const [subnet, gateway] = (await this.run(['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', name]))
      .trim()
      .split(' ');
    await this.run(['network', 'rm', name]);
    if (!subnet || !gateway) throw failure(`${engineName(this.host)} gave network ${name} no IPv4 subnet: give dockerd a default address pool`, 'E_ENGINE');
    await this.run(['network', 'create', '--driver', 'bridge', '--subnet', subnet, '--gateway', gateway, ...labelArgs, name]);
    return { subnet, gateway };
  }

  async removeNetwork(name: string): Promise<void> {
    if (await this.networkExists(name)) await this.run(['network', 'rm', name]);
  }

  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    await this.run(['volume', 'create', ...Object.entries(labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]), name]);
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
      ...Object.entries(spec.labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]),
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

  async kill(name: string, signal: string): Promise<void> {
    await this.run(['kill', '--signal', signal, name]);
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

  /** The last `tail` lines a container wrote (stdout and stderr), oldest first. */
  async logLines(name: string, tail: number): Promise<string[]> {
    const args = ['logs', '--tail', String(tail), name];
    return new Promise((resolve, reject) => {
      execFile('docker', args, { env: this.env(), timeout: ASK_MS, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error) return reject(this.explain(args, error as NodeJS.ErrnoException & { killed?: boolean }, String(stderr), ASK_MS));
        resolve(`${stdout}${stderr}`.split('\n').filter(Boolean));
      });
    });
  }

  /** Calls `onLine` with each new line a container writes, until `stop()`; resolves when the engine ends it. */
  followLogs(name: string, onLine: (line: string) => void): { stop: () => void; done: Promise<void> } {
    const child = spawn('docker', ['logs', '--follow', '--since', '0s', name], { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop()!;
        for (const line of lines) if (line) onLine(line);
      });
    }
    const done = new Promise<void>((resolve) => {
      child.on('error', () => resolve());
      child.on('close', () => resolve());
    });
    return { stop: () => child.kill('SIGTERM'), done };
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
