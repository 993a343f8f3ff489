// Simulated hosts for tests: Linux network namespaces joined by a bridge that lives in a namespace of
// its own, so nothing is added to the machine's own network. iproute2 only; needs root. Everything a
// run makes is named after it and torn down by pid and by name — on normal exit, on failure, and by
// the suite's global teardown (sweepHosts) for a run that died.
import { type ChildProcess, execFileSync, spawn, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import { withDescendants } from '../helpers.js';

/** Every namespace of this harness is named `cch-<run>-<file>-<host>`: the run's pid, then the test file's process. */
const PREFIX = 'cch-';
/** The vitest run (global setup sets it, so its teardown can find this run's namespaces); else this process. */
const RUN = process.env.CELLCTL_HOSTS_RUN ?? String(process.pid);
const OWN = `${PREFIX}${RUN}-${process.pid}-`;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Host {
  name: string;
  /** The host's address on the bridge. */
  ip: string;
  /** The network namespace. */
  ns: string;
  /** Starts `command` inside the host; the ChildProcess's pid is the command's (ip execs it). Killed at teardown. */
  exec(command: string, args: string[], options?: SpawnOptions): ChildProcess;
  /** Runs `command` inside the host to its end (killed after `timeoutMs`, default 60 s). */
  run(command: string, args: string[], options?: SpawnOptions & { timeoutMs?: number }): Promise<RunResult>;
}

export interface Hosts {
  hosts: Record<string, Host>;
  /** The host's side of its link is fine, the bridge's side goes down: packets to and from it are dropped. */
  cutLink(host: Host): void;
  restoreLink(host: Host): void;
  /** A lost host: every process in it killed, its namespace (and so its link) deleted. */
  destroy(host: Host): void;
  /** Kills every process started here (and any still in a namespace), then deletes links and namespaces. */
  teardown(): void;
  /** Names still present that this harness made (for the tests of the harness itself). */
  leftovers(): string[];
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
}

function tryIp(args: string[]): void {
  try {
    ip(args);
  } catch {
    // already gone
  }
}

export function listNamespaces(): string[] {
  try {
    return ip(['netns', 'list'])
      .split('\n')
      .map((line) => line.split(' ')[0]!)
      .filter(Boolean);
  } catch {
    return [];
  }
}

function pidsIn(ns: string): number[] {
  try {
    return ip(['netns', 'pids', ns]).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const alive = (pid: number): boolean => {
  try {
    // A zombie has no status worth waiting on: it holds nothing.
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
};

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function killAll(pids: Iterable<number>): void {
  const victims = [...pids].filter((pid) => pid > 1 && pid !== process.pid);
  for (const pid of victims) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  const deadline = Date.now() + 5_000;
  while (victims.some(alive) && Date.now() < deadline) sleepSync(20);
}

/**
 * Kills what is inside a namespace and every process below those (a dockerd's containers live in
 * namespaces of their own), then deletes it (its veth ends go with it).
 */
function removeNamespace(ns: string): void {
  killAll(withDescendants(pidsIn(ns)));
  tryIp(['netns', 'del', ns]);
}

/** Why simulated hosts cannot be made here (one line), or null when they can. */
export function hostsUnavailable(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (run the tests as root, as CI does)';
  try {
    ip(['-V']);
  } catch {
    return 'iproute2 ("ip") is not installed (apt-get install iproute2)';
  }
  const probe = `${OWN}probe`;
  try {
    ip(['netns', 'add', probe]);
  } catch (error) {
    return `"ip netns add" failed: ${
      String((error as { stderr?: string }).stderr ?? error)
        .trim()
        .split('\n')[0]
    }`;
  } finally {
    tryIp(['netns', 'del', probe]);
  }
  return null;
}

/** A /24 in 10/8 picked from the pids: namespaces are isolated anyway, this only keeps runs apart in logs. */
function subnet(): string {
  return `10.${200 + (process.pid % 50)}.${(process.pid >> 6) % 256}`;
}

/** Makes one namespace per name, each with a veth into the bridge namespace, `lo` up, no default route. */
export function makeHosts(names: readonly string[]): Hosts {
  const bridgeNs = `${OWN}br`;
  const net = subnet();
  const children = new Set<ChildProcess>();
  const made: string[] = [];
  const hosts: Record<string, Host> = {};
  const portOf = (index: number) => `port${index}`;
  let tornDown = false;

  const teardown = () => {
    if (tornDown) return;
    tornDown = true;
    process.off('exit', teardown);
    killAll([...children].filter((child) => child.exitCode === null && child.signalCode === null).map((child) => child.pid ?? 0));
    for (const ns of made) removeNamespace(ns);
  };
  process.on('exit', teardown);

  try {
    ip(['netns', 'add', bridgeNs]);
    made.push(bridgeNs);
    ip(['-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge', 'forward_delay', '0']);
    ip(['-n', bridgeNs, 'link', 'set', 'lo', 'up']);
    ip(['-n', bridgeNs, 'link', 'set', 'br0', 'up']);
    names.forEach((name, index) => {
      const ns = `${OWN}${name}`;
      const address = `${net}.${index + 2}`;
      ip(['netns', 'add', ns]);
      made.push(ns);
      // Both ends are made where they live: nothing ever appears in the machine's own namespace.
      ip(['-n', bridgeNs, 'link', 'add', portOf(index), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      ip(['-n', bridgeNs, 'link', 'set', portOf(index), 'master', 'br0', 'up']);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      ip(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
      ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      hosts[name] = {
        name,
        ip: address,
        ns,
        exec(command, args, options = {}) {
          const child = spawn('ip', ['netns', 'exec', ns, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
          children.add(child);
          child.once('exit', () => children.delete(child));
          return child;
        },
        run(command, args, options = {}) {
          const { timeoutMs = 60_000, ...rest } = options;
          const child = this.exec(command, args, rest);
          let stdout = '';
          let stderr = '';
          child.stdout?.on('data', (data: Buffer) => (stdout += data.toString('utf8')));
          child.stderr?.on('data', (data: Buffer) => (stderr += data.toString('utf8')));
          const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
          return new Promise((resolve) =>
            child.once('close', (code) => {
              clearTimeout(timer);
              resolve({ code, stdout, stderr });
            }),
          );
        },
      };
    });
  } catch (error) {
    teardown();
    throw error;
  }

  const indexOf = (host: Host) => names.indexOf(host.name);
  return {
    hosts,
    cutLink: (host) => ip(['-n', bridgeNs, 'link', 'set', portOf(indexOf(host)), 'down']),
    restoreLink: (host) => ip(['-n', bridgeNs, 'link', 'set', portOf(indexOf(host)), 'up']),
    destroy(host) {
      killAll([...children].filter((child) => child.spawnargs[3] === host.ns).map((child) => child.pid ?? 0));
      removeNamespace(host.ns);
      made.splice(made.indexOf(host.ns), 1);
    },
    teardown,
    leftovers: () => listNamespaces().filter((ns) => ns.startsWith(OWN)),
  };
}

/**
 * The suite's global teardown: namespaces of this run, and of runs whose process is gone (killed
 * with -9), with whatever still runs in them. Runs of other live processes are left alone.
 */
export function sweepHosts(run = RUN): string[] {
  const swept: string[] = [];
  for (const ns of listNamespaces()) {
    const match = /^cch-(\d+)-(\d+)-/.exec(ns);
    if (!match) continue;
    const [, owner, file] = match;
    const live = (pid: string) => Number(pid) !== process.pid && alive(Number(pid));
    if (owner !== run && (live(owner!) || live(file!))) continue;
    removeNamespace(ns);
    swept.push(ns);
  }
  return swept;
}
