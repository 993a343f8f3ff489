// cellctl health when control.db cannot be read: health says so with exit 3 (unhealthy), not a
// generic failure; the router, which cannot confirm its mapping, refuses customers' requests once
// routerStaleAfterMs passed (a move could have skipped it), and serves them again once the file is back.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, cliJson, cliOk, cleanup, createCells, http, newWorkspace, waitFor } from '../helpers.js';

afterAll(cleanup);

describe('health and an unreadable control.db', () => {
  it('exits 3 and says the router cannot read control.db and refuses customers (mapping unconfirmed); healthy and serving again once it is restored', async () => {
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
      // Past routerStaleAfterMs without a read the router refuses the customer it knows: a move may have skipped it.
      const refused = await waitFor('the router refuses steady', async () => {
        const answer = await http('GET', `${url}/api/customers/steady`);
        return answer.status === 503 ? answer : undefined;
      });
      expect(refused.body.code).toBe('mapping_unconfirmed');
      expect(refused.headers.get('retry-after')).toBe('1');
      expect((await http('GET', `${url}/health`)).body).toMatchObject({ controlPlane: { ok: false }, mappingConfirmed: false });
      const plain = await cli(ws.home, ['health']);
      expect(plain.code).toBe(3);
      expect(plain.stderr + plain.stdout).toMatch(/control\.db/);
      expect(plain.stderr + plain.stdout).toMatch(/mapping unconfirmed since/);
    } finally {
      fs.writeFileSync(file, saved);
    }
    await waitFor('router reads control.db again', async () => (await http('GET', `${url}/health`)).body.controlPlane.ok === true, 10_000);
    await waitFor('the router serves steady again', async () => (await http('GET', `${url}/api/customers/steady`)).status === 200, 10_000);
    await waitFor('healthy again', async () => (await cli(ws.home, ['health'])).code === 0, 10_000);
    await cliOk(ws.home, ['stop']);
  });
});
