// HTTP edges: HEAD and 405 as the example systems (Flask) answer them (HEAD wherever GET is allowed,
// like GET without a body, directly and through the router; every 405 names the methods the path
// takes), and a cell's capacity held under creates sent at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, cliJson, cliOk, freePort, http, newWorkspace, rawHttp, type RunningSystem, startSystem, statusesIn } from '../helpers.js';

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

describe('capacity under concurrent creates', () => {
  it('creates sent at once never place more customers in a cell than its capacity', async () => {
    const full = await newWorkspace({ limits: { rateLimit: { requests: 1_000_000, windowSeconds: 1 } } });
    await cliOk(full.home, ['create', 'small', '--template', 'basic', '--capacity', '5', '--port', String(await freePort(2))]);
    await cliOk(full.home, ['start']);
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        http('POST', `http://127.0.0.1:${full.routerPort}/api/customers/burst-${index}`, { name: `B${index}`, email: `b${index}@example.com` }),
      ),
    );
    const created = answers.filter((answer) => answer.status === 201).length;
    expect(created).toBe(5);
    expect(answers.filter((answer) => answer.status !== 201).map((answer) => answer.status)).toEqual(Array(25).fill(503));
    const [cell] = await cliJson<{ customers: number; capacity: number }[]>(full.home, ['list']);
    expect(cell).toMatchObject({ customers: 5, capacity: 5 });
  }, 120_000);
});
