// Running the system: start, status, health, kill -9 and restart with backoff, the crash loop,
// stale pid files, ports in use, logs, events, and stop leaving no process behind.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, cli, cliJson, cliOk, cleanup, createCells, FIXTURES, newWorkspace, processesUnder, track, waitFor } from '../helpers.js';

afterAll(cleanup);

const fastSupervisor = { supervisor: { backoffInitialMs: 100, backoffMaxMs: 1000, crashLoopLimit: 3, healthIntervalMs: 300 } };

describe('start, status, health, stop', () => {
  it('starts everything healthy, reports it field by field, and stops leaving nothing', async () => {
    const ws = await newWorkspace(fastSupervisor);
    await createCells(ws, 'basic', ['c1', 'c2']);
    const start = await cliOk(ws.home, ['start', '--timeout', '30']);
    expect(start.stderr).toMatch(/3 process\(es\) running and healthy/);

    const status = await cliJson(ws.home, ['status']);
    expect(status.supervisor).toMatchObject({ state: 'running', pid: expect.any(Number) });
    expect(status.router).toMatchObject({ state: 'running', port: ws.routerPort, adminPort: ws.adminPort, healthy: true, restarts: 0, auth: 'none' });
    for (const cell of status.cells) {
      expect(cell).toMatchObject({ template: 'basic', state: 'running', healthy: true, restarts: 0, customers: 0, capacity: 10000, requests: 0, errors: 0 });
      expect(cell.pid).toBe(Number(fs.readFileSync(path.join(ws.home, cell.id, 'pid'), 'utf8')));
      expect(cell.uptimeSeconds).toBeGreaterThanOrEqual(0);
    }
    expect((await cliOk(ws.home, ['status'])).stdout).toMatch(/c1 \(basic\)\s*│ running/);
    expect((await cli(ws.home, ['health'])).code).toBe(0);
    const again = await cliOk(ws.home, ['start']);
    expect(again.stderr).toMatch(/already running: router, c1, c2/);

    const pids = processesUnder(path.dirname(ws.home));
    expect(pids.length).toBeGreaterThanOrEqual(4);
    await cliOk(ws.home, ['stop']);
    expect(processesUnder(path.dirname(ws.home))).toEqual([]);
    expect(fs.existsSync(path.join(ws.home, 'c1', 'pid'))).toBe(false);
    const health = await cli(ws.home, ['health']);
    expect(health.code).toBe(3);
    expect(health.stderr).toMatch(/supervisor is not running/);
    expect((await cli(ws.home, ['stop'])).code).toBe(0);
    const events = await cliJson(ws.home, ['events', '--subject', 'c1']);
    expect(events.map((event: { kind: string }) => event.kind)).toEqual(expect.arrayContaining(['process.started', 'process.healthy', 'process.stopped']));
    // A cell exits by itself on TERM: closed its database, finished in flight.
    expect(events.find((event: { kind: string }) => event.kind === 'process.stopped').message).toBe('exited with code 0');
  });

  it('starts and stops single cells, and restart gives a new process', async () => {
    const ws = await newWorkspace(fastSupervisor);
    await createCells(ws, 'basic', ['c1', 'c2']);
    await cliOk(ws.home, ['start', 'c1']);
    let status = await cliJson(ws.home, ['status']);
    expect(status.cells.map((cell: { state: string }) => cell.state)).toEqual(['running', 'stopped']);
    expect((await cli(ws.home, ['health'])).code).toBe(0);
    const before = status.cells[0].pid;
    await cliOk(ws.home, ['restart', 'c1']);
    status = await cliJson(ws.home, ['status']);
    expect(status.cells[0].pid).not.toBe(before);
    expect(status.cells[0].state).toBe('running');
    await cliOk(ws.home, ['stop', 'c1']);
    status = await cliJson(ws.home, ['status']);
    expect(status.cells[0].state).toBe('stopped');
    expect(status.router.state).toBe('running');
    expect((await cli(ws.home, ['start', 'nope'])).stderr).toMatch(/no process named "nope" \(processes: router, c1, c2\)/);
    await cliOk(ws.home, ['stop']);
  });
});

describe('keeping processes running', () => {
  it('a killed cell and a killed router are restarted, with restarts counted and events recorded', async () => {
    const ws = await newWorkspace(fastSupervisor);
    await createCells(ws, 'basic', ['c1']);
    await cliOk(ws.home, ['start']);
    const first = (await cliJson(ws.home, ['status'])).cells[0].pid;
    process.kill(first, 'SIGKILL');
    const back = await waitFor('c1 restarted', async () => {
      const cell = (await cliJson(ws.home, ['status'])).cells[0];
      return cell.state === 'running' && cell.pid !== first && cell;
    });
    expect(back.restarts).toBe(1);
    const router = (await cliJson(ws.home, ['status'])).router.pid;
    process.kill(router, 'SIGKILL');
    await waitFor('router restarted', async () => {
      const status = await cliJson(ws.home, ['status']);
      return status.router.state === 'running' && status.router.restarts === 1;
    });
    const kinds = (await cliJson(ws.home, ['events'])).map((event: { kind: string; subject: string }) => `${event.subject}:${event.kind}`);
    expect(kinds).toEqual(expect.arrayContaining(['c1:process.crashed', 'router:process.crashed']));
    expect((await cli(ws.home, ['health'])).code).toBe(0);
    await cliOk(ws.home, ['stop']);
  });

  it('a cell that always crashes ends in the crash-loop state and start says why', async () => {
    const ws = await newWorkspace({ ...fastSupervisor, templatePaths: [path.join(FIXTURES, 'templates')] });
    await createCells(ws, 'crashy', ['bad']);
    const start = await cli(ws.home, ['start', '--timeout', '20']);
    expect(start.code).toBe(1);
    expect(start.stderr).toMatch(/bad keeps crashing/);
    expect(start.stderr).toMatch(/crashy: failing on purpose/);
    const cell = (await cliJson(ws.home, ['status'])).cells[0];
    expect(cell).toMatchObject({ state: 'crashed', restarts: 2, pid: null });
    expect((await cliOk(ws.home, ['status'])).stdout).toContain('crash-loop');
    expect((await cli(ws.home, ['health'])).code).toBe(3);
    const events = await cliJson(ws.home, ['events', '--subject', 'bad']);
    expect(events.at(-1)).toMatchObject({ kind: 'process.crash-loop' });
    expect((await cliOk(ws.home, ['logs', 'bad', '-n', '3'])).stdout).toContain('crashy: failing on purpose');
    await cliOk(ws.home, ['stop']);
  });

  it('a port already in use is reported with the port and its owner', async () => {
    const ws = await newWorkspace(fastSupervisor);
    await createCells(ws, 'basic', ['c1']);
    const port = (await cliJson(ws.home, ['list']))[0].port;
    const squatter = net.createServer().listen(port, '127.0.0.1');
    await new Promise((resolve) => squatter.once('listening', resolve));
    const start = await cli(ws.home, ['start']);
    squatter.close();
    expect(start.code).toBe(1);
    expect(start.stderr).toMatch(new RegExp(`c1 could not start: port ${port} is already in use by pid ${process.pid} \\(`));
    await cliOk(ws.home, ['stop']);
  });

  it('stale pid files are cleaned, and stop cleans up after a killed supervisor', async () => {
    const ws = await newWorkspace(fastSupervisor);
    await createCells(ws, 'basic', ['c1']);
    // A pid that is alive but not ours (this test runner), and one that does not exist.
    fs.mkdirSync(path.join(ws.home, 'supervisor'), { recursive: true });
    fs.writeFileSync(path.join(ws.home, 'supervisor', 'pid'), `${process.pid}\n`);
    fs.writeFileSync(path.join(ws.home, 'c1', 'pid'), '999999\n');
    await cliOk(ws.home, ['start']);
    const status = await cliJson(ws.home, ['status']);
    expect(status.supervisor.pid).not.toBe(process.pid);
    expect(status.cells[0].state).toBe('running');
    process.kill(status.supervisor.pid, 'SIGKILL');
    await waitFor('supervisor gone', async () => (await cliJson(ws.home, ['status'])).supervisor.state === 'stopped');
    expect((await cliJson(ws.home, ['status'])).cells[0].state).toBe('orphaned');
    await cliOk(ws.home, ['stop']);
    expect(processesUnder(path.dirname(ws.home))).toEqual([]);
  });
});

describe('logs, metrics and events', () => {
  it('shows process logs, per-cell metrics and Prometheus text', async () => {
    const ws = await newWorkspace(fastSupervisor);
    await createCells(ws, 'basic', ['c1']);
    await cliOk(ws.home, ['start']);
    expect((await cliOk(ws.home, ['logs', 'router'])).stdout).toMatch(/router listening/);
    expect((await cliOk(ws.home, ['logs', 'supervisor'])).stdout).toMatch(/supervisor listening/);
    // Not found is exit 1, for a process as for a cell, a customer or a migration.
    expect((await cli(ws.home, ['logs', 'nope'])).code).toBe(1);
    await fetch(`http://127.0.0.1:${ws.routerPort}/api/customers/m1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'M', email: 'm@x.io' }),
    });
    const metrics = await cliJson(ws.home, ['metrics']);
    expect(metrics.cells.c1).toMatchObject({ cell_id: 'c1', customer_count: 1, routed: { requests: 1, errors: 0, healthy: true } });
    expect(metrics.router).toMatchObject({ customersMapped: 1 });
    const text = (await cliOk(ws.home, ['metrics', '--prometheus'])).stdout;
    expect(text).toMatch(/cellctl_router_requests_total\{cell="c1",code="201"\} 1/);
    expect(text).toMatch(/cellctl_router_request_duration_seconds_bucket\{le="0.005",cell="c1"\}/);
    expect(text).toMatch(/cell_customer_count\{cell="c1"\} 1/);
    expect((await cli(ws.home, ['metrics', '--json', '--prometheus'])).code).toBe(2);
    await cliOk(ws.home, ['stop']);
  });
});

describe('following', () => {
  it('logs -f prints new lines as they are written, and status --watch refreshes until Ctrl-C', async () => {
    const ws = await newWorkspace(fastSupervisor);
    await createCells(ws, 'basic', ['c1']);
    await cliOk(ws.home, ['start']);
    const env = { ...process.env, NO_COLOR: '1' };
    const follow = track(spawn(process.execPath, [CLI, '--home', ws.home, 'logs', 'supervisor', '-n', '1', '-f'], { env }));
    let followed = '';
    follow.stdout!.on('data', (chunk) => (followed += chunk));
    await waitFor('the last line', () => followed.length > 0);
    await cliOk(ws.home, ['stop', 'c1']);
    await waitFor('the stop, followed', () => followed.includes('process.stopped'));
    follow.kill('SIGINT');

    const watch = track(spawn(process.execPath, [CLI, '--home', ws.home, 'status', '--watch', '--json'], { env }));
    let frames = '';
    watch.stdout!.on('data', (chunk) => (frames += chunk));
    await waitFor('two frames', () => frames.split('\n').filter(Boolean).length >= 2, 10_000);
    const first = JSON.parse(frames.split('\n')[0]!);
    expect(first.cells[0]).toMatchObject({ id: 'c1', state: 'stopped' });
    watch.kill('SIGINT');
    expect(await new Promise((resolve) => watch.once('exit', (code) => resolve(code)))).toBe(130);
    await cliOk(ws.home, ['stop']);
  });
});
