// The engine-test harness: a private Docker engine per test file, a base image made from this
// machine's own Node.js, and cellctl's image built on it with the real CLI. No registry is needed.
//
//   engineUnavailable(): string | null
//       Why no dockerd can run here (one line: not Linux, not root, no dockerd or docker binary), or
//       null. Engine tests skip with it: `describe.skipIf(why !== null)` after printing it.
//   startDockerd(name: string, options?: { netns?: string }): Promise<Engine>
//       Starts a dockerd in a folder of this run (helpers.ts runDir), with its own data root, exec
//       root, socket, config file, containerd namespace and /16 address pool (pools.ts), no iptables
//       and no docker0 bridge; resolves once `docker info` answers (deadline 60 s).
//       options.netns: inside that network namespace (a simulated host of test/hosts/netns.ts, by
//       its name in /var/run/netns), started as `nsenter --net=… dockerd` (`ip netns exec` remounts
//       /sys, and dockerd then fails with "Devices cgroup isn't mounted"). There dockerd keeps its
//       iptables handling (it changes that namespace's tables only; swarm's overlay networks and
//       host-mode published ports need it), its local networks take the lower /17 of its pool and
//       the upper /17 is left for a swarm it leads (swarmPool). Its socket, folders and containerd
//       namespace are on the machine, as for any engine, so the client runs from here.
//   Engine = { name, dir, host, pid, pool, swarmPool, netns, env, docker(args, opts?), stop() }
//       host: unix://… for DOCKER_HOST; env: { DOCKER_HOST: host } to hand to a process;
//       docker(): runs the docker client against this engine → { code, stdout, stderr } (never throws
//       for a non-zero exit; opts.timeoutMs, default 120 s; opts.input: a stream for its stdin);
//       stop(): removes every container, stops dockerd by pid (TERM, then KILL with everything below
//       it; a containerd or shim that a dead dockerd left is found by its CELLCTL_HOME), unmounts
//       what is still mounted under its folder (findmnt), releases its pool, removes the folder.
//       Idempotent. A file that forgets it is caught by the suite's teardown
//       (test/global-setup.ts), which fails the run.
//   baseImage(engine): Promise<string>
//       `docker import` of this machine's node (process.execPath), the libraries `ldd` lists for it,
//       npm (with an `npm` wrapper), busybox-static as /bin/sh and the few tools the Dockerfile's RUN
//       steps use, a minimal /etc/passwd and /etc/group, /tmp 1777. Once per engine; its tag.
//   baseUnavailable(): string | null — why baseImage cannot be made here (no busybox-static, no npm).
//   cellctlImage(engine): Promise<string>
//       `cellctl image build --base <baseImage> --deps context --tag cellctl:test-<run> -o json`, run
//       with the built CLI once per engine (allow BUILD_MS in a hook); its tag (testTag()).
//       builtImage(engine) gives the JSON it printed, with buildMs.
//   healthEvent(engine, container, sinceMs): Promise<'healthy' | 'unhealthy'>
//       The first health status `docker events` reports for a container since a time (no polling).
//   runCli(args, env, timeoutMs): the built CLI with env added (e.g. engine.env), to its end.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { CLI, isAlive, killAndWait, processesUnder, runDir, RUN_PREFIX, unmountUnder, withDescendants } from '../helpers.js';
import { claimPool, releasePool } from './pools.js';

export interface DockerCall {
  code: number;
  stdout: string;
  stderr: string;
}

export interface DockerCallOptions {
  timeoutMs?: number;
  input?: Readable;
  env?: NodeJS.ProcessEnv;
}

export interface Engine {
  name: string;
  /** The engine's folder: data root, exec root, socket, log (dockerd.log). */
  dir: string;
  /** For DOCKER_HOST. */
  host: string;
  pid: number;
  /** The /16 its networks take their subnets from (claimed in pools.ts). */
  pool: string;
  /** The upper /17 of `pool`, which the engine's local networks leave alone: for `swarm init --default-addr-pool`. */
  swarmPool: string;
  /** The network namespace it runs in, or null for the machine's own. */
  netns: string | null;
  env: { DOCKER_HOST: string };
  docker(args: string[], options?: DockerCallOptions): Promise<DockerCall>;
  stop(): Promise<void>;
}

const DOCKERD = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((file) => fs.existsSync(file)) ?? null;
const STARTED_MS = 60_000;
/** The longest a unix socket path may be (sun_path). */
const SOCKET_PATH_MAX = 107;

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, command)));
}

export function engineUnavailable(): string | null {
  if (process.platform !== 'linux') return `a private dockerd needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'a private dockerd needs root (run the engine tests as root, as CI does)';
  if (DOCKERD === null) return 'no dockerd binary (apt-get install docker.io; .ci/run does)';
  if (!onPath('docker')) return 'no docker client on PATH (apt-get install docker.io; .ci/run does)';
  return null;
}

/** Runs the docker client against `host`. */
function dockerAt(host: string, args: string[], options: DockerCallOptions = {}): Promise<DockerCall> {
  return runCommand('docker', args, { ...options, env: { ...process.env, ...options.env, DOCKER_HOST: host, DOCKER_BUILDKIT: '0' } });
}

/** Runs `command` to its end, killed at its deadline (default 120 s): its exit code and output. */
export function runCommand(command: string, args: string[], options: DockerCallOptions & { cwd?: string } = {}): Promise<DockerCall> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: [options.input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    if (options.input) options.input.pipe(child.stdin!);
    child.once('error', (error) => (clearTimeout(timer), reject(error)));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr: signal ? `${stderr}\n(killed by ${signal}: ${command} ${args.join(' ')} passed its deadline)` : stderr });
    });
  });
}

const logTail = (file: string): string => {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
};

/** Resolves when `socket` exists (an inotify event on its folder), rejects when dockerd exits or the deadline passes. */
function socketAppears(socket: string, dockerd: ChildProcess, deadline: number, log: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = fs.watch(path.dirname(socket));
    const done = (error?: Error) => {
      watcher.close();
      clearTimeout(timer);
      dockerd.off('exit', exited);
      if (error) reject(error);
      else resolve();
    };
    const exited = (code: number | null) => done(new Error(`dockerd exited (${code}) before it served; its log:\n${logTail(log)}`));
    const timer = setTimeout(() => done(new Error(`dockerd made no socket within ${STARTED_MS / 1000} s; its log:\n${logTail(log)}`)), deadline - Date.now());
    watcher.on('change', () => fs.existsSync(socket) && done());
    dockerd.once('exit', exited);
    if (fs.existsSync(socket)) done();
  });
}

/**
 * TERM, then waits (bounded) for dockerd to exit; KILLs it if it does not, and whatever it started
 * (containerd, shims, containers) that outlived it.
 */
async function stopDockerd(dockerd: ChildProcess, pid: number): Promise<void> {
  if (!isAlive(pid)) return;
  const below = withDescendants([pid]);
  const exited = new Promise<boolean>((resolve) =>
    dockerd.exitCode !== null || dockerd.signalCode !== null ? resolve(true) : dockerd.once('exit', () => resolve(true)),
  );
  process.kill(pid, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([exited, new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 20_000)))]);
  clearTimeout(timer);
  await killAndWait(inTime ? below.filter(isAlive) : below);
}

export interface DockerdOptions {
  /** A network namespace (its name in /var/run/netns) to run in; default: the machine's own. */
  netns?: string;
}

/** `10.x.0.0/16` → its lower and upper /17. */
function halves(pool: string): [string, string] {
  const [a, b] = pool.split('.');
  return [`${a}.${b}.0.0/17`, `${a}.${b}.128.0/17`];
}

export async function startDockerd(name: string, options: DockerdOptions = {}): Promise<Engine> {
  const why = engineUnavailable();
  if (why) throw new Error(`cannot start a dockerd: ${why}`);
  const run = runDir();
  const dir = fs.mkdtempSync(path.join(run, `${name}-`));
  const exec = path.join(dir, 'x');
  const socket = path.join(dir, 's');
  const longest = path.join(exec, 'containerd', 'containerd.sock.ttrpc');
  if (longest.length > SOCKET_PATH_MAX) throw new Error(`the run folder's path is too long for containerd's socket (${longest}): set a shorter TMPDIR`);
  const pool = claimPool(run, dir);
  const log = path.join(dir, 'dockerd.log');
  fs.writeFileSync(path.join(dir, 'daemon.json'), '{}\n');
  const namespace = `cellctl-${path.basename(dir)}`.toLowerCase();
  const logFd = fs.openSync(log, 'a');
  // CELLCTL_HOME names the folder, so the suite's teardown finds dockerd and containerd by it; TMPDIR
  // keeps what they write there in it (containerd dumps its stacks there when dockerd restarts it).
  const netns = options.netns ?? null;
  const [localPool, swarmPool] = halves(pool);
  const args = [
    ...['--data-root', path.join(dir, 'data'), '--exec-root', exec, '--pidfile', path.join(dir, 'pid'), '--host', `unix://${socket}`],
    ...['--config-file', path.join(dir, 'daemon.json'), '--containerd-namespace', namespace, '--containerd-plugins-namespace', `${namespace}-plugins`],
    // On the machine: no iptables rules and no docker0, nothing outside the run's folder changes. In a
    // namespace its tables are the namespace's own, and swarm's overlay and host-mode ports need them.
    ...(netns === null
      ? ['--bridge=none', '--iptables=false', '--ip-masq=false', '--default-address-pool', `base=${pool},size=24`]
      : ['--bridge=none', '--default-address-pool', `base=${localPool},size=24`]),
  ];
  // nsenter execs dockerd, so the child's pid is dockerd's.
  const [file, argv] = netns === null ? [DOCKERD!, args] : ['nsenter', [`--net=/var/run/netns/${netns}`, DOCKERD!, ...args]];
  const dockerd = spawn(file, argv, { env: { ...process.env, CELLCTL_HOME: dir, TMPDIR: dir }, stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  const pid = dockerd.pid!;
  const host = `unix://${socket}`;
  let stopped: Promise<void> | null = null;
  let serving = false;
  const engine: Engine = {
    name,
    dir,
    host,
    pid,
    pool,
    swarmPool,
    netns,
    env: { DOCKER_HOST: host },
    docker: (args, options) => dockerAt(host, args, options),
    stop: () =>
      (stopped ??= (async () => {
        if (serving && isAlive(pid)) {
          const listed = await dockerAt(host, ['ps', '-aq'], { timeoutMs: 30_000 });
          const ids = listed.stdout.split('\n').filter(Boolean);
          if (ids.length > 0) await dockerAt(host, ['rm', '-f', '-v', ...ids], { timeoutMs: 60_000 });
        }
        await stopDockerd(dockerd, pid);
        // A dockerd that died first (a test killed it) left containerd and its shims to init: they name its folder.
        await killAndWait(withDescendants(processesUnder(dir)));
        unmountUnder(dir);
        releasePool(pool, dir);
        fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      })()),
  };
  try {
    const deadline = Date.now() + STARTED_MS;
    await socketAppears(socket, dockerd, deadline, log);
    // The socket listens before the API serves: `docker info` waits in its backlog until it does.
    const info = await dockerAt(host, ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: Math.max(1_000, deadline - Date.now()) });
    if (info.code !== 0) throw new Error(`docker info did not answer: ${info.stderr.trim()}; dockerd's log:\n${logTail(log)}`);
    serving = true;
  } catch (error) {
    await engine.stop();
    throw error;
  }
  return engine;
}

// The base image.

const BUSYBOX = '/bin/busybox';
/** The shell and the tools the Dockerfile's RUN steps (and npm's scripts, and these tests) use. */
const TOOLS = ['sh', 'env', 'test', '[', 'echo', 'mkdir', 'chmod', 'mv', 'rm', 'cp', 'ls', 'cat', 'id', 'du', 'find', 'true', 'false', 'sleep', 'stat'];
const NODE = fs.realpathSync(process.execPath);
const NPM = path.join(path.dirname(path.dirname(NODE)), 'lib', 'node_modules', 'npm');

export function baseUnavailable(): string | null {
  if (!fs.existsSync(BUSYBOX)) return `no ${BUSYBOX} for the base image's shell (apt-get install busybox-static; .ci/run does)`;
  try {
    execFileSync('ldd', [BUSYBOX], { stdio: 'ignore' });
    return `${BUSYBOX} is linked dynamically: the base image needs a static one (apt-get install busybox-static; .ci/run does)`;
  } catch {
    // "not a dynamic executable": static, as needed
  }
  if (!fs.existsSync(path.join(NPM, 'bin', 'npm-cli.js'))) return `no npm beside ${NODE} (looked in ${NPM})`;
  return null;
}

/**
 * Puts a copy of `from` at `root` + `from` (folders whole, links followed). Never a hard link: making
 * or removing one changes the file's ctime, and another engine's tar reading the same file (a second
 * test file, or another run) then fails with "file changed as we read it".
 */
function place(root: string, from: string, as = from): void {
  const to = path.join(root, as);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  if (fs.statSync(from).isDirectory()) fs.cpSync(from, to, { recursive: true, dereference: true });
  else fs.copyFileSync(from, to);
}

function writeRootFs(root: string): void {
  place(root, NODE, '/usr/bin/node');
  const libraries = execFileSync('ldd', [NODE], { encoding: 'utf8' }).matchAll(/(\/\S+) \(0x/g);
  for (const [, library] of libraries) place(root, library!);
  place(root, NPM, '/usr/lib/node_modules/npm');
  const write = (file: string, text: string, mode = 0o644) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text, { mode });
    fs.chmodSync(path.join(root, file), mode);
  };
  write('/usr/bin/npm', '#!/bin/sh\nexec /usr/bin/node /usr/lib/node_modules/npm/bin/npm-cli.js "$@"\n', 0o755);
  write('/usr/bin/npx', '#!/bin/sh\nexec /usr/bin/node /usr/lib/node_modules/npm/bin/npx-cli.js "$@"\n', 0o755);
  place(root, BUSYBOX);
  for (const tool of TOOLS) fs.symlinkSync('busybox', path.join(root, 'bin', tool));
  fs.symlinkSync('/bin/env', path.join(root, 'usr', 'bin', 'env'));
  write('/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  write('/etc/group', 'root:x:0:\nnogroup:x:65534:\n');
  for (const [folder, mode] of [
    ['tmp', 0o1777],
    ['root', 0o700],
  ] as const) {
    fs.mkdirSync(path.join(root, folder), { recursive: true });
    fs.chmodSync(path.join(root, folder), mode);
  }
}

const bases = new WeakMap<Engine, Promise<string>>();

export function baseImage(engine: Engine): Promise<string> {
  let made = bases.get(engine);
  if (!made) {
    made = importBase(engine);
    bases.set(engine, made);
  }
  return made;
}

async function importBase(engine: Engine): Promise<string> {
  const why = baseUnavailable();
  if (why) throw new Error(`cannot make the base image: ${why}`);
  const root = fs.mkdtempSync(path.join(engine.dir, 'rootfs-'));
  const tag = `cellctl-base:node-${process.versions.node}`;
  try {
    fs.chmodSync(root, 0o755);
    writeRootFs(root);
    const tar = spawn('tar', ['-C', root, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const imported = await engine.docker(['import', '--change', 'CMD ["node"]', '-', tag], { input: tar.stdout!, timeoutMs: 300_000 });
    if (imported.code !== 0) throw new Error(`docker import failed: ${imported.stderr.trim()}`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return tag;
}

// cellctl's image.

/** What `cellctl image build -o json` printed. */
export interface BuiltImage {
  tag: string;
  id: string;
  base: string;
  deps: string;
  sizeBytes: number;
  baseSizeBytes: number;
  addedBytes: number;
  pushed: string | null;
  /** How long the build took, in milliseconds (measured here). */
  buildMs: number;
}

const images = new WeakMap<Engine, Promise<BuiltImage>>();

/** A build sends about 160 MB of node_modules and runs tsc in the build stage: a minute on two idle cores. */
export const BUILD_MS = 600_000;

/** The built CLI with `env` added, to its end or `timeoutMs` (helpers.ts cli() stops at two minutes). */
export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<DockerCall> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, NO_COLOR: '1', CI: 'true', ...env }, maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

export const testTag = (): string => `cellctl:test-${path.basename(runDir()).replace(RUN_PREFIX, '').toLowerCase()}`;

export function builtImage(engine: Engine): Promise<BuiltImage> {
  let built = images.get(engine);
  if (!built) {
    built = (async () => {
      const base = await baseImage(engine);
      const started = Date.now();
      const args = ['image', 'build', '--base', base, '--deps', 'context', '--tag', testTag(), '-o', 'json'];
      // TMPDIR: the build's temporary context goes in the engine's folder, removed with it.
      const result = await runCli(args, { ...engine.env, TMPDIR: engine.dir }, BUILD_MS);
      if (result.code !== 0) throw new Error(`cellctl ${args.join(' ')} exited ${result.code}\n${result.stderr}`);
      return { ...(JSON.parse(result.stdout) as Omit<BuiltImage, 'buildMs'>), buildMs: Date.now() - started };
    })();
    images.set(engine, built);
  }
  return built;
}

export async function cellctlImage(engine: Engine): Promise<string> {
  return (await builtImage(engine)).tag;
}

/**
 * Resolves with the first health status (`healthy` or `unhealthy`) the engine reports for
 * `container` since `sinceMs` (its events: no polling), or rejects after `timeoutMs`.
 */
export function healthEvent(engine: Engine, container: string, sinceMs: number, timeoutMs = 60_000): Promise<'healthy' | 'unhealthy'> {
  return new Promise((resolve, reject) => {
    const since = (sinceMs / 1000).toFixed(3);
    const filters = ['--filter', `container=${container}`, '--filter', 'event=health_status'];
    const events = spawn('docker', ['events', '--since', since, ...filters, '--format', '{{.Status}}'], {
      env: { ...process.env, DOCKER_HOST: engine.host },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let seen = '';
    const finish = (result: 'healthy' | 'unhealthy' | Error) => {
      clearTimeout(timer);
      events.kill('SIGKILL');
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const timer = setTimeout(() => finish(new Error(`no health status for ${container} within ${timeoutMs / 1000} s (events: ${seen || 'none'})`)), timeoutMs);
    events.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const status = /health_status: (healthy|unhealthy)/.exec(seen)?.[1];
      if (status) finish(status as 'healthy' | 'unhealthy');
    });
    events.once('error', (error) => finish(error));
  });
}
