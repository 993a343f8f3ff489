// cellctl health when control.db cannot be read: the router keeps serving from memory, and health
// says so with exit 3 (unhealthy), not a generic failure.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, cliJson, cliOk, cleanup, createCells, http, newWorkspace, waitFor } from '../helpers.js';

afterAll(cleanup);

describe('health and an unreadable control.db', () => {
  it('exits 3 and says the router cannot read control.db; healthy again once it is restored', async () => {
    const ws = await newWorkspace({ supervisor: { backoffInitialMs: 100, healthIntervalMs: 300 } });
    await createCells(ws, 'basic', ['c1']);
    await cliOk(ws.home, ['start']);
    const url = `http://127.0.0.1:${ws.routerPort}`;
    expect((await http('POST', `${url}/api/customers/steady`, { name: 'S', email: 's@example.com' })).status).toBe(201);
    await waitFor('pin flushed', async () => (await cliJson(ws.home, ['customers'])).length === 1);
    expect((await cli(ws.home, ['health'])).code).toBe(0);

    const file = path.join(ws.home, 'control.db');
    const saved = fs.readFileSync(file);
    try {
      // Garbage in the file, and a reset shared-memory index so the router's next read goes to disk.
      fs.writeFileSync(file, Buffer.alloc(saved.length, 0x41));
      fs.writeFileSync(`${file}-shm`, Buffer.alloc(fs.statSync(`${file}-shm`).size, 0));
      await waitFor('router notices', async () => (await http('GET', `${url}/health`)).body.controlPlane.ok === false, 10_000);

      const health = await cli(ws.home, ['health', '--json']);
      expect(health.code).toBe(3);
      const verdict = JSON.parse(health.stdout);
      expect(verdict.healthy).toBe(false);
      expect(verdict.routerControlPlane).toMatchObject({ ok: false });
      expect(verdict.problems.join('\n')).toMatch(/control\.db/);
      expect(verdict.problems.join('\n')).toMatch(/router/);
      const plain = await cli(ws.home, ['health']);
      expect(plain.code).toBe(3);
      expect(plain.stderr + plain.stdout).toMatch(/control\.db/);
      // The router still serves the customer it knows.
      expect((await http('GET', `${url}/api/customers/steady`)).status).toBe(200);
    } finally {
      fs.writeFileSync(file, saved);
    }
    await waitFor('router reads control.db again', async () => (await http('GET', `${url}/health`)).body.controlPlane.ok === true, 10_000);
    await waitFor('healthy again', async () => (await cli(ws.home, ['health'])).code === 0, 10_000);
    await cliOk(ws.home, ['stop']);
  });
});
