// The kill drill and the supervisor's own TERM: a user's view of failure and shutdown.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliJson, cliOk, cleanup, createCells, http, newWorkspace, processesUnder, waitFor } from '../helpers.js';

afterAll(cleanup);

describe('cellctl drill kill', () => {
  it('reports failures only in the killed cell, the expected blast radius, and the recovery time', async () => {
    const ws = await newWorkspace({ supervisor: { backoffInitialMs: 300, healthIntervalMs: 300 } });
    await createCells(ws, 'basic', ['c1', 'c2', 'c3']);
    await cliOk(ws.home, ['start']);
    for (let i = 0; i < 30; i += 1) {
      const response = await http('POST', `http://127.0.0.1:${ws.routerPort}/api/customers/d-${i}`, { name: 'D', email: `d-${i}@example.com` });
      expect(response.status).toBe(201);
    }
    await waitFor('pins written', async () => (await cliJson(ws.home, ['customers'])).length === 30);
    const inC2 = (await cliJson(ws.home, ['customers', '--cell', 'c2'])).length;
    const summary = await cliJson(ws.home, ['drill', 'kill', 'c2', '--duration', '3']);
    // Paced within the default rate limit (100 requests per customer per 60 s): no answer is a 429.
    expect(summary).toMatchObject({ victim: 'c2', contained: true, failuresOutsideVictim: 0, rateLimited: 0 });
    expect(summary.expectedBlastRadius).toBeCloseTo(inC2 / 30);
    expect(summary.customerShareFailed).toBeLessThanOrEqual(summary.expectedBlastRadius);
    expect(summary.recoveryMs).toBeGreaterThan(0);
    const victim = summary.cells.find((cell: { cell: string }) => cell.cell === 'c2');
    expect(victim.failed).toBeGreaterThan(0);
    for (const cell of summary.cells.filter((c: { cell: string }) => c.cell !== 'c2')) expect(cell.failed).toBe(0);
    expect((await cliJson(ws.home, ['status'])).cells.find((cell: { id: string }) => cell.id === 'c2').restarts).toBe(1);
    await cliOk(ws.home, ['stop']);
  });
});

describe('the supervisor on TERM', () => {
  it('stops everything it started and removes its files', async () => {
    const ws = await newWorkspace();
    await createCells(ws, 'basic', ['c1', 'c2']);
    await cliOk(ws.home, ['start']);
    const supervisor = (await cliJson(ws.home, ['status'])).supervisor.pid;
    process.kill(supervisor, 'SIGTERM');
    await waitFor('everything stopped', () => processesUnder(path.dirname(ws.home)).length === 0);
    expect(fs.existsSync(path.join(ws.home, 'supervisor', 'supervisor.json'))).toBe(false);
    expect(fs.existsSync(path.join(ws.home, 'c1', 'pid'))).toBe(false);
    const events = (await cliJson(ws.home, ['events'])).map((event: { kind: string; subject: string }) => `${event.subject}:${event.kind}`);
    expect(events).toEqual(expect.arrayContaining(['c1:process.stopped', 'c2:process.stopped', 'router:process.stopped', 'supervisor:supervisor.stopped']));
  });
});
