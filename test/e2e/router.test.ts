// The router, through real HTTP to real cells: routing by mapping and by hash, pinning on create,
// capacity, JWT, rate limits, body limits, timeouts, a dead cell's blast radius, mapping refresh,
// and a cell written in another language.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { readAdminToken, readJwtKey } from '../../src/workspace/secrets.js';
import { cli, cliJson, cliOk, cleanup, createCells, FIXTURES, http, newWorkspace, waitFor, type Workspace } from '../helpers.js';

afterAll(cleanup);

// Where hashing places each customer (worked out once; test/unit/placement.test.ts pins the hash).
const HASHED: Record<string, string> = {
  'hashed-0': 'c2',
  'hashed-1': 'c3',
  'hashed-2': 'c3',
  'hashed-3': 'c1',
  'hashed-4': 'c2',
  'hashed-5': 'c2',
  'hashed-6': 'c2',
  'hashed-7': 'c1',
  'hashed-8': 'c3',
  'hashed-9': 'c3',
  'hashed-10': 'c2',
  'hashed-11': 'c1',
};
const IN_C1_OF_TWO = new Set([
  'mover',
  'br-4',
  'br-6',
  'br-7',
  'br-8',
  'br-10',
  'br-11',
  'br-12',
  'br-13',
  'br-14',
  'br-16',
  'br-17',
  'br-19',
  'hung-0',
  'hung-1',
  'hung-2',
  'hung-4',
  'hung-6',
  'hung-8',
  'hung-10',
]);
/** The cell hashing picks among c1, c2 (or n1, n2) for the customers these tests use. */
const homeOfTwo = (id: string, cells: [string, string]): string => (IN_C1_OF_TWO.has(id) || id === 'writer' ? cells[0] : cells[1]);

const customer = (id: string) => ({ name: `Customer ${id}`, email: `${id}@example.com` });

async function system(settings: Record<string, unknown>, cells: string[], template = 'basic'): Promise<Workspace & { url: string }> {
  const ws = await newWorkspace({ supervisor: { backoffInitialMs: 100, healthIntervalMs: 300 }, ...settings });
  await createCells(ws, template, cells);
  await cliOk(ws.home, ['start']);
  return { ...ws, url: `http://127.0.0.1:${ws.routerPort}` };
}

describe('routing', () => {
  it('routes by mapping row, places unmapped customers by hash and pins them on create', async () => {
    const ws = await system({}, ['c1', 'c2', 'c3']);
    await cliOk(ws.home, ['assign', 'customer', 'pinned', '--cell', 'c2']);
    const created = await http('POST', `${ws.url}/api/customers/pinned`, customer('pinned'));
    expect(created.status).toBe(201);
    expect(created.headers.get('x-cellctl-cell')).toBe('c2');

    const ids = Array.from({ length: 12 }, (_, i) => `hashed-${i}`);
    for (const id of ids) {
      const response = await http('POST', `${ws.url}/api/customers/${id}`, customer(id));
      expect(response.status).toBe(201);
      expect(response.headers.get('x-cellctl-cell')).toBe(HASHED[id]);
    }
    const mapping = await waitFor('pins written', async () => {
      const rows = await cliJson(ws.home, ['customers']);
      return rows.length === 13 && rows;
    });
    for (const row of mapping) if (row.id !== 'pinned') expect(row.cellId).toBe(HASHED[row.id]);
    const route = await cliJson(ws.home, ['route', 'hashed-0']);
    expect(route).toMatchObject({ rule: 'mapping', cell: 'c2' });
    expect((await cliJson(ws.home, ['route', 'newcomer'])).rule).toBe('hash');
    // A failed create pins nothing.
    expect((await http('POST', `${ws.url}/api/customers/invalid-one`, { name: 'x' })).status).toBe(400);
    expect((await cliJson(ws.home, ['customers'])).find((row: { id: string }) => row.id === 'invalid-one')).toBeUndefined();
  });

  it('a fence lifted with the cell a switch gave the customer sends its held request there at once, not where the mapping it last read says', async () => {
    const ws = await system({}, ['c1', 'c2']);
    await cliOk(ws.home, ['assign', 'customer', 'held', '--cell', 'c1']);
    expect((await http('POST', `${ws.url}/api/customers/held`, customer('held'))).headers.get('x-cellctl-cell')).toBe('c1');
    const admin = `http://127.0.0.1:${ws.adminPort}/admin`;
    const auth = { authorization: `Bearer ${readAdminToken(ws.home)}` };
    expect((await http('POST', `${admin}/fence`, { customerIds: ['held'], fenceId: 'f-held' }, auth)).status).toBe(200);
    const answer = http('GET', `${ws.url}/api/customers/held`);
    await waitFor('the request to be held', async () => (await http('GET', `${admin}/stats`, undefined, auth)).body.fences.some((f: any) => f.held === 1));
    // The control plane still maps the customer to c1: only the unfence names c2.
    const lifted = await http('POST', `${admin}/unfence`, { customerIds: ['held'], fenceId: 'f-held', switchedTo: 'c2' }, auth);
    expect(lifted.body).toMatchObject({ released: 1 });
    expect((await answer).headers.get('x-cellctl-cell')).toBe('c2');
  });

  it('with accessLog on, logs router says whether a request arrived: one line per request, the cell or the router that answered', async () => {
    const ws = await system({}, ['c1']);
    const requests = async () =>
      (await cliOk(ws.home, ['logs', 'router', '-n', '200', '--json'])).stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line))
        // The supervisor's health checks of the router are requests too: only this test's are looked at.
        .filter((line) => line.msg === 'request' && line.url !== '/health');
    expect((await http('POST', `${ws.url}/api/customers/quiet`, customer('quiet'))).status).toBe(201);
    expect(await requests()).toEqual([]);
    const applied = await cliOk(ws.home, ['config', 'set', 'accessLog', 'true']);
    expect(applied.stdout + applied.stderr).toMatch(/applied: accessLog/);
    expect((await http('GET', `${ws.url}/api/customers/quiet`)).status).toBe(200);
    expect((await http('GET', `${ws.url}/nope`)).status).toBe(404);
    const lines = await waitFor('two access lines', async () => {
      const found = await requests();
      return found.length >= 2 && found;
    });
    expect(lines[0]).toMatchObject({ method: 'GET', url: '/api/customers/quiet', status: 200, cell: 'c1', client: '127.0.0.1' });
    expect(lines[0].ms).toEqual(expect.any(Number));
    expect(lines[1]).toMatchObject({ method: 'GET', url: '/nope', status: 404, cell: 'router' });
    const people = (await cliOk(ws.home, ['logs', 'router', '-n', '50'])).stdout;
    expect(people).toMatch(/INFO +request +method=GET url=\/nope status=404 cell=router/);
  });

  it('answers 404 for unknown routes and 400 for malformed ids without reaching a cell', async () => {
    const ws = await system({}, ['c1']);
    expect((await http('GET', `${ws.url}/nope`)).status).toBe(404);
    expect((await http('GET', `${ws.url}/api/customers`)).status).toBe(404);
    const bad = await http('GET', `${ws.url}/api/customers/a%20b`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: expect.any(String), code: 'bad_customer_id' });
    expect((await cliJson(ws.home, ['status'])).cells[0].requests).toBe(0);
    // The beginner example's router health and whether the control plane reads; nothing internal.
    // Cells, counts and errors are the admin API's.
    expect((await http('GET', `${ws.url}/health`)).body).toEqual({
      status: 'healthy',
      service: 'cell-router',
      controlPlane: { ok: true },
      mappingConfirmed: true,
    });
    const adminHealth = await http('GET', `http://127.0.0.1:${ws.adminPort}/admin/health`, undefined, { authorization: `Bearer ${readAdminToken(ws.home)}` });
    expect(adminHealth.body).toMatchObject({ status: 'healthy', customersMapped: expect.any(Number), cells: { c1: { healthy: true } } });
    expect((await http('GET', `${ws.url}/nope`)).body).toMatchObject({ error: expect.any(String), code: 'not_found' });
    const admin = await http('GET', `http://127.0.0.1:${ws.adminPort}/admin/stats`);
    expect(admin.status).toBe(401);
    expect(admin.body).toMatchObject({ error: expect.any(String), code: 'unauthorized' });
  });

  it('respects capacity: a full cell takes no new customers; with every cell full the answer is 503', async () => {
    const ws = await newWorkspace({ supervisor: { backoffInitialMs: 100 } });
    await createCells(ws, 'basic', ['c1', 'c2']);
    const file = path.join(ws.home, 'control.db');
    const db = new Database(file);
    db.prepare('UPDATE cells SET capacity = 2').run();
    db.close();
    await cliOk(ws.home, ['start']);
    const url = `http://127.0.0.1:${ws.routerPort}`;
    const cells: string[] = [];
    for (const id of ['k1', 'k2', 'k3', 'k4']) {
      const response = await http('POST', `${url}/api/customers/${id}`, customer(id));
      expect(response.status).toBe(201);
      cells.push(response.headers.get('x-cellctl-cell')!);
    }
    expect(cells.filter((cell) => cell === 'c1')).toHaveLength(2);
    const full = await http('POST', `${url}/api/customers/k5`, customer('k5'));
    expect(full.status).toBe(503);
    expect(full.body).toMatchObject({ error: 'Cell unavailable', code: 'no_cell', details: expect.any(String) });
  });

  it('places new customers in the least-loaded cell under that policy', async () => {
    const ws = await system({ placement: 'least-loaded' }, ['c1', 'c2']);
    const cells = [];
    for (const id of ['l1', 'l2', 'l3', 'l4']) cells.push((await http('POST', `${ws.url}/api/customers/${id}`, customer(id))).headers.get('x-cellctl-cell'));
    expect(cells.sort()).toEqual(['c1', 'c1', 'c2', 'c2']);
  });

  it('sees mapping changes made by cellctl at once, and others through its version check', async () => {
    const ws = await system({}, ['c1', 'c2']);
    const home = homeOfTwo('mover', ['c1', 'c2']);
    const other = home === 'c1' ? 'c2' : 'c1';
    await cliOk(ws.home, ['assign', 'customer', 'mover', '--cell', other]);
    expect((await http('GET', `${ws.url}/api/customers/mover`)).headers.get('x-cellctl-cell')).toBe(other);
    // A row written straight into control.db (no notice) is picked up by the periodic check.
    const db = new Database(path.join(ws.home, 'control.db'));
    db.prepare("INSERT INTO customers (id, cell_id, created_at) VALUES ('quiet', ?, 'now')").run(other === 'c1' ? 'c1' : 'c2');
    db.close();
    await waitFor('router sees the quiet row', async () => (await http('GET', `${ws.url}/api/customers/quiet`)).headers.get('x-cellctl-cell') === other, 5000);
  });

  it('with control.db unreadable, serves from memory only until routerStaleAfterMs passed without a read, then refuses customers (mapping_unconfirmed); serves again once it reads', async () => {
    const ws = await system({}, ['c1']);
    await http('POST', `${ws.url}/api/customers/steady`, customer('steady'));
    const file = path.join(ws.home, 'control.db');
    await waitFor('pin flushed', async () => (await cliJson(ws.home, ['customers'])).length === 1);
    const saved = fs.readFileSync(file);
    // Garbage in the file, and a reset shared-memory index so the router's next read goes to disk.
    fs.writeFileSync(file, Buffer.alloc(saved.length, 0x41));
    fs.writeFileSync(`${file}-shm`, Buffer.alloc(fs.statSync(`${file}-shm`).size, 0));
    await waitFor('router notices', async () => (await http('GET', `${ws.url}/health`)).body.controlPlane.ok === false, 5000);
    // Its heartbeat is not written either: a mover would skip it, so it must not answer from a mapping that may be old.
    const refused = await waitFor('the router refuses steady', async () => {
      const answer = await http('GET', `${ws.url}/api/customers/steady`);
      if (answer.status === 200) return undefined; // still within routerStaleAfterMs of its last read
      return answer;
    });
    expect([refused.status, refused.body.code, refused.body.error]).toEqual([503, 'mapping_unconfirmed', 'Cell unavailable']);
    expect(refused.body.details).toMatch(/routerStaleAfterMs/);
    fs.writeFileSync(file, saved);
    await waitFor('router reads control.db again', async () => (await http('GET', `${ws.url}/health`)).body.controlPlane.ok === true, 5000);
    const read = await waitFor('steady served again', async () => {
      const answer = await http('GET', `${ws.url}/api/customers/steady`);
      return answer.status === 200 ? answer : undefined;
    });
    expect(read.body.name).toBe('Customer steady');
  });
});

describe('JWT mode', () => {
  it('needs a valid token, and a token for one customer never reaches another', async () => {
    const ws = await system({ auth: 'jwt' }, ['c1']);
    const alice = (await cliOk(ws.home, ['token', 'alice'])).stdout.trim();
    const bob = (await cliOk(ws.home, ['token', 'bob', '--ttl', '60'])).stdout.trim();
    const auth = (token: string) => ({ authorization: `Bearer ${token}` });
    expect((await http('POST', `${ws.url}/api/customers/alice`, customer('alice'), auth(alice))).status).toBe(201);
    expect((await http('POST', `${ws.url}/api/customers/bob`, customer('bob'), auth(bob))).status).toBe(201);
    const missing = await http('GET', `${ws.url}/api/customers/alice`);
    expect(missing.status).toBe(401);
    expect(missing.body).toMatchObject({ error: 'No authorization token provided', code: 'unauthorized', details: expect.stringMatching(/cellctl token/) });
    expect((await http('GET', `${ws.url}/api/customers/alice`, undefined, auth(alice.slice(0, -3) + 'abc'))).status).toBe(401);
    expect((await http('GET', `${ws.url}/api/customers/alice`, undefined, auth('not.a.jwt'))).status).toBe(401);
    const crossed = await http('GET', `${ws.url}/api/customers/bob`, undefined, auth(alice));
    expect(crossed.status).toBe(403);
    expect(crossed.body).toMatchObject({ error: expect.any(String), code: 'forbidden' });
    expect((await http('GET', `${ws.url}/api/customers/alice`, undefined, auth(alice))).body.name).toBe('Customer alice');
    // A token without an expiry is refused by default, even signed with the workspace's key.
    const forever = await new SignJWT({ customer_id: 'alice' }).setProtectedHeader({ alg: 'HS256' }).sign(readJwtKey(ws.home));
    const refused = await http('GET', `${ws.url}/api/customers/alice`, undefined, auth(forever));
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: 'Invalid token', code: 'unauthorized', details: expect.stringMatching(/exp/) });
  });

  it('accepts tokens without an expiry only when jwtRequireExp is off', async () => {
    const ws = await system({ auth: 'jwt', jwtRequireExp: false }, ['c1']);
    const forever = await new SignJWT({ customer_id: 'carol' }).setProtectedHeader({ alg: 'HS256' }).sign(readJwtKey(ws.home));
    expect((await http('POST', `${ws.url}/api/customers/carol`, customer('carol'), { authorization: `Bearer ${forever}` })).status).toBe(201);
  });
});

describe('limits', () => {
  it('rate-limits per customer with 429 and Retry-After, leaving other customers alone', async () => {
    const ws = await system({ limits: { rateLimit: { requests: 3, windowSeconds: 3 } } }, ['c1']);
    const statuses = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await http('GET', `${ws.url}/api/customers/greedy`)).status);
    expect(statuses.slice(0, 3)).toEqual([404, 404, 404]);
    const limited = await http('GET', `${ws.url}/api/customers/greedy`);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: 'Rate limit exceeded', code: 'rate_limited' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await http('GET', `${ws.url}/api/customers/modest`)).status).toBe(404);
  });

  it("limits each customer to the example's 100 requests per 60 s by default", async () => {
    const ws = await system({}, ['c1']);
    // At most 100 in any 60 s, as the example's sliding window: the 101st within the minute is refused
    // (this loop takes far less than a minute; were it slower, the first requests would leave the window).
    const started = Date.now();
    let allowed = 0;
    let limited = await http('GET', `${ws.url}/api/customers/busy`);
    for (let i = 0; i < 200 && limited.status === 404; i += 1) {
      allowed += 1;
      limited = await http('GET', `${ws.url}/api/customers/busy`);
    }
    expect(limited.status).toBe(429);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(allowed).toBe(100);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(1);
    expect(limited.body).toMatchObject({ error: 'Rate limit exceeded', code: 'rate_limited' });
    expect((await http('GET', `${ws.url}/api/customers/calm`)).status).toBe(404);
  });

  it('refuses a body over the limit with 413 before it reaches a cell', async () => {
    const ws = await system({ limits: { maxBodyBytes: 200 } }, ['c1']);
    const big = await http('POST', `${ws.url}/api/customers/big`, { name: 'x'.repeat(500), email: 'big@example.com' });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ error: expect.any(String), code: 'body_too_large' });
    expect((await http('POST', `${ws.url}/api/customers/small`, customer('small'))).status).toBe(201);
    expect((await cliJson(ws.home, ['metrics'])).cells.c1.customer_count).toBe(1);
  });

  it('answers 504 when a cell does not answer in time', async () => {
    const ws = await system({ limits: { upstreamTimeoutMs: 500 }, templatePaths: [path.join(FIXTURES, 'templates')] }, ['n1'], 'notes');
    const slow = await http('GET', `${ws.url}/api/customers/anyone/slow`);
    expect(slow.status).toBe(504);
    expect(slow.body).toMatchObject({ error: expect.any(String), code: 'cell_timeout', cell: 'n1' });
  });
});

describe('blast radius', () => {
  it('a dead cell fails only its own customers, with 503 (502 for one in flight) naming it, while others keep being served', async () => {
    // Four clients for 1.5 s send more than the default 100 requests per customer.
    const ws = await system(
      { supervisor: { backoffInitialMs: 4000, healthIntervalMs: 300 }, limits: { rateLimit: { requests: 1_000_000, windowSeconds: 1 } } },
      ['c1', 'c2'],
    );
    const ids = Array.from({ length: 20 }, (_, i) => `br-${i}`);
    for (const id of ids) expect((await http('POST', `${ws.url}/api/customers/${id}`, customer(id))).status).toBe(201);
    const owner = new Map(ids.map((id) => [id, homeOfTwo(id, ['c1', 'c2'])]));
    const victimPid = (await cliJson(ws.home, ['status'])).cells.find((cell: { id: string }) => cell.id === 'c1').pid;
    process.kill(victimPid, 'SIGKILL');
    const results: { id: string; status: number; cell: string | null }[] = [];
    // Load on every customer for a while after the kill.
    const deadline = Date.now() + 1500;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() < deadline) {
          for (const id of ids) {
            const response = await http('GET', `${ws.url}/api/customers/${id}`);
            results.push({ id, status: response.status, cell: response.body?.cell ?? null });
          }
        }
      }),
    );
    const c2 = results.filter((result) => owner.get(result.id) === 'c2');
    const c1 = results.filter((result) => owner.get(result.id) === 'c1');
    expect(c2.length).toBeGreaterThan(20);
    expect(c2.every((result) => result.status === 200)).toBe(true);
    expect(c1.filter((result) => result.status === 503).length).toBeGreaterThan(0);
    // 503 once the cell refuses connections; a request it had read when it died may be 502 (it may have landed).
    expect(c1.filter((result) => result.status !== 200).every((result) => [502, 503].includes(result.status) && result.cell === 'c1')).toBe(true);
  });
});

describe('a hung cell', () => {
  it('fails its customers fast with 503 naming it after the first timeout, until its health check passes again', async () => {
    const timeoutMs = 1500;
    // A long supervisor probe interval: the test is about the router, not about restarts.
    const ws = await system(
      {
        limits: { upstreamTimeoutMs: timeoutMs, rateLimit: { requests: 1_000_000, windowSeconds: 1 } },
        supervisor: { backoffInitialMs: 100, healthIntervalMs: 60_000 },
      },
      ['c1', 'c2'],
    );
    const ids = Array.from({ length: 12 }, (_, i) => `hung-${i}`);
    for (const id of ids) expect((await http('POST', `${ws.url}/api/customers/${id}`, customer(id))).status).toBe(201);
    const inC1 = ids.filter((id) => homeOfTwo(id, ['c1', 'c2']) === 'c1');
    const inC2 = ids.filter((id) => homeOfTwo(id, ['c1', 'c2']) === 'c2');
    const pid = Number(fs.readFileSync(path.join(ws.home, 'c1', 'pid'), 'utf8').trim());
    process.kill(pid, 'SIGSTOP');
    try {
      const first = await http('GET', `${ws.url}/api/customers/${inC1[0]}`);
      expect([503, 504]).toContain(first.status); // 503 if a health check found it hung first
      expect(first.body.cell).toBe('c1');
      // For longer than any retry window, every request for c1 is refused without waiting on it.
      const until = Date.now() + 1000;
      for (let i = 0; i < 200 && Date.now() < until; i += 1) {
        const id = inC1[i % inC1.length]!;
        const refused = await http('GET', `${ws.url}/api/customers/${id}`);
        expect(refused.status, `request ${i}`).toBe(503);
        // The beginner example's 503, with the cell named beside it.
        expect(refused.body).toMatchObject({ error: 'Cell unavailable', code: 'cell_unavailable', details: expect.any(String), cell: 'c1' });
      }
      for (const id of inC2) expect((await http('GET', `${ws.url}/api/customers/${id}`)).status).toBe(200);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor('c1 served again', async () => (await http('GET', `${ws.url}/api/customers/${inC1[0]}`)).status === 200);
  });
});

describe('a cell in another language', () => {
  it('runs a Python cell from a workspace template, routes to it, and restarts it like any other', async () => {
    const ws = await system({ templatePaths: [path.join(FIXTURES, 'templates')] }, ['n1', 'n2'], 'notes');
    const status = await cliJson(ws.home, ['status']);
    expect(status.cells.map((cell: { healthy: boolean }) => cell.healthy)).toEqual([true, true]);
    expect((await http('POST', `${ws.url}/api/customers/writer`, { name: 'W' })).status).toBe(201);
    expect((await http('POST', `${ws.url}/api/customers/writer/notes`, { body: 'first' })).status).toBe(201);
    const notes = await http('GET', `${ws.url}/api/customers/writer/notes`);
    expect(notes.body).toEqual({ notes: ['first'], cell: 'n1' });
    expect((await cli(ws.home, ['health'])).code).toBe(0);
  });
});
