// Cells by URL: a cell started by hand (as another host or an orchestrator would) is registered, the
// router routes its customers to its URL, status and health probe it, and bad registrations change
// nothing.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_API_VERSION } from '../../src/data/protocol.js';
import { CLI, cleanup, cli, cliJson, cliOk, freePort, http as request, newWorkspace, spawnTracked, tempDir, waitFor, type Workspace } from '../helpers.js';

afterAll(cleanup);

interface HandCell {
  child: ChildProcess;
  port: number;
  url: string;
}

/** `cellctl serve` on a free port, in a folder of its own (its "disk"). */
async function serveCell(id: string, template = 'basic'): Promise<HandCell> {
  const dir = path.join(tempDir(), id);
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child = spawnTracked(process.execPath, [CLI, 'serve', '--template', template], {
    CELL_ID: id,
    PORT: String(port),
    CELL_DB: path.join(dir, 'data.db'),
    CELL_HOME: dir,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`cell ${id} to answer`, async () => (await request('GET', `${url}/health`).catch(() => null))?.status === 200);
  return { child, port, url };
}

function tokenFile(text = 'a-data-token-of-32-characters-ok'): string {
  const file = path.join(tempDir(), 'token');
  fs.writeFileSync(file, text + '\n', { mode: 0o600 });
  return file;
}

/** A stand-in data API that answers GET /data/v2/info as a given cell would. */
async function fakeDataApi(info: Record<string, unknown>, status = 200): Promise<{ url: string; close: () => void }> {
  const server = http.createServer((req, res) => {
    res.writeHead(req.url === '/data/v2/info' ? status : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(info));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => server.close() };
}

describe('a registered cell', () => {
  let ws: Workspace;
  let far: HandCell;
  let router: string;

  beforeAll(async () => {
    ws = await newWorkspace();
    router = `http://127.0.0.1:${ws.routerPort}`;
    far = await serveCell('far');
    await cliOk(ws.home, ['start', 'router']);
  });

  it('is routed to by its URL, shown registered and healthy, and fails only its customers when it stops', async () => {
    const dataPort = await freePort();
    await cliOk(ws.home, [
      'cells',
      'register',
      'far',
      '--template',
      'basic',
      '--url',
      far.url,
      '--data-url',
      `http://127.0.0.1:${dataPort}`,
      '--token-file',
      tokenFile(),
      '--capacity',
      '50',
      '--no-check',
    ]);
    const token = fs.readFileSync(path.join(ws.home, 'secrets', 'cells', 'far.token'));
    expect(token.toString().trim()).toBe('a-data-token-of-32-characters-ok');
    expect(fs.statSync(path.join(ws.home, 'secrets', 'cells', 'far.token')).mode & 0o777).toBe(0o600);

    // It enters placement once the router finds it healthy; then new customers land on it.
    const created = await waitFor('a customer placed on the registered cell', async () => {
      const answer = await request('POST', `${router}/api/customers/r-1`, { name: 'R1', email: 'r1@example.com' });
      return answer.status === 201 ? answer : undefined;
    });
    expect(created.status).toBe(201);
    for (const id of ['r-2', 'r-3'])
      expect((await request('POST', `${router}/api/customers/${id}`, { name: id, email: `${id}@example.com` })).status).toBe(201);
    const mapping = await cliJson<{ id: string; cellId: string }[]>(ws.home, ['customers']);
    expect(mapping.map((row) => row.cellId)).toEqual(['far', 'far', 'far']);
    expect((await request('GET', `${far.url}/api/customers/r-2`)).status).toBe(200);

    const status = await cliJson(ws.home, ['status']);
    expect(status.cells).toEqual([expect.objectContaining({ id: 'far', state: 'registered', pid: null, healthy: true, url: far.url, customers: 3 })]);
    expect((await cli(ws.home, ['health'])).code).toBe(0);
    const table = (await cliOk(ws.home, ['status'])).stdout;
    expect(table).toContain(far.url);
    expect((await cliOk(ws.home, ['list'])).stdout).toContain(far.url.replace('http://', ''));

    // start/stop never touch a registered cell; its log is where it runs.
    expect((await cli(ws.home, ['start', 'far'])).code).toBe(2);
    const logs = await cli(ws.home, ['logs', 'far']);
    expect([logs.code, logs.stderr]).toEqual([
      1,
      `error: cell far is registered and runs elsewhere (${far.url}): its log is on the host that runs it, not in this workspace\n`,
    ]);

    far.child.kill('SIGKILL');
    await waitFor('the cell to be gone', () => far.child.exitCode !== null || far.child.signalCode !== null);
    const health = await cli(ws.home, ['health', '--json']);
    expect(health.code).toBe(3);
    const verdict = JSON.parse(health.stdout);
    expect(verdict.customersAffected).toBe(3);
    expect(verdict.details).toEqual([expect.objectContaining({ customers: 3 })]);
    expect(verdict.details[0].problem).toContain('far');
    const refusedRead = await request('GET', `${router}/api/customers/r-1`);
    expect(refusedRead.status).toBe(503);
    // It names the cell, never where it runs or the socket error (those are for status and the admin API).
    expect(refusedRead.body).toMatchObject({ code: 'cell_unavailable', cell: 'far' });
    expect(JSON.stringify(refusedRead.body)).not.toMatch(new RegExp(`${new URL(far.url).port}|ECONNREFUSED|127\\.0\\.0\\.1`));

    // Unregistering is refused while customers are mapped to it.
    const refused = await cli(ws.home, ['cells', 'unregister', 'far']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/3 customer/);
    expect((await cliJson(ws.home, ['list'])).map((cell: { id: string }) => cell.id)).toEqual(['far']);
  });
});

describe('registering', () => {
  let ws: Workspace;
  let near: HandCell;

  beforeAll(async () => {
    ws = await newWorkspace();
    near = await serveCell('near');
  });

  /** Every bad registration: exit ≠ 0, a message that names the problem, and nothing written. */
  async function refused(args: string[], why: RegExp): Promise<void> {
    const before = fs.readdirSync(path.join(ws.home, 'secrets'), { recursive: true }).sort();
    const result = await cli(ws.home, ['cells', 'register', ...args]);
    expect(result.code, result.stderr).not.toBe(0);
    expect(result.stderr).toMatch(why);
    expect(await cliJson(ws.home, ['list'])).toEqual([]);
    expect(fs.readdirSync(path.join(ws.home, 'secrets'), { recursive: true }).sort()).toEqual(before);
    expect(JSON.parse(fs.readFileSync(path.join(ws.home, 'cellctl.json'), 'utf8')).placementTemplate).toBeNull();
  }

  it('refuses bad input with a clear message and changes nothing', async () => {
    const token = tokenFile();
    const data = await freePort();
    const ok = ['--template', 'basic', '--url', near.url, '--data-url', `http://127.0.0.1:${data}`, '--token-file', token];
    const without = (flag: string) => {
      const at = ok.indexOf(flag);
      return [...ok.slice(0, at), ...ok.slice(at + 2)];
    };
    await refused(['Bad_Name', ...ok, '--no-check'], /invalid cell name/);
    await refused(['near', ...without('--template'), '--template', 'nope', '--no-check'], /nope/);
    await refused(['near', ...without('--url'), '--url', `https://127.0.0.1:${near.port}`, '--no-check'], /https/);
    await refused(['near', ...without('--url'), '--url', 'http://127.0.0.1', '--no-check'], /port/);
    await refused(['near', ...without('--data-url'), '--data-url', 'ftp://127.0.0.1:21', '--no-check'], /http:\/\//);
    await refused(['near', ...without('--token-file'), '--no-check'], /--token-file is required.*data API was started with/);
    await refused(['near', ...without('--token-file'), '--token-file', path.join(tempDir(), 'missing'), '--no-check'], /cannot read/);
    await refused(['near', ...without('--token-file'), '--token-file', tokenFile('short'), '--no-check'], /at least 16/);
    await refused(['near', ...ok, '--capacity', '0', '--no-check'], /--capacity/);
    // The data API does not answer: refused unless --no-check.
    await refused(['near', ...ok], /does not answer.*--no-check/);
    // It answers, but as another cell, another schema, or refusing the token.
    const other = await fakeDataApi({ api: DATA_API_VERSION, cell_id: 'other', schema_version: 2 });
    await refused(['near', ...without('--data-url'), '--data-url', other.url, '--no-check'], /serves cell "other"/);
    other.close();
    // The same schema version, but another template's tables (an ecommerce cell registered as basic).
    const shop = ['customers', 'cart_items', 'orders'].map((table) => ({ table, customer_column: 'customer_id', parent: null, cell_column: null }));
    const ecommerce = await fakeDataApi({ api: DATA_API_VERSION, cell_id: 'near', schema_version: 2, tables: shop });
    await refused(
      ['near', ...without('--data-url'), '--data-url', ecommerce.url],
      /serves the customer tables cart_items, customers, orders, template basic declares customers/,
    );
    ecommerce.close();
    const older = await fakeDataApi({ api: DATA_API_VERSION, cell_id: 'near', schema_version: 99 });
    await refused(['near', ...without('--data-url'), '--data-url', older.url], /schema version 99/);
    older.close();
    const locked = await fakeDataApi({ error: 'unauthorized', code: 'unauthorized' }, 401);
    await refused(['near', ...without('--data-url'), '--data-url', locked.url], /refused the token/);
    locked.close();
  });

  it('accepts a data API that answers as the cell, refuses a second cell at the same URL, and unregisters', async () => {
    const customers = { table: 'customers', customer_column: 'id', parent: null, cell_column: null };
    const info = await fakeDataApi({ api: DATA_API_VERSION, cell_id: 'near', schema_version: 2, tables: [customers], barrier: 'triggers', fencing: 0 });
    const base = ['--template', 'basic', '--url', near.url, '--data-url', info.url, '--token-file', tokenFile()];
    await cliOk(ws.home, ['cells', 'register', 'near', ...base]);
    const [cell] = await cliJson(ws.home, ['list']);
    expect(cell).toMatchObject({ id: 'near', managed: false, dataPort: null, port: near.port, url: near.url, dataUrl: info.url });
    const twice = await cli(ws.home, ['cells', 'register', 'near2', ...base]);
    expect(twice.code).not.toBe(0);
    expect(twice.stderr).toMatch(/already at/);
    info.close();
    await cliOk(ws.home, ['delete', 'near', '--yes']);
    expect(await cliJson(ws.home, ['list'])).toEqual([]);
    expect(fs.existsSync(path.join(ws.home, 'secrets', 'cells', 'near.token'))).toBe(false);
    // The cell itself, run elsewhere, is untouched.
    expect((await request('GET', `${near.url}/health`)).status).toBe(200);
  });
});
