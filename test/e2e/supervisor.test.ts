// The supervisor's own guarantees: a new supervisor adopts the running system instead of killing it,
// a hung cell is restarted, what cellctl writes is private to its user, and a damaged workspace can
// still be stopped (and is picked up again once restored).
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, cliJson, cliOk, cleanup, createCells, http, newWorkspace, processesUnder, spawnTracked, waitFor, type Workspace } from '../helpers.js';

afterAll(cleanup);

// Traffic tests send hundreds of requests per customer: above the default rate limit (100 per 60 s).
const fastSupervisor = {
  supervisor: { backoffInitialMs: 100, backoffMaxMs: 1000, crashLoopLimit: 3, healthIntervalMs: 300 },
  limits: { rateLimit: { requests: 1_000_000, windowSeconds: 1 } },
};

const pidOf = (ws: Workspace, name: string): number => Number(fs.readFileSync(path.join(ws.home, name, 'pid'), 'utf8'));

interface Traffic {
  /** Requests answered 200 so far. */
  ok(): number;
  stop(): Promise<{ ok: number; failed: string[] }>;
}

/** GETs through the router for the given customers, one after another, until stopped (bounded: 60 s, 50,000 requests). */
function traffic(ws: Workspace, customers: string[]): Traffic {
  let running = true;
  let ok = 0;
  const failed: string[] = [];
  const deadline = Date.now() + 60_000;
  const loop = (async () => {
    for (let index = 0; running && index < 50_000 && Date.now() < deadline; index += 1) {
      const id = customers[index % customers.length]!;
      try {
        const answer = await http('GET', `http://127.0.0.1:${ws.routerPort}/api/customers/${id}`);
        if (answer.status === 200) ok += 1;
        else failed.push(`${id}: ${answer.status}`);
      } catch (error) {
        failed.push(`${id}: ${String(error)}`);
      }
    }
  })();
  return {
    ok: () => ok,
    async stop() {
      running = false;
      await loop;
      return { ok, failed };
    },
  };
}

async function createCustomers(ws: Workspace, ids: string[]): Promise<void> {
  for (const id of ids) {
    const answer = await http('POST', `http://127.0.0.1:${ws.routerPort}/api/customers/${id}`, { name: id, email: `${id}@example.test` });
    expect(answer.status).toBe(201);
  }
}

describe('a new supervisor', () => {
  it('adopts the running router and cells after the old one was killed: no pid changes, no failed request', async () => {
    const ws = await newWorkspace(fastSupervisor);
    await createCells(ws, 'basic', ['c1', 'c2']);
    await cliOk(ws.home, ['start']);
    const customers = Array.from({ length: 8 }, (_, index) => `a-${index}`);
    await createCustomers(ws, customers);
    const before = { router: pidOf(ws, 'router'), c1: pidOf(ws, 'c1'), c2: pidOf(ws, 'c2') };
    const oldSupervisor = (await cliJson(ws.home, ['status'])).supervisor.pid as number;

    const load = traffic(ws, customers);
    process.kill(oldSupervisor, 'SIGKILL');
    await cliOk(ws.home, ['start']);
    const status = await cliJson(ws.home, ['status']);
    // Let the traffic run on under the new supervisor for a while (a few of its health rounds).
    const soFar = load.ok();
    await waitFor('more traffic under the new supervisor', () => load.ok() >= soFar + 200);
    const result = await load.stop();

    expect(status.supervisor.pid).not.toBe(oldSupervisor);
    expect({ router: pidOf(ws, 'router'), c1: pidOf(ws, 'c1'), c2: pidOf(ws, 'c2') }).toEqual(before);
    expect(status.router).toMatchObject({ state: 'running', pid: before.router });
    expect(status.cells.map((cell: { pid: number }) => cell.pid)).toEqual([before.c1, before.c2]);
    expect(result.failed).toEqual([]);
    expect(result.ok).toBeGreaterThan(0);

    // An adopted cell is not the new supervisor's child, yet its death is seen and it is restarted.
    process.kill(before.c1, 'SIGKILL');
    const back = await waitFor('c1 restarted', async () => {
      const cell = (await cliJson(ws.home, ['status'])).cells[0];
      return cell.state === 'running' && cell.pid !== before.c1 && cell.healthy === true && cell;
    });
    expect(back.restarts).toBe(1);
    const kinds = (await cliJson(ws.home, ['events', '--subject', 'c1'])).map((event: { kind: string }) => event.kind);
    expect(kinds).toEqual(expect.arrayContaining(['process.adopted', 'process.crashed']));

    // The supervisor's stop reaches adopted processes too (the router here), and leaves nothing.
    await cliOk(ws.home, ['stop']);
    expect(processesUnder(path.dirname(ws.home))).toEqual([]);
    const routerEvents = (await cliJson(ws.home, ['events', '--subject', 'router'])).map((event: { kind: string }) => event.kind);
    expect(routerEvents.slice(-2)).toEqual(['process.adopted', 'process.stopped']);
  });
});

describe('a hung cell', () => {
  it('is killed and restarted once its health check has failed for supervisor.unhealthyRestartMs', async () => {
    const ws = await newWorkspace({ supervisor: { ...fastSupervisor.supervisor, unhealthyRestartMs: 1500, stopTimeoutMs: 1000 } });
    await createCells(ws, 'basic', ['c1']);
    await cliOk(ws.home, ['start']);
    const hung = pidOf(ws, 'c1');
    process.kill(hung, 'SIGSTOP');
    const back = await waitFor(
      'c1 restarted with a new pid, healthy',
      async () => {
        const cell = (await cliJson(ws.home, ['status'])).cells[0];
        return cell.state === 'running' && cell.pid !== hung && cell.healthy === true && cell;
      },
      30_000,
    );
    expect(back.pid).toBe(pidOf(ws, 'c1'));
    const kinds = (await cliJson(ws.home, ['events', '--subject', 'c1'])).map((event: { kind: string }) => event.kind);
    expect(kinds).toEqual(expect.arrayContaining(['process.unhealthy', 'process.hung', 'process.crashed']));
    expect((await cliOk(ws.home, ['events'])).stdout).toContain('process.hung');
    await cliOk(ws.home, ['stop']);
    expect(processesUnder(path.dirname(ws.home))).toEqual([]);
  });
});

/** Every file and folder under `dir` that its group or others may read, write or enter. */
function openToOthers(dir: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const mode = fs.lstatSync(full).mode;
    if (!entry.isSymbolicLink() && (mode & 0o077) !== 0) found.push(`${full} ${(mode & 0o777).toString(8)}`);
    if (entry.isDirectory()) found.push(...openToOthers(full));
  }
  return found;
}

describe('the workspace holds personal data', () => {
  it('every file cellctl writes is 0600 and every folder 0700, also in a workspace made before that rule', async () => {
    const ws = await newWorkspace(fastSupervisor);
    await createCells(ws, 'ecommerce', ['c1']);
    await createCells(ws, 'basic', ['c2']);
    // A workspace made by an older cellctl: everything readable by all.
    const loosen = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        fs.chmodSync(full, entry.isDirectory() ? 0o755 : 0o644);
        if (entry.isDirectory()) loosen(full);
      }
    };
    loosen(ws.home);
    fs.chmodSync(ws.home, 0o755);
    await cliOk(ws.home, ['start']);
    const customers = ['p-1', 'p-2', 'p-3', 'p-4'];
    await createCustomers(ws, customers);
    const load = traffic(ws, customers);
    await waitFor('some traffic', () => load.ok() >= 100);
    expect((await load.stop()).failed).toEqual([]);
    await cliOk(ws.home, ['create', 'c3', '--template', 'basic']);
    await cliOk(ws.home, ['start', 'c3']);
    await cliOk(ws.home, ['events']);

    const files = (dir: string): string[] => fs.readdirSync(dir, { recursive: true }) as string[];
    // What must be there for the check to mean something: databases with their WAL files, logs, pid files.
    expect(files(ws.home)).toEqual(
      expect.arrayContaining([
        'control.db-wal',
        'control.db-shm',
        'c1/data.db-wal',
        'c3/data.db',
        'c1/logs/cell.log',
        'c1/pid',
        'router/pid',
        'router/router.log',
        'supervisor/supervisor.log',
      ]),
    );
    expect([(fs.statSync(ws.home).mode & 0o777).toString(8), ...openToOthers(ws.home)]).toEqual(['700']);
    await cliOk(ws.home, ['stop']);
    expect(openToOthers(ws.home)).toEqual([]);
  });
});

describe('a damaged workspace', () => {
  /** A process of the test's own, to check that a pid file pointing at it is not obeyed. */
  function bystander() {
    return spawnTracked(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], {});
  }

  for (const damage of [
    {
      what: 'a corrupt cellctl.json',
      file: 'cellctl.json',
      harm: (file: string) => fs.writeFileSync(file, '{ "format": "cellctl-workspace/1", "routerPort": '),
    },
    { what: 'a truncated control.db', file: 'control.db', harm: (file: string) => fs.truncateSync(file, 700) },
  ]) {
    it(`can still be stopped with ${damage.what}: everything of the workspace, from its pid files, and nothing else`, async () => {
      const ws = await newWorkspace(fastSupervisor);
      await createCells(ws, 'basic', ['c1', 'c2']);
      await cliOk(ws.home, ['start']);
      const other = bystander();
      fs.mkdirSync(path.join(ws.home, 'c9'));
      fs.writeFileSync(path.join(ws.home, 'c9', 'pid'), `${other.pid}\n`);
      damage.harm(path.join(ws.home, damage.file));
      expect((await cli(ws.home, ['status'])).code).not.toBe(0);

      const stop = await cli(ws.home, ['stop', '--timeout', '5']);
      expect(stop.code).toBe(0);
      expect(stop.stderr).toMatch(/damaged/);
      expect(stop.stderr).toContain(damage.file);
      for (const name of ['supervisor', 'router', 'c1', 'c2']) expect(stop.stderr).toContain(name);
      expect(processesUnder(path.dirname(ws.home))).toEqual([]);
      expect(other.exitCode).toBeNull();
      other.kill('SIGKILL');
    });
  }

  it('a running supervisor reads control.db again once it is restored', async () => {
    const ws = await newWorkspace(fastSupervisor);
    await createCells(ws, 'basic', ['c1', 'c2']);
    const controlDb = path.join(ws.home, 'control.db');
    // No process has it open here, so the file alone is the whole database.
    const backup = path.join(path.dirname(ws.home), 'control.db.backup');
    fs.copyFileSync(controlDb, backup);
    await cliOk(ws.home, ['start']);
    const supervisorPid = (await cliJson(ws.home, ['status'])).supervisor.pid;

    // Every page back in the main file first, so the damage reaches the supervisor's open handle too.
    const db = new Database(controlDb);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    fs.truncateSync(controlDb, 700);
    // The supervisor's own work on control.db now fails (the event of this stop cannot be written).
    const stop = await cli(ws.home, ['stop', 'c1']);
    expect(stop.code).toBe(0);
    expect(stop.stderr).toMatch(/damaged/);
    expect((await cli(ws.home, ['start', 'c1'])).code).not.toBe(0);

    fs.copyFileSync(backup, controlDb);
    await cliOk(ws.home, ['start', 'c1']);
    const status = await cliJson(ws.home, ['status']);
    expect(status.supervisor.pid).toBe(supervisorPid);
    expect(status.cells.map((cell: { state: string }) => cell.state)).toEqual(['running', 'running']);
    // The backup holds no event of c1: this one was written through a handle opened after the restore.
    const events = await cliJson(ws.home, ['events', '--subject', 'c1']);
    expect(events.map((event: { kind: string }) => event.kind)).toContain('process.started');
    await cliOk(ws.home, ['stop']);
  });
});
