// The cell data API (src/data/protocol.ts) against real cells: a built-in cell started by the
// supervisor, a user's Python app with its `cell-agent` companion, and `cellctl serve --data-port`.
// Tokens, input checks, an exact export/import, replays, the write barrier seen through the apps,
// purges, and fencing numbers.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_DATA_BODY_BYTES } from '../../src/data/protocol.js';
import { CLI, cleanup, cli, cliOk, FIXTURES, freePort, http, type RunningSystem, spawnTracked, startSystem, statusesIn, tempDir, waitFor } from '../helpers.js';

afterAll(cleanup);

interface DataCell {
  app: string;
  data: string;
  token: string;
}

function dataCell(home: string, cell: string): DataCell {
  const descriptor = JSON.parse(fs.readFileSync(path.join(home, cell, 'cell.json'), 'utf8')) as { port: number; dataPort: number };
  const token = fs.readFileSync(path.join(home, 'secrets', 'cells', `${cell}.token`), 'utf8').trim();
  return { app: `http://127.0.0.1:${descriptor.port}`, data: `http://127.0.0.1:${descriptor.dataPort}/data/v2`, token };
}

/** A data API request with the cell's token. */
const call = (cell: DataCell, method: string, name: string, body?: unknown) =>
  http(method, `${cell.data}/${name}`, body, { authorization: `Bearer ${cell.token}` });

async function ok(cell: DataCell, name: string, body: unknown): Promise<any> {
  const answer = await call(cell, 'POST', name, body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body;
}

/** Moves `customers` from one cell to the other through the data API, page by page; returns the import answers. */
async function copy(from: DataCell, to: DataCell, customers: string[], move: number, fencing: number, limit = 3): Promise<any[]> {
  const stored: any[] = [];
  let cursor = null;
  for (let i = 0; i < 200; i += 1) {
    const { page, next } = await ok(from, 'export', { customers, cursor, limit });
    if (page) {
      const answer = await ok(to, 'import', { move, fencing, customers, page });
      expect(answer.rows).toBe(page.sections.reduce((sum: number, section: any) => sum + section.count, 0));
      stored.push({ answer, page });
    }
    if (!next) return stored;
    cursor = next;
  }
  throw new Error('export did not end within 200 pages');
}

async function purgeAll(cell: DataCell, customers: string[], move: number, fencing: number): Promise<number> {
  for (let calls = 1; calls <= 100; calls += 1) {
    if ((await ok(cell, 'purge', { move, fencing, customers, limit: 2 })).done) return calls;
  }
  throw new Error('purge did not finish within 100 calls');
}

describe('the data API of built-in cells', () => {
  let ws: RunningSystem;
  let a: DataCell;
  let b: DataCell;

  beforeAll(async () => {
    ws = await startSystem('ecommerce', ['c1', 'c2']);
    a = dataCell(ws.home, 'c1');
    b = dataCell(ws.home, 'c2');
    for (const id of ['k1', 'k2', 'k3']) {
      expect((await http('POST', `${a.app}/api/customers/${id}`, { name: id, email: `${id}@example.com`, address: { n: 1.5 } })).status).toBe(201);
      for (const product of ['sku-keyboard', 'sku-mouse']) {
        expect((await http('POST', `${a.app}/api/customers/${id}/cart/items`, { product_id: product, quantity: 2 })).status).toBe(200);
      }
      expect((await http('POST', `${a.app}/api/customers/${id}/orders`)).status).toBe(201);
      expect((await http('POST', `${a.app}/api/customers/${id}/cart/items`, { product_id: 'sku-monitor' })).status).toBe(200);
    }
    // Orders reach "fulfilled" (a notification), so every customer table holds rows.
    await waitFor('orders fulfilled', async () => (await http('GET', `${a.app}/api/customers/k3/notifications`)).body.notifications.length === 1);
  });

  it('refuses requests without the right token (401)', async () => {
    expect((await http('GET', `${a.data}/info`)).status).toBe(401);
    const wrong = await http('POST', `${a.data}/export`, { customers: ['k1'] }, { authorization: `Bearer ${b.token}` });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('unauthorized');
    const info = await call(a, 'GET', 'info');
    expect(info.body).toMatchObject({ api: 4, cell_id: 'c1', barrier: 'triggers', online: null, fencing: expect.any(Number) });
    expect(info.body.tables.map((t: any) => t.table)[0]).toBe('customers');
  });

  it('answers 400 listing each problem of a bad body, and 422 for what the template does not declare', async () => {
    const bad = await call(a, 'POST', 'export', { customers: [], limit: 0, extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('bad_request');
    expect(bad.body.error).toMatch(/customers/);
    expect(bad.body.error).toMatch(/limit/);
    expect((await call(a, 'POST', 'summary', 'not json')).status).toBe(400);
    const before = await ok(b, 'summary', { customers: ['k1', 'k9'] });
    const product = { key: 'products:1', sections: [{ table: 'products', columns: ['product_id', 'name'], count: 1, rows: '[["p-x", "X"]]' }] };
    const undeclared = await call(b, 'POST', 'import', { move: 1, fencing: 1, customers: ['k1'], page: product });
    expect([undeclared.status, undeclared.body.code]).toEqual([422, 'not_declared']);
    const column = await call(b, 'POST', 'import', {
      move: 1,
      fencing: 1,
      customers: ['k1'],
      page: { key: 'customers:1', sections: [{ table: 'customers', columns: ['customer_id', 'secret'], count: 1, rows: '[["k1", 1]]' }] },
    });
    expect([column.status, column.body.code]).toEqual([422, 'not_declared']);
    const value = await call(b, 'POST', 'import', {
      move: 1,
      fencing: 1,
      customers: ['k1'],
      page: { key: 'customers:1', sections: [{ table: 'customers', columns: ['customer_id', 'name'], count: 1, rows: '[["k1", {"$x": 1}]]' }] },
    });
    expect([value.status, value.body.code]).toEqual([400, 'bad_request']);
    expect(value.body.error).toContain('page.sections.0.rows[0][1]');
    // A page holding a row of a customer the request does not name is refused whole.
    const { page } = await ok(a, 'export', { customers: ['k1', 'k2'], limit: 10 });
    const foreign = await call(b, 'POST', 'import', {
      move: 1,
      fencing: 1,
      customers: ['k1'],
      page,
    });
    expect([foreign.status, foreign.body.code]).toEqual([422, 'not_declared']);
    expect(await ok(b, 'summary', { customers: ['k1', 'k9'] })).toEqual(before);
  });

  it('answers 413 body_too_large to a body over its limit, then closes the connection cleanly (no reset)', async () => {
    const port = Number(new URL(a.data).port);
    const body = Buffer.alloc(MAX_DATA_BODY_BYTES + 1024 * 1024, 'a');
    const head = `POST /data/v2/import HTTP/1.1\r\nhost: c\r\nauthorization: Bearer ${a.token}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
    const seen = await new Promise<{ text: string; ended: boolean; error: string | null }>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      const result = { text: '', ended: false, error: null as string | null };
      socket.on('data', (chunk) => (result.text += chunk.toString('latin1')));
      socket.on('end', () => (result.ended = true));
      socket.on('error', (error: NodeJS.ErrnoException) => (result.error = error.code ?? error.message));
      socket.on('close', () => resolve(result));
      socket.write(head);
      socket.end(body);
    });
    expect(seen.error).toBeNull();
    expect(seen.ended).toBe(true);
    expect(statusesIn(seen.text)).toEqual([413]);
    expect(seen.text.toLowerCase()).toContain('connection: close');
    const answer = JSON.parse(seen.text.slice(seen.text.indexOf('\r\n\r\n') + 4));
    expect(answer).toMatchObject({ code: 'body_too_large', error: expect.stringContaining(`${MAX_DATA_BODY_BYTES} bytes`) });
    // An ordinary client (fetch) reads the same answer.
    const fetched = await call(a, 'POST', 'import', body.toString('latin1'));
    expect([fetched.status, fetched.body.code]).toEqual([413, 'body_too_large']);
    // The cell goes on serving.
    expect((await call(a, 'GET', 'info')).status).toBe(200);
  });

  it('export from one cell and import into another move a customer exactly; a replayed page writes nothing twice', async () => {
    const source = await ok(a, 'summary', { customers: ['k1'] });
    expect(source.tables.every((t: any) => t.rows > 0)).toBe(true);
    const stored = await copy(a, b, ['k1'], 11, 20, 1);
    expect(stored.length).toBeGreaterThan(source.tables.length);
    expect(stored.every(({ answer }) => answer.replayed === false)).toBe(true);
    expect(await ok(b, 'summary', { customers: ['k1'] })).toEqual(source);
    const { answer: first, page } = stored[0];
    const again = await ok(b, 'import', {
      move: 11,
      fencing: 20,
      customers: ['k1'],
      page,
    });
    expect(again).toEqual({ rows: first.rows, tables: [], replayed: true });
    expect(await ok(b, 'summary', { customers: ['k1'] })).toEqual(source);
    // The target's app serves the moved customer, with its own cell id in the rows.
    const customer = await http('GET', `${b.app}/api/customers/k1`);
    expect(customer.body).toMatchObject({ customer_id: 'k1', cell_id: 'c2', address: { n: 1.5 } });
    expect((await http('GET', `${b.app}/api/customers/k1/orders`)).body.orders[0].status).toBe('fulfilled');
    const customers = await ok(b, 'customers', { after: null, limit: 10 });
    expect(customers.customers).toEqual(['k1']);
  });

  it("a barrier makes the app refuse that customer's writes (503 customer_moving) while reads and other customers go on; purge turns it into a tombstone", async () => {
    expect((await ok(a, 'barrier', { move: 11, fencing: 20, customers: ['k1'] })).customers).toEqual(['k1']);
    expect((await call(a, 'GET', 'barriers')).body.barriers).toMatchObject([{ customer: 'k1', move: 11 }]);
    const before = await ok(a, 'summary', { customers: ['k1'] });
    const refused = await http('PUT', `${a.app}/api/customers/k1`, { name: 'late' });
    expect([refused.status, refused.body.code]).toEqual([503, 'customer_moving']);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect((await http('POST', `${a.app}/api/customers/k1/cart/items`, { product_id: 'sku-keyboard' })).status).toBe(503);
    expect((await http('POST', `${a.app}/api/customers/k1/orders`)).status).toBe(503);
    expect((await http('GET', `${a.app}/api/customers/k1`)).body.name).toBe('k1');
    expect((await http('GET', `${a.app}/api/customers/k1/orders`)).status).toBe(200);
    // Another customer is served as usual, its order worked by the same worker.
    expect((await http('PUT', `${a.app}/api/customers/k2`, { name: 'still here' })).status).toBe(200);
    expect((await http('POST', `${a.app}/api/customers/k2/orders`)).status).toBe(201);
    await waitFor('k2 order fulfilled', async () => (await http('GET', `${a.app}/api/customers/k2/notifications`)).body.notifications.length === 2);
    expect(await ok(a, 'summary', { customers: ['k1'] })).toEqual(before);
    expect((await http('GET', `${a.app}/health`)).status).toBe(200);

    expect(await purgeAll(a, ['k1'], 11, 20)).toBeGreaterThan(1);
    expect((await ok(a, 'summary', { customers: ['k1'] })).tables.every((t: any) => t.rows === 0)).toBe(true);
    // The barrier became a tombstone: k1 lives elsewhere now, so even a create (a stale router's) is refused here.
    expect((await call(a, 'GET', 'barriers')).body).toMatchObject({ barriers: [], tombstones: [{ customer: 'k1', fencing: 20 }] });
    expect((await http('GET', `${a.app}/api/customers/k1`)).status).toBe(404);
    expect((await http('POST', `${a.app}/api/customers/k1`, { name: 'k1', email: 'k1-new@example.com' })).status).toBe(503);
    // Placed here again (a move's import, or unbar), it is served.
    await ok(a, 'unbar', { move: 12, fencing: 21, customers: ['k1'] });
    expect((await http('POST', `${a.app}/api/customers/k1`, { name: 'k1', email: 'k1-new@example.com' })).status).toBe(201);
  });

  it('a mover with a lower fencing number than one already seen gets 409 stale_owner and changes nothing', async () => {
    expect((await ok(a, 'barrier', { move: 30, fencing: 40, customers: ['k3'] })).customers).toEqual(['k3']);
    const stale = await call(a, 'POST', 'unbar', { move: 29, fencing: 39, customers: ['k3'] });
    expect([stale.status, stale.body.code]).toEqual([409, 'stale_owner']);
    const before = await ok(a, 'summary', { customers: ['k3'] });
    const purge = await call(a, 'POST', 'purge', { move: 29, fencing: 39, customers: ['k3', 'k2'] });
    expect(purge.status).toBe(409);
    expect(await ok(a, 'summary', { customers: ['k3'] })).toEqual(before);
    expect((await call(a, 'GET', 'barriers')).body.barriers.map((row: any) => row.customer)).toEqual(['k3']);
    expect(await ok(a, 'unbar', { move: 30, fencing: 40, customers: ['k3'] })).toEqual({ customers: ['k3'] });
    expect((await http('PUT', `${a.app}/api/customers/k3`, { name: 'free again' })).status).toBe(200);
  });
});

describe('change capture (online moves)', () => {
  it("records every writer's changes; changes answers rows as they are now and the keys that went; apply makes the target equal and refuses another customer's key", async () => {
    const ws = await startSystem('ecommerce', ['c1', 'c2']);
    const a = dataCell(ws.home, 'c1');
    const b = dataCell(ws.home, 'c2');
    expect((await http('POST', `${a.app}/api/customers/m1`, { name: 'm1', email: 'm1@example.com' })).status).toBe(201);
    expect((await http('POST', `${a.app}/api/customers/m1/cart/items`, { product_id: 'sku-mouse', quantity: 1 })).status).toBe(200);
    const move = { move: 7, fencing: 7, customers: ['m1'] };
    // Without a capture there are no changes to read: the move must start again.
    const none = await call(a, 'POST', 'changes', { move: 7, customers: ['m1'], after: 0 });
    expect([none.status, none.body.code]).toEqual([409, 'not_capturing']);
    expect(await ok(a, 'capture', move)).toEqual({ customers: ['m1'], capturing: 1 });
    await copy(a, b, ['m1'], 7, 7);
    // The app writes after the copy: an insert, an update and a delete, each captured by the triggers.
    expect((await http('POST', `${a.app}/api/customers/m1/cart/items`, { product_id: 'sku-cable', quantity: 2 })).status).toBe(200);
    expect((await http('PUT', `${a.app}/api/customers/m1`, { name: 'renamed' })).status).toBe(200);
    expect((await http('DELETE', `${a.app}/api/customers/m1/cart/items/sku-mouse`)).status).toBe(200);
    const changes = await ok(a, 'changes', { move: 7, customers: ['m1'], after: 0 });
    expect(changes.left).toBe(0);
    expect(changes.sections.map((section: any) => [section.table, section.count])).toEqual([
      ['customers', 1],
      ['cart_items', 1],
    ]);
    expect(changes.deletes).toEqual([{ table: 'cart_items', keys: '[["m1","sku-mouse"]]' }]);
    const applied = await ok(b, 'apply', { ...move, sections: changes.sections, deletes: changes.deletes });
    expect(applied.after.find((t: any) => t.table === 'cart_items')).toMatchObject({ rows: 1, checksum: changes.sections[1].checksum });
    expect(await ok(b, 'summary', { customers: ['m1'] })).toEqual(await ok(a, 'summary', { customers: ['m1'] }));
    // Read again from the start, the same changes apply once more to the same result (idempotent).
    await ok(b, 'apply', { ...move, sections: changes.sections, deletes: changes.deletes });
    expect(await ok(b, 'summary', { customers: ['m1'] })).toEqual(await ok(a, 'summary', { customers: ['m1'] }));
    // A row whose key another customer holds in the target is a conflict: nothing of the page is written.
    expect((await http('POST', `${b.app}/api/customers/other`, { name: 'o', email: 'o@example.com' })).status).toBe(201);
    expect((await http('POST', `${b.app}/api/customers/other/cart/items`, { product_id: 'sku-cable', quantity: 1 })).status).toBe(200);
    const order = (await http('POST', `${b.app}/api/customers/other/orders`)).body.order_id;
    const row = JSON.stringify([[order, 'm1', 'pending', 100, 't', 't', 'c1']]);
    const columns = ['order_id', 'customer_id', 'status', 'total_cents', 'created_at', 'updated_at', 'cell_id'];
    const clash = await call(b, 'POST', 'apply', { ...move, sections: [{ table: 'orders', columns, count: 1, rows: row }], deletes: [] });
    expect([clash.status, clash.body.code]).toEqual([409, 'conflict']);
    expect((await http('GET', `${b.app}/api/customers/other/orders`)).body.orders).toHaveLength(1);
    // And a row of a customer the request does not name is refused before anything is read.
    const theirs = changes.sections[0].rows.replace('"m1"', '"other"');
    const unnamed = await call(b, 'POST', 'apply', { ...move, sections: [{ ...changes.sections[0], rows: theirs }], deletes: [] });
    expect([unnamed.status, unnamed.body.code]).toEqual([422, 'not_declared']);
    const bad = await call(b, 'POST', 'apply', { ...move, sections: [], deletes: [{ table: 'cart_items', keys: '[["m1"]]' }] });
    expect([bad.status, bad.body.code]).toEqual([400, 'bad_request']);
    // The last capture to stop takes the triggers and the change table with it.
    expect(await ok(a, 'capture/stop', move)).toEqual({ customers: ['m1'], capturing: 0 });
    expect((await call(a, 'POST', 'changes', { move: 7, customers: ['m1'], after: 0 })).body.code).toBe('not_capturing');
    expect(await ok(a, 'capture/stop', move)).toEqual({ customers: ['m1'], capturing: 0 });
  });
});

describe("the data API beside a user's own app (cell-agent)", () => {
  it("the supervisor runs the companion; a barrier makes the Python app's write fail and its data stays as it was", async () => {
    const ws = await startSystem('notes', ['n1'], { templatePaths: [path.join(FIXTURES, 'templates')] });
    const cell = dataCell(ws.home, 'n1');
    await waitFor('the companion data API', async () => (await call(cell, 'GET', 'info')).status === 200);
    expect((await call(cell, 'GET', 'info')).body.tables.map((t: any) => t.table)).toEqual(['owners', 'notes']);
    for (const owner of ['o1', 'o2']) expect((await http('POST', `${cell.app}/api/customers/${owner}`, { name: owner })).status).toBe(201);
    expect((await http('POST', `${cell.app}/api/customers/o1/notes`, { body: 'first' })).status).toBe(201);
    await ok(cell, 'barrier', { move: 5, fencing: 5, customers: ['o1'] });
    const before = await ok(cell, 'summary', { customers: ['o1'] });
    const late = await http('POST', `${cell.app}/api/customers/o1/notes`, { body: 'late' }).catch(() => null);
    expect(late === null || late.status >= 500).toBe(true);
    expect((await http('GET', `${cell.app}/api/customers/o1/notes`)).body.notes).toEqual(['first']);
    expect(await ok(cell, 'summary', { customers: ['o1'] })).toEqual(before);
    expect((await http('POST', `${cell.app}/api/customers/o2/notes`, { body: 'fine' })).status).toBe(201);
    // The companion is a supervised process: killed, it comes back and the barrier still holds.
    const pid = Number(fs.readFileSync(path.join(ws.home, 'n1', 'data.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    await waitFor('the companion restarted', async () => {
      const now = Number(fs.readFileSync(path.join(ws.home, 'n1', 'data.pid'), 'utf8'));
      return now !== pid && (await call(cell, 'GET', 'barriers')).body?.barriers?.length === 1;
    });
    expect((await cliOk(ws.home, ['status'])).stdout).toContain('n1');
    await cliOk(ws.home, ['stop', 'n1']);
    const removed = await cliOk(ws.home, ['cell-agent', '--db', path.join(ws.home, 'n1', 'data.db'), '--remove-triggers']);
    expect(removed.stdout + removed.stderr).toMatch(/removed 6 /);
  });

  it('cell-agent explains a missing file, an unreadable token and a database without the declared tables', async () => {
    const dir = tempDir();
    const tokenFile = path.join(dir, 'token');
    fs.writeFileSync(tokenFile, 'a-secret-token-of-24-chars\n');
    const args = ['--template', path.join(FIXTURES, 'templates', 'notes'), '--cell-id', 'x1', '--port', String(await freePort())];
    const missing = await cli(null, ['cell-agent', '--db', path.join(dir, 'none.db'), ...args, '--token-file', tokenFile]);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(/does not exist/)]);
    const empty = path.join(dir, 'empty.db');
    fs.writeFileSync(empty, '');
    const noToken = await cli(null, ['cell-agent', '--db', empty, ...args, '--token-file', path.join(dir, 'nope')]);
    expect([noToken.code, noToken.stderr]).toEqual([1, expect.stringMatching(/token file/)]);
    const noTables = await cli(null, ['cell-agent', '--db', empty, ...args, '--token-file', tokenFile]);
    expect([noTables.code, noTables.stderr]).toEqual([1, expect.stringMatching(/no table "owners"/)]);
    // The token rule of cells register, at every side that reads a token.
    const short = path.join(dir, 'short');
    fs.writeFileSync(short, 'abc\n');
    const env = { CELL_ID: 's1', PORT: String(await freePort()), CELL_DB: path.join(dir, 's1.db'), CELL_HOME: dir };
    const served = await cli(null, ['serve', '--template', 'basic', '--data-port', String(await freePort()), '--token-file', short], env);
    expect([served.code, served.stderr]).toEqual([
      1,
      `error: the data API token in ${short} has 3 characters; a data API token has at least 16 (make one with: head -c 24 /dev/urandom | base64 > FILE)\n`,
    ]);
    const agent = await cli(null, ['cell-agent', '--db', empty, ...args, '--token-file', short]);
    expect([agent.code, agent.stderr]).toEqual([1, expect.stringMatching(/has 3 characters; a data API token has at least 16/)]);
  });
});

describe('cellctl serve --data-port', () => {
  it('serves the app and the data API of a built-in cell started by hand', async () => {
    const dir = tempDir();
    const tokenFile = path.join(dir, 'token');
    fs.writeFileSync(tokenFile, 'hand-token-of-20-chars\n');
    const [port, dataPort] = [await freePort(), await freePort()];
    const child = spawnTracked(process.execPath, [CLI, 'serve', '--template', 'basic', '--data-port', String(dataPort), '--token-file', tokenFile], {
      CELL_ID: 'hand',
      PORT: String(port),
      CELL_DB: path.join(dir, 'data.db'),
      CELL_HOME: dir,
    });
    let output = '';
    child.stderr?.on('data', (chunk) => (output += chunk));
    const cell: DataCell = { app: `http://127.0.0.1:${port}`, data: `http://127.0.0.1:${dataPort}/data/v2`, token: 'hand-token-of-20-chars' };
    await waitFor(`serve with a data API (${output})`, async () => (await call(cell, 'GET', 'info')).status === 200);
    expect((await http('POST', `${cell.app}/api/customers/h1`, { name: 'H', email: 'h@example.com' })).status).toBe(201);
    await ok(cell, 'barrier', { move: 1, fencing: 1, customers: ['h1'] });
    const refused = await http('PUT', `${cell.app}/api/customers/h1`, { name: 'late' });
    expect([refused.status, refused.body.code]).toEqual([503, 'customer_moving']);
    expect((await ok(cell, 'summary', { customers: ['h1'] })).tables).toEqual([{ table: 'customers', rows: 1, checksum: expect.any(Number) }]);
  });
});
