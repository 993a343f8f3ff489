// Shared test helpers: temporary workspaces, free ports, running the built CLI, spawning cells, an
// HTTP client, and cleanup of every process a test started (by pid).
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MigrationRecord } from '../src/control/plane.js';
import type { CellctlError } from '../src/shared/errors.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = path.join(ROOT, 'bin', 'cellctl.js');
export const TEST_PREFIX = 'cellctl-test-';
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');
/** Names this run's folder (test/global-setup.ts makes it): every test folder is made inside it. */
export const RUN_DIR_ENV = 'CELLCTL_TEST_RUN_DIR';
/**
 * A run folder's name in the system's temporary folder. Not under TEST_PREFIX: the teardown of
 * earlier versions kills every process under any `cellctl-test-*` folder there, other runs' too.
 */
export const RUN_PREFIX = 'cellctl-run-';

const homes: string[] = [];
const children: ChildProcess[] = [];

/**
 * Where this run's tests make their folders: the run folder global setup made, so the teardown kills
 * and removes this run's leftovers only. Outside vitest (the bench), the system's temporary folder.
 */
export function runDir(): string {
  const dir = process.env[RUN_DIR_ENV];
  if (dir) return dir;
  if (process.env.VITEST) throw new Error(`${RUN_DIR_ENV} is not set: run the tests with vitest.config.ts, whose global setup makes the run folder`);
  return os.tmpdir();
}

export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(runDir(), TEST_PREFIX));
  homes.push(dir);
  return dir;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * The ports tests hand out: below the kernel's ephemeral range (ip_local_port_range), which outgoing
 * connections take their local ports from: a port picked there can be taken by any test's client
 * between the check and the bind ("port … is already in use"). Above the range where it starts low.
 */
function testPortRange(): { low: number; high: number } {
  let ephemeral = [32_768, 60_999];
  try {
    ephemeral = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  } catch {
    // not Linux: keep the usual range
  }
  const [first = 32_768, last = 60_999] = ephemeral;
  return first > 15_000 ? { low: 10_000, high: first - 1 } : { low: last + 1, high: 65_000 };
}
const PORTS = testPortRange();

/** A port no test has handed out yet and nothing listens on; `span` consecutive ones when asked. */
let nextPort = PORTS.low + ((process.pid * 211) % (PORTS.high - PORTS.low));
export async function freePort(span = 1): Promise<number> {
  for (;;) {
    nextPort += span + 1;
    if (nextPort + span > PORTS.high) nextPort = PORTS.low;
    const base = nextPort;
    let ok = true;
    for (let offset = 0; offset < span && ok; offset += 1) ok = await portFree(base + offset);
    if (ok) return base;
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(home: string | null, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const fullArgs = home === null ? args : ['--home', home, ...args];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...fullArgs],
      { env: { ...process.env, NO_COLOR: '1', CI: 'true', ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs the CLI and fails with its output when it does not exit 0. */
export async function cliOk(home: string | null, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const result = await cli(home, args, env);
  if (result.code !== 0) throw new Error(`cellctl ${args.join(' ')} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result;
}

export async function cliJson<T = any>(home: string | null, args: string[], env: NodeJS.ProcessEnv = {}): Promise<T> {
  return JSON.parse((await cliOk(home, [...args, '--json'], env)).stdout) as T;
}

export interface Workspace {
  home: string;
  routerPort: number;
  adminPort: number;
}

/** A new workspace on free ports; `settings` is merged into cellctl.json. */
export async function newWorkspace(settings: Record<string, unknown> = {}): Promise<Workspace> {
  const home = path.join(tempDir(), 'ws');
  const routerPort = await freePort(2);
  await cliOk(home, ['init', '--router-port', String(routerPort)]);
  const file = path.join(home, 'cellctl.json');
  const current = JSON.parse(fs.readFileSync(file, 'utf8'));
  const merged = {
    ...current,
    ...settings,
    limits: { ...current.limits, ...(settings.limits as object) },
    supervisor: { ...current.supervisor, ...(settings.supervisor as object) },
  };
  fs.writeFileSync(file, JSON.stringify(merged, null, 2));
  return { home, routerPort, adminPort: routerPort + 1 };
}

/** Cells on free ports; each cell's data API takes the port after its own, so both are checked free. */
export async function createCells(ws: Workspace, template: string, names: string[]): Promise<void> {
  for (const name of names) await cliOk(ws.home, ['create', name, '--template', template, '--port', String(await freePort(2))]);
}

/** A cell record as control.db holds one, for the pure core's tests. */
export const cellRecord = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  template: 'shop',
  templateDir: '/t',
  schemaVersion: 1,
  port: 1,
  capacity: 10,
  healthPath: '/health',
  status: 'active' as const,
  createdAt: '',
  firstHealthyAt: '' as string | null,
  url: 'http://127.0.0.1:1',
  dataUrl: 'http://127.0.0.1:2',
  dataPort: 2 as number | null,
  managed: true,
  ...extra,
});

/** A new cell as insertCell takes it (the stores' and the router's tests); its data API on port + 100. */
export const newCell = (id: string, port = 9001) => ({
  id,
  template: 'basic',
  templateDir: '/t',
  schemaVersion: 1,
  port,
  capacity: 5,
  healthPath: '/health',
  url: `http://127.0.0.1:${port}`,
  dataUrl: `http://127.0.0.1:${port + 100}`,
  dataPort: port + 100,
  managed: true,
});

/** A running migration record as the control plane returns one, for the pure core's tests. */
export const migrationRecord = (extra: Partial<MigrationRecord> = {}): MigrationRecord => ({
  id: 7,
  customerId: 'acme',
  sourceCell: 'a',
  targetCell: 'b',
  step: 'fenced',
  state: 'running',
  keepSourceUntil: null,
  batch: null,
  detail: {},
  error: null,
  startedAt: '',
  updatedAt: '',
  owner: null,
  fencing: 1,
  ...extra,
});

export type RunningSystem = Workspace & { url: string };

/** A started system: a new workspace (`settings` merged in), `cells` made from `template`, everything started. */
export async function startSystem(template: string, cells: string[], settings: Record<string, unknown> = {}): Promise<RunningSystem> {
  const ws = await newWorkspace(settings);
  await createCells(ws, template, cells);
  await cliOk(ws.home, ['start']);
  return { ...ws, url: `http://127.0.0.1:${ws.routerPort}` };
}

/** The cell of a pair that is not `cell` (the move target in two-cell tests). */
export const otherCell = (cell: string, pair: readonly [string, string] = ['c1', 'c2']): string => (cell === pair[0] ? pair[1] : pair[0]);

export interface HttpResult {
  status: number;
  body: any;
  headers: Headers;
}

export async function http(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/** The router's /admin/stats (RouterStats), read with the workspace's admin token. */
export async function routerStats(ws: Workspace): Promise<Record<string, any>> {
  const token = fs.readFileSync(path.join(ws.home, 'secrets', 'admin-token'), 'utf8').trim();
  return (await http('GET', `http://127.0.0.1:${ws.adminPort}/admin/stats`, undefined, { authorization: `Bearer ${token}` })).body;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Spawns a process the test owns; it is killed (by pid) in cleanup if still alive. */
export function track(child: ChildProcess): ChildProcess {
  children.push(child);
  return child;
}

export function spawnTracked(command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return track(spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Every pid whose environment names a workspace under `dir` (what cellctl starts carries CELLCTL_HOME). */
export function processesUnder(dir: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = fs.readFileSync(`/proc/${entry}/environ`, 'utf8');
      const named = environ.split('\0').flatMap((line) => /^(?:CELLCTL_HOME|CELL_HOME)=(.*)$/.exec(line)?.[1] ?? []);
      if (named.some((home) => home === dir || home.startsWith(`${dir}${path.sep}`))) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** The error `work` throws (a check's CellctlError), or undefined when it throws none. */
export function errorThrownBy(work: () => unknown): CellctlError | undefined {
  try {
    work();
  } catch (error) {
    return error as CellctlError;
  }
  return undefined;
}

/** Running and not a zombie (a killed process may wait a moment to be reaped). */
export function isAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** SIGKILLs `pids` and waits (a bounded while) until they are gone, so their folders can be removed. */
export async function killAndWait(pids: readonly number[], timeoutMs = 15_000): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

/**
 * `roots` and every process below them (by parent pid), as one snapshot: what a dockerd started —
 * containerd, its shims and the containers' processes, whose environment names nothing of ours.
 */
export function withDescendants(roots: readonly number[]): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The fields after the command name, which is in parentheses and may hold spaces: state, ppid, …
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  const found = new Set<number>();
  const visit = (pid: number): void => {
    if (found.has(pid) || pid === process.pid) return;
    found.add(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  for (const pid of roots) visit(pid);
  return [...found];
}

/** Mount points at or under `dir`, deepest first (a container's overlay and shm mounts, a dockerd's netns bind mounts). */
export function mountsUnder(dir: string): string[] {
  let table = '';
  try {
    table = execFileSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8', timeout: 10_000 });
  } catch {
    return [];
  }
  return table
    .split('\n')
    .filter(Boolean)
    .map((target) => target.replace(/\\x([0-9a-f]{2})/gi, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16))))
    .filter((target) => target === dir || target.startsWith(`${dir}${path.sep}`))
    .sort((a, b) => b.length - a.length);
}

/** Unmounts every mount point under `dir` (lazily when busy); the ones it unmounted. */
export function unmountUnder(dir: string): string[] {
  const found = mountsUnder(dir);
  for (const target of found) {
    try {
      execFileSync('umount', [target], { stdio: 'ignore', timeout: 10_000 });
    } catch {
      try {
        execFileSync('umount', ['-l', target], { stdio: 'ignore', timeout: 10_000 });
      } catch {
        // gone meanwhile
      }
    }
  }
  return found;
}

/** Stops every workspace this file made and kills whatever is left, by pid. */
export async function cleanup(): Promise<void> {
  for (const home of homes.splice(0)) {
    const ws = path.join(home, 'ws');
    if (fs.existsSync(path.join(ws, 'cellctl.json'))) await cli(ws, ['stop', '--timeout', '5']);
    for (const pid of processesUnder(home)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    fs.rmSync(home, { recursive: true, force: true });
  }
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/**
 * Writes `request` as raw bytes on one connection (no client library to tidy the path) and reads
 * until the server closes it, `until` holds, or `timeoutMs` passes (then rejects).
 */
export function rawHttp(
  port: number,
  request: string | Buffer,
  until: (text: string) => boolean = () => false,
  timeoutMs = 15_000,
): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => {
      settled = true;
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms; got: ${text.slice(0, 300)}`));
    }, timeoutMs);
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (until(text)) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => socket.write(request));
  });
}

/** The status codes of the HTTP/1.x answers in a raw byte stream, in order. */
export function statusesIn(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((match) => Number(match[1]));
}
