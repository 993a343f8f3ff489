// The router at the byte level: what a client writes on one connection and what comes back, through a
// real router process to a cell (test/fixtures/templates/wire) that answers in every framing HTTP/1.1
// allows. Covers the fast path, the hand-off to Node's HTTP server, and the kept-alive cell links.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, cliOk, createCells, FIXTURES, http, newWorkspace, routerStats, type Workspace } from '../helpers.js';

afterAll(cleanup);

let ws: Workspace;

beforeAll(async () => {
  ws = await newWorkspace({ templatePaths: [path.join(FIXTURES, 'templates')], limits: { maxBodyBytes: 64 * 1024 } });
  await createCells(ws, 'wire', ['w1']);
  await cliOk(ws.home, ['start']);
});

/** One client connection: writes each part (a pause between them), reads until `until` holds or the server closes. */
function converse(parts: string[], until: (text: string) => boolean, options: { readDelayMs?: number } = {}): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(ws.routerPort, '127.0.0.1');
    socket.setNoDelay(true); // each part its own segment
    let text = '';
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => {
      settled = true;
      socket.destroy();
      reject(new Error(`no complete answer in time; got: ${text.slice(0, 500)}`));
    }, 15_000);
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (options.readDelayMs) {
        socket.pause();
        setTimeout(() => socket.resume(), options.readDelayMs);
      }
      if (until(text)) finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', async () => {
      for (const part of parts) {
        socket.write(part, 'latin1');
        await new Promise((r) => setTimeout(r, 30));
      }
    });
  });
}

const get = (target: string, extra = '') => `GET /api/customers/${target} HTTP/1.1\r\nhost: test\r\n${extra}\r\n`;
const count = (text: string, what: string) => text.split(what).length - 1;
/** The payload of a chunked body. */
function dechunk(text: string): string {
  let out = '';
  for (let at = 0; ;) {
    const lineEnd = text.indexOf('\r\n', at);
    const size = parseInt(text.slice(at, lineEnd), 16);
    if (!size) return out;
    out += text.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}
const bodies = (text: string) =>
  text
    .split('HTTP/1.1 ')
    .slice(1)
    .map((answer) => answer.slice(answer.indexOf('\r\n\r\n') + 4));

describe('the fast path', () => {
  it('answers pipelined requests in order on one connection, and forwards only the fields a cell should see', async () => {
    const { text } = await converse(
      [get('a/echo', 'x-forwarded-for: 6.6.6.6\r\nkeep-alive: timeout=99\r\nx-trace: t1\r\n') + get('b/echo') + get('c/echo', 'connection: close\r\n')],
      () => false,
    );
    const answers = bodies(text).map((body) => JSON.parse(body));
    expect(answers.map((answer) => answer.target)).toEqual(['/api/customers/a/echo', '/api/customers/b/echo', '/api/customers/c/echo']);
    const first = answers[0].head.map((line: string) => line.toLowerCase());
    expect(first).toContain('x-trace: t1');
    expect(first).toContain('x-forwarded-for: 127.0.0.1');
    expect(first.filter((line: string) => line.startsWith('x-forwarded-for') || line.startsWith('keep-alive') || line.startsWith('connection'))).toEqual([
      'x-forwarded-for: 127.0.0.1',
    ]);
    expect(count(text, 'x-cellctl-cell: w1')).toBe(3);
    // The cell's own connection fields stay between the cell and the router.
    expect(text.toLowerCase()).not.toContain('keep-alive: timeout=5');
    expect(text).toContain('connection: close');
  });

  it('answers thousands of pipelined requests sent in one write, in order, and stays up', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => `GET /nope-${i} HTTP/1.1\r\nhost: test\r\n\r\n`).join('');
    const { text } = await converse([many + get('a/echo', 'connection: close\r\n')], () => false);
    expect(count(text, 'HTTP/1.1 404 ')).toBe(3000);
    expect(text.indexOf('/nope-2999')).toBeGreaterThan(text.indexOf('/nope-2998'));
    expect(text.endsWith('}')).toBe(true);
    expect(text.slice(text.lastIndexOf('HTTP/1.1 '))).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('stops reading a pipelining client that sends far ahead of its answers, and answers every request in order', async () => {
    const before = (await routerStats(ws)).pipelinePauses;
    // Far more than limits.pipelining allows ahead (16 requests), in one write, while the client reads
    // its answers as they come. One customer per request: none meets the per-customer rate limit.
    const sent = 3000;
    const many = Array.from({ length: sent }, (_, i) => get(`p-${i}/echo`)).join('');
    const { text } = await converse([many + get('last/echo', 'connection: close\r\n')], () => false);
    const answers = bodies(text).map((body) => JSON.parse(body));
    expect(answers.map((answer) => answer.target)).toEqual([
      ...Array.from({ length: sent }, (_, i) => `/api/customers/p-${i}/echo`),
      '/api/customers/last/echo',
    ]);
    expect(count(text, 'HTTP/1.1 200 ')).toBe(sent + 1);
    const after = await routerStats(ws);
    expect(after.pipelinePauses).toBeGreaterThan(before);
    expect(after.pipelineLimitedConnections).toBe(0); // the connection is gone
  });

  it('reads a head that arrives a byte at a time, then the request after it', async () => {
    const head = get('a/echo', 'x-trace: slow\r\n');
    const { text } = await converse([...head, get('b/echo', 'connection: close\r\n')], () => false);
    const answers = bodies(text).map((body) => JSON.parse(body));
    expect(answers.map((answer) => answer.target)).toEqual(['/api/customers/a/echo', '/api/customers/b/echo']);
    expect(answers[0].head.map((line: string) => line.toLowerCase())).toContain('x-trace: slow');
  });

  it('carries a body that arrives in pieces', async () => {
    const body = JSON.stringify({ note: 'x'.repeat(3000) });
    const head = `POST /api/customers/a/echo HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
    const { text } = await converse([head, body.slice(0, 1000), body.slice(1000)], (t) => t.includes('"}"}'));
    expect(JSON.parse(bodies(text)[0]!).body).toBe(body);
  });

  it('passes a chunked answer through as it streams, trailer and all, and keeps the connection', async () => {
    const { text } = await converse([get('a/chunked') + get('a/echo')], (t) => count(t, 'HTTP/1.1 200') === 2 && t.endsWith('}'));
    expect(text).toContain('5;note=first\r\nhello\r\n6\r\n, wire\r\n0\r\nx-sum: 11\r\n\r\nHTTP/1.1 200 X');
  });

  it('carries a close-delimited answer to its end, then closes the client connection', async () => {
    const { text, closed } = await converse([get('a/eof') + get('a/echo')], () => false);
    expect(closed).toBe(true);
    expect(text.startsWith('HTTP/1.1 200 X\r\n')).toBe(true);
    expect(text).toContain('connection: close');
    expect(text.endsWith('\r\n\r\nuntil the end')).toBe(true);
  });

  it('skips interim answers and answers HEAD without a body', async () => {
    const { text } = await converse([get('a/hints') + `HEAD /api/customers/a/x HTTP/1.1\r\nhost: test\r\n\r\n` + get('a/echo')], (t) => t.endsWith('}'));
    expect(text).not.toContain('103');
    expect(text).toContain('after hints');
    expect(text).toMatch(/content-length: 9999\r\nx-cellctl-cell: w1\r\n\r\nHTTP\/1\.1 200 X/);
  });

  it('delivers a large answer whole to a client that reads slowly', async () => {
    const size = 4 * 1024 * 1024;
    const { text } = await converse([get(`a/big?bytes=${size}`)], (t) => t.length >= size + 60 && t.endsWith('x'), { readDelayMs: 5 });
    expect(bodies(text)[0]!.length).toBe(size);
  });

  it('closes the client connection when a cell cuts its answer short, and serves the next one', async () => {
    const { text, closed } = await converse([get('a/cut')], () => false);
    expect(closed).toBe(true);
    expect(text).toContain('only ten b');
    const next = await converse([get('a/echo')], (t) => t.endsWith('}'));
    expect(next.text.startsWith('HTTP/1.1 200')).toBe(true);
  });

  it('stops a cell’s answer when its client goes away, so the customer is not left in flight', async () => {
    await new Promise<void>((resolve) => {
      const socket = net.connect(ws.routerPort, '127.0.0.1', () => socket.write(get(`gone/big?bytes=${64 * 1024 * 1024}`), 'latin1'));
      socket.once('data', () => {
        socket.destroy();
        resolve();
      });
    });
    const admin = `http://127.0.0.1:${ws.adminPort}/admin`;
    const auth = { authorization: `Bearer ${fs.readFileSync(path.join(ws.home, 'secrets', 'admin-token'), 'utf8').trim()}` };
    // A fence waits for the customer's requests in flight: it must find none.
    const fenced = await http('POST', `${admin}/fence`, { customerIds: ['gone'], fenceId: 'f-gone', drainTimeoutMs: 3000 }, auth);
    expect(fenced.status).toBe(200);
    expect((await http('POST', `${admin}/unfence`, { customerIds: ['gone'] }, auth)).status).toBe(200);
    expect((await converse([get('gone/echo')], (t) => t.endsWith('}'))).text.startsWith('HTTP/1.1 200')).toBe(true);
  });

  it('sends a GET again on a fresh connection when the kept-alive one was closed by the cell', async () => {
    for (let i = 0; i < 3; i += 1) {
      const { text } = await converse([get('a/stale')], (t) => t.endsWith('stale'));
      expect(text.startsWith('HTTP/1.1 200')).toBe(true);
      await new Promise((r) => setTimeout(r, 100)); // the cell has closed its side by now
      const next = await converse([get('a/echo')], (t) => t.endsWith('}'));
      expect(next.text.startsWith('HTTP/1.1 200')).toBe(true);
    }
  });
});

describe('requests outside the fast path', () => {
  it('hands a chunked upload to Node’s server mid-connection, which forwards it with a length and keeps serving', async () => {
    const chunked = 'POST /api/customers/a/echo HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\n\r\n4\r\nwire\r\n3\r\n up\r\n0\r\n\r\n';
    const { text } = await converse([get('a/echo') + chunked, get('b/echo', 'connection: close\r\n')], () => false);
    const answers = bodies(text).map((body) => JSON.parse(body.replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, '')));
    expect(answers.map((answer) => [answer.method, answer.target, answer.body])).toEqual([
      ['GET', '/api/customers/a/echo', ''],
      ['POST', '/api/customers/a/echo', 'wire up'],
      ['GET', '/api/customers/b/echo', ''],
    ]);
    expect(answers[1].head.map((line: string) => line.toLowerCase())).toContain('content-length: 7');
    expect(answers[1].head.join('\n').toLowerCase()).not.toContain('transfer-encoding');
  });

  it('re-frames chunked and close-delimited answers for a connection Node’s server has taken over', async () => {
    const handOff = 'GET /api/customers/a/echo HTTP/1.0\r\nhost: test\r\nconnection: keep-alive\r\n\r\n';
    const { text } = await converse([handOff, get('a/chunked'), get('a/eof', 'connection: close\r\n')], () => false);
    const [, chunked, eof] = text.split(/(?=HTTP\/1\.[01] 200 )/);
    expect(chunked).toMatch(/transfer-encoding: chunked/i);
    expect(chunked!.slice(chunked!.indexOf('\r\n\r\n') + 4)).toBe('5\r\nhello\r\n6\r\n, wire\r\n0\r\n\r\n');
    expect(dechunk(eof!.slice(eof!.indexOf('\r\n\r\n') + 4))).toBe('until the end');
  });

  it('answers Expect: 100-continue (as curl sends for larger bodies) with 100, then forwards the body', async () => {
    const head = 'POST /api/customers/a/echo HTTP/1.1\r\nhost: test\r\nexpect: 100-continue\r\ncontent-length: 5\r\nconnection: close\r\n\r\n';
    const { text } = await converse([head, 'hello'], () => false);
    expect(text).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 X\r\n/);
    expect(JSON.parse(text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1)).body).toBe('hello');
  });

  it('serves HTTP/1.0 clients and refuses a body over the limit on either path', async () => {
    const old = await converse([`GET /api/customers/a/echo HTTP/1.0\r\nhost: test\r\n\r\n`], () => false);
    expect(old.text).toMatch(/^HTTP\/1\.1 200 X\r\n/);
    expect(old.text).toContain('"/api/customers/a/echo"');
    const fast = await converse([`POST /api/customers/a/echo HTTP/1.1\r\nhost: test\r\ncontent-length: ${128 * 1024}\r\n\r\n`], () => false);
    expect(fast.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(fast.closed).toBe(true);
    const slow = await converse(
      [
        `POST /api/customers/a/echo HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\n\r\n${(80 * 1024).toString(16)}\r\n${'x'.repeat(80 * 1024)}\r\n0\r\n\r\n`,
      ],
      () => false,
    );
    expect(slow.text).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('answers a malformed request with 400 from Node’s server, without reaching a cell', async () => {
    const { text } = await converse(['GET /api/customers/a/echo HTTP/1.1\r\nhost: test\r\nbad header\r\n\r\n'], () => false);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).not.toContain('x-cellctl-cell');
  });
});
