// HEAD and 405 as the example systems (Flask) answer them: HEAD wherever GET is allowed, like GET
// without a body, directly and through the router; every 405 names the methods the path takes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, cliJson, http, rawHttp, type RunningSystem, startSystem, statusesIn } from '../helpers.js';

let ws: RunningSystem;
let cellPort: number;
beforeAll(async () => {
  ws = await startSystem('ecommerce', ['c1']);
  expect((await http('POST', `${ws.url}/api/customers/h-1`, { name: 'H', email: 'h@example.com' })).status).toBe(201);
  cellPort = (await cliJson<{ id: string; port: number }[]>(ws.home, ['list']))[0]!.port;
}, 120_000);
afterAll(cleanup);

/** One request on its own connection (closed by the server after its answer); the raw answer. */
const raw = async (port: number, head: string): Promise<string> =>
  (await rawHttp(port, `${head}\r\nHost: x\r\nConnection: close\r\n\r\n`, undefined, 20_000)).text;

describe('HEAD and 405', () => {
  it('HEAD answers as GET does, without a body, from the cell and through the router', async () => {
    for (const port of [cellPort, ws.routerPort]) {
      const get = await raw(port, 'GET /api/customers/h-1 HTTP/1.1');
      const head = await raw(port, 'HEAD /api/customers/h-1 HTTP/1.1');
      expect(statusesIn(head)).toEqual([200]);
      const length = /content-length: (\d+)/i.exec(get)?.[1];
      expect(head).toMatch(new RegExp(`content-length: ${length}`, 'i'));
      // Nothing after the head: the answer ends at the blank line.
      expect(head.slice(head.indexOf('\r\n\r\n') + 4)).toBe('');
    }
  });

  it('a 405 carries Allow with the methods the path takes', async () => {
    const wrong = await raw(cellPort, 'DELETE /api/customers/h-1/orders HTTP/1.1');
    expect(statusesIn(wrong)).toEqual([405]);
    expect(wrong).toMatch(/\r\nallow: GET, HEAD, POST\r\n/i);
    const health = await raw(cellPort, 'POST /health HTTP/1.1');
    expect(statusesIn(health)).toEqual([405]);
    expect(health).toMatch(/\r\nallow: GET, HEAD\r\n/i);
  });
});
