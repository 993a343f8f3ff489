// A throwaway PostgreSQL for tests: Debian's binaries, a cluster initialised as the `postgres` user in
// the run's folder, fsync off, on a free 127.0.0.1 port (or inside a simulated host, on its address);
// stopped by pid and removed at the end.
import { type ChildProcess, execFile, spawn, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { freePort, runDir, TEST_PREFIX } from './helpers.js';

const USER = 'cellctl';

export type PgAvailability = { ok: true; bin: string } | { ok: false; reason: string };

/** The newest Debian PostgreSQL bin folder (or $CELLCTL_TEST_PG_BIN). */
function findBin(): string | null {
  if (process.env.CELLCTL_TEST_PG_BIN) return process.env.CELLCTL_TEST_PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return null;
  const versions = fs
    .readdirSync(root)
    .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'postgres')) && fs.existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : null;
}

/** The `postgres` system user's uid and gid (PostgreSQL refuses to run as root). */
function postgresUser(): { uid: number; gid: number } | null {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) return null;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** The first folder from / down to `dir` that other users cannot pass through (the cluster lives below it). */
function closedAncestor(dir: string): string | null {
  const parts = path.resolve(dir).split(path.sep).filter(Boolean);
  for (let i = 1; i <= parts.length; i += 1) {
    const folder = path.sep + parts.slice(0, i).join(path.sep);
    if ((fs.statSync(folder).mode & 0o001) === 0) return folder;
  }
  return null;
}

/** Whether a cluster can be started here; if not, the one-line reason tests skip with. */
export function pgAvailable(): PgAvailability {
  const bin = findBin();
  if (!bin) return { ok: false, reason: 'PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin/postgres; .ci/run installs it)' };
  if (process.getuid?.() === 0) {
    if (!postgresUser()) return { ok: false, reason: 'running as root but there is no "postgres" system user to run PostgreSQL as' };
    const closed = closedAncestor(runDir());
    if (closed)
      return { ok: false, reason: `the "postgres" user cannot reach the test folders (${closed} is not world-searchable): set TMPDIR to a folder it can` };
  }
  return { ok: true, bin };
}

/** Where the server runs; the default is this machine's 127.0.0.1, probed from this process. */
export interface PgPlacement {
  /** The address it listens on, and the one its URLs name. */
  listen?: string;
  /** Starts `postgres` (e.g. inside a simulated host); `options` carry the uid/gid it must run as. The child's pid must be postgres's. */
  spawn?: (file: string, args: string[], options: SpawnOptions) => ChildProcess;
  /** Whether the server answers at `url` yet (e.g. a client run inside that host). */
  ready?: (url: string) => Promise<boolean>;
}

export interface TestPg {
  port: number;
  user: string;
  password: string;
  /** A connection URL (with the password) to `database`. */
  url(database?: string): string;
  /** A new empty database; returns its URL (connects from this process: the default placement only). */
  newDatabase(): Promise<string>;
  /** Stops the server, keeping its data (PostgreSQL is down until resume). */
  pause(): Promise<void>;
  /** Starts it again on the same port and waits until it answers. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

function run(file: string, args: string[], options: { uid?: number; gid?: number; env: NodeJS.ProcessEnv }): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...options, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${path.basename(file)} failed: ${stderr || stdout || error.message}`));
      else resolve();
    });
  });
}

/** Whether a client in this process gets an answer to SELECT 1; throws why not. */
async function answersHere(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function waitReady(url: string, server: ChildProcess, log: () => string, ready: (url: string) => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null) throw new Error(`postgres exited before it was ready:\n${log()}`);
    let why = 'no answer';
    try {
      if (await ready(url)) return;
    } catch (error) {
      why = String(error);
    }
    if (Date.now() > deadline) throw new Error(`postgres was not ready within 60 s (${why}):\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts a cluster; call stop() at the end (it is also killed by the suite's teardown if left behind). */
export async function startPg(placement: PgPlacement = {}): Promise<TestPg> {
  const { listen = '127.0.0.1', spawn: start = spawn, ready = answersHere } = placement;
  const available = pgAvailable();
  if (!available.ok) throw new Error(available.reason);
  const dir = fs.mkdtempSync(path.join(runDir(), `${TEST_PREFIX}pg-`));
  const owner = process.getuid?.() === 0 ? postgresUser()! : null;
  const ids = owner ? { uid: owner.uid, gid: owner.gid } : {};
  const password = randomBytes(12).toString('hex');
  const data = path.join(dir, 'data');
  const sockets = path.join(dir, 'sockets');
  fs.mkdirSync(sockets);
  fs.writeFileSync(path.join(dir, 'pwfile'), `${password}\n`, { mode: 0o600 });
  if (owner) {
    fs.chmodSync(dir, 0o700);
    for (const p of [dir, sockets, path.join(dir, 'pwfile')]) fs.chownSync(p, owner.uid, owner.gid);
  }
  // CELLCTL_HOME marks the processes as this test run's, so the suite's teardown finds them if a test dies.
  const env = { PATH: process.env.PATH, LANG: 'C', LC_ALL: 'C', HOME: dir, CELLCTL_HOME: dir };
  const bin = available.bin;
  await run(
    path.join(bin, 'initdb'),
    ['-D', data, '-U', USER, '--pwfile', path.join(dir, 'pwfile'), '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync', '-E', 'UTF8', '--locale=C'],
    { ...ids, env },
  );
  // initdb lets in loopback clients only: a server on another address takes clients of its own subnet (password still checked).
  if (listen !== '127.0.0.1') fs.appendFileSync(path.join(data, 'pg_hba.conf'), 'host all all samenet scram-sha-256\n');
  const port = await freePort();
  const settings = [
    `listen_addresses=${listen}`,
    `unix_socket_directories=${sockets}`,
    'fsync=off',
    'synchronous_commit=off',
    'full_page_writes=off',
    'max_connections=200',
  ];
  const url = (database = 'postgres'): string => `postgres://${USER}:${password}@${listen}:${port}/${database}`;
  let server: ChildProcess | null = null;
  let log = '';
  const launch = async (): Promise<void> => {
    const child = start(path.join(bin, 'postgres'), ['-D', data, '-p', String(port), ...settings.flatMap((s) => ['-c', s])], {
      ...ids,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    server = child;
    child.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000);
    });
    await waitReady(url(), child, () => log, ready);
  };
  /** Fast shutdown by pid (SIGINT: sessions end, the cluster stops cleanly), SIGKILL if it hangs. */
  const halt = async (): Promise<void> => {
    const child = server;
    server = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  const stop = async (): Promise<void> => {
    await halt();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await launch();
  } catch (error) {
    await stop();
    throw error;
  }
  let databases = 0;
  const newDatabase = async (): Promise<string> => {
    databases += 1;
    const name = `t${databases}`;
    const admin = new pg.Client({ connectionString: url() });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    return url(name);
  };
  return { port, user: USER, password, url, newDatabase, pause: halt, resume: launch, stop };
}
