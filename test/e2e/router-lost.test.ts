// What the router answers when a cell fails mid-request: a cell that read the whole request and then
// dropped the connection may have applied it (502 cell_connection_lost, no promise to retry), while
// a cell that refused the connection cannot have (503 cell_unavailable, Retry-After). The cells
// here are registered by URL: a small HTTP server in the test that records each request it reads,
// then destroys the socket before answering (a cell killed right after its commit), and a URL where
// nothing listens.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, cliOk, freePort, http as request, newWorkspace, rawHttp, statusesIn, tempDir, waitFor, type Workspace } from '../helpers.js';

afterAll(cleanup);

interface Received {
  method: string;
  url: string;
  body: string;
}

/** A cell that answers GETs of customers and /health, and reads every other request whole, records it, then dies on it. */
async function cellThatDiesAfterCommit(): Promise<{ url: string; received: Received[]; close: () => void }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'healthy', id: req.url }));
        return;
      }
      received.push({ method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(parts).toString('utf8') });
      req.socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, received, close: () => (server.closeAllConnections(), server.close()) };
}

function tokenFile(): string {
  const file = path.join(tempDir(), 'token');
  fs.writeFileSync(file, 'a-data-token-of-32-characters-ok\n', { mode: 0o600 });
  return file;
}

async function register(ws: Workspace, cell: string, url: string): Promise<void> {
  const dataUrl = `http://127.0.0.1:${await freePort()}`;
  await cliOk(ws.home, ['cells', 'register', cell, '--template', 'basic', '--url', url, '--data-url', dataUrl, '--token-file', tokenFile(), '--no-check']);
}

describe('a cell that fails after the request reached it', () => {
  let ws: Workspace;
  let router: string;
  let lossy: Awaited<ReturnType<typeof cellThatDiesAfterCommit>>;

  beforeAll(async () => {
    ws = await newWorkspace({ limits: { rateLimit: { requests: 100_000, windowSeconds: 1 } } });
    router = `http://127.0.0.1:${ws.routerPort}`;
    lossy = await cellThatDiesAfterCommit();
    await register(ws, 'lossy', lossy.url);
    await register(ws, 'gone', `http://127.0.0.1:${await freePort()}`);
    await cliOk(ws.home, ['start', 'router']);
    await cliOk(ws.home, ['assign', 'customer', 'landed', '--cell', 'lossy']);
    await cliOk(ws.home, ['assign', 'customer', 'refused', '--cell', 'gone']);
    await waitFor(
      'the router to route to the lossy cell',
      async () => (await request('GET', `${router}/api/customers/landed`)).headers.get('x-cellctl-cell') === 'lossy',
    );
  });

  afterAll(() => lossy.close());

  it('answers 502 cell_connection_lost, says the write may have landed, and promises no retry', async () => {
    const answer = await request('POST', `${router}/api/customers/landed/orders`, { items: [1] });
    expect(answer.status).toBe(502);
    expect(answer.body).toMatchObject({ code: 'cell_connection_lost', cell: 'lossy' });
    expect(`${answer.body.error} ${answer.body.details}`).toMatch(/may have/);
    expect(answer.headers.get('retry-after')).toBeNull();
    // The cell got it once, whole: the router did not send it again.
    expect(lossy.received.filter((one) => one.url === '/api/customers/landed/orders')).toEqual([
      { method: 'POST', url: '/api/customers/landed/orders', body: '{"items":[1]}' },
    ]);
  });

  it('answers the same on the path Node parses (a chunked request body)', async () => {
    const body = '{"name":"x"}';
    const head = `PUT /api/customers/landed HTTP/1.1\r\nhost: r\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`;
    const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const { text } = await rawHttp(ws.routerPort, head + chunked, (seen) => seen.includes('\r\n\r\n') && seen.trimEnd().endsWith('}'));
    expect(statusesIn(text)).toEqual([502]);
    expect(text).toContain('"code":"cell_connection_lost"');
    expect(text.toLowerCase()).not.toContain('retry-after');
    expect(lossy.received.filter((one) => one.method === 'PUT')).toEqual([{ method: 'PUT', url: '/api/customers/landed', body }]);
  });

  it('still answers 503 cell_unavailable with Retry-After for a cell that refuses the connection', async () => {
    const answer = await request('POST', `${router}/api/customers/refused/orders`, { items: [1] });
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ code: 'cell_unavailable', cell: 'gone' });
    expect(answer.headers.get('retry-after')).toBe('1');
  });
});
