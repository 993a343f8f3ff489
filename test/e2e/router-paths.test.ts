// Paths the router and a cell could read two ways (dot segments, backslashes, encoded slashes, empty
// segments, targets that are not paths) are refused with 400 by the router, on the byte-level fast
// path and on Node's fallback path alike, in both auth modes: no cell sees them, no data leaks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, cliJson, cliOk, createCells, http, newWorkspace, rawHttp, statusesIn, type Workspace } from '../helpers.js';

afterAll(cleanup);

/** Each aims, as customer c-0001 (or as nobody), at c-0002's data or at a whole cell's. */
const VARIANTS = [
  'GET /api/products/%',
  'GET /api/customers/c-0001/orders/%E0%A4%A',
  'GET /api/products/../customers/c-0002',
  'GET /api/products/./../customers/c-0002',
  'GET /api/customers/c-0001/..',
  'GET /api/customers/c-0001/../c-0002',
  'GET /api/customers/c-0001/%2e%2e/c-0002',
  'GET /api/customers/c-0001/%2E./c-0002',
  'GET /api/customers/c-0001/.%2e/c-0002',
  'GET /api/customers/c-0001/./../c-0002',
  'GET /api/products/../../metrics',
  'GET /api/customers/c-0001%2f..%2fc-0002',
  'GET /api/customers/c-0001/..%2Fc-0002',
  'GET /api/products\\..\\customers\\c-0002',
  'GET /api/products/..%5ccustomers%5cc-0002',
  'GET //api/customers/c-0002',
  'GET /api/customers//c-0002',
  'GET /api/customers/c-0001#/../c-0002',
  'GET http://127.0.0.1/api/customers/c-0002',
  'PUT /api/customers/c-0001/../c-0002',
  'DELETE /api/products/../customers/c-0002',
];

const WRITE_BODY = JSON.stringify({ name: 'Taken over', email: 'taken@example.com' });

function request(variant: string, token: string | null, close: boolean): string {
  const [method, target] = variant.split(' ');
  const auth = token ? `authorization: Bearer ${token}\r\n` : '';
  const body = method === 'PUT' ? `content-type: application/json\r\ncontent-length: ${WRITE_BODY.length}\r\n` : '';
  return `${method} ${target} HTTP/1.1\r\nhost: test\r\n${auth}${body}${close ? 'connection: close\r\n' : ''}\r\n${method === 'PUT' ? WRITE_BODY : ''}`;
}

/** A first request Node's server must read (a chunked body), so the connection is on the fallback path. */
const HAND_OFF = 'GET /health HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n';

interface System extends Workspace {
  url: string;
  tokens: Record<string, string | null>;
}

async function system(auth: 'none' | 'jwt'): Promise<System> {
  const ws = await newWorkspace({ auth });
  await createCells(ws, 'basic', ['c1']);
  await cliOk(ws.home, ['start']);
  const url = `http://127.0.0.1:${ws.routerPort}`;
  const tokens: Record<string, string | null> = { 'c-0001': null, 'c-0002': null };
  for (const id of Object.keys(tokens)) {
    if (auth === 'jwt') tokens[id] = (await cliOk(ws.home, ['token', id])).stdout.trim();
    const headers: Record<string, string> = tokens[id] ? { authorization: `Bearer ${tokens[id]}` } : {};
    expect((await http('POST', `${url}/api/customers/${id}`, { name: `Customer ${id}`, email: `${id}@example.com` }, headers)).status).toBe(201);
  }
  return { ...ws, url, tokens };
}

const forwarded = async (ws: Workspace): Promise<number> => (await cliJson(ws.home, ['status'])).cells[0].requests;

describe.each(['none', 'jwt'] as const)('auth %s', (auth) => {
  let ws: System;
  beforeAll(async () => {
    ws = await system(auth);
  });

  it('refuses every dot-segment, backslash, encoded-slash, empty-segment and non-path target with 400 on the fast path', async () => {
    const before = await forwarded(ws);
    for (const variant of VARIANTS) {
      const { text } = await rawHttp(ws.routerPort, request(variant, ws.tokens['c-0001']!, true));
      expect(statusesIn(text), variant).toEqual([400]);
      expect(text, variant).toContain('"code":"bad_path"');
      expect(text, variant).not.toContain('c-0002@example.com');
    }
    expect(await forwarded(ws)).toBe(before);
    const untouched = await http(
      'GET',
      `${ws.url}/api/customers/c-0002`,
      undefined,
      ws.tokens['c-0002'] ? { authorization: `Bearer ${ws.tokens['c-0002']}` } : {},
    );
    expect(untouched.body).toMatchObject({ name: 'Customer c-0002', email: 'c-0002@example.com' });
  });

  it('refuses the same targets on a connection handed to Node’s server', async () => {
    const before = await forwarded(ws);
    for (const variant of VARIANTS) {
      const { text } = await rawHttp(ws.routerPort, HAND_OFF + request(variant, ws.tokens['c-0001']!, true));
      expect(statusesIn(text), variant).toEqual([200, 400]);
      expect(text, variant).toContain('"code":"bad_path"');
      expect(text, variant).not.toContain('c-0002@example.com');
    }
    expect(await forwarded(ws)).toBe(before);
  });

  it('keeps serving the connection after a refused path (fast path, pipelined)', async () => {
    const token = ws.tokens['c-0001'];
    const pipelined = request('GET /api/customers/c-0001/../c-0002', token!, false) + request('GET /api/customers/c-0001', token!, true);
    const { text } = await rawHttp(ws.routerPort, pipelined);
    expect(statusesIn(text)).toEqual([400, 200]);
    expect(text).toContain('c-0001@example.com');
    expect(text).not.toContain('c-0002@example.com');
  });
});
