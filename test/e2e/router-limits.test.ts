// The router's front door under slow and greedy clients: a whole-request deadline (408), a cap on
// client connections and on bytes held for unfinished requests (503 to the one over it, everyone
// else served), and lines that end in a bare LF answered rather than left waiting.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, cliOk, createCells, http, newWorkspace, rawHttp, routerStats, statusesIn, waitFor, type Workspace } from '../helpers.js';

afterAll(cleanup);

const LIMITS = { requestTimeoutMs: 1500, maxClientConnections: 6, maxBodyBytes: 100_000, maxBufferedBytes: 150_000 };
let ws: Workspace;

beforeAll(async () => {
  // No supervisor probes of the router during the tests: they would take connection slots.
  ws = await newWorkspace({ limits: LIMITS, supervisor: { healthIntervalMs: 60_000 } });
  await createCells(ws, 'basic', ['c1']);
  await cliOk(ws.home, ['start']);
});

/** A client connection kept open: what it has received so far, and whether the router closed it. */
interface Client {
  socket: net.Socket;
  text: () => string;
  closed: Promise<void>;
  /** Resolves once the text received holds. */
  until(check: (text: string) => boolean): Promise<string>;
}

function client(): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(ws.routerPort, '127.0.0.1');
    let text = '';
    const waiters: (() => void)[] = [];
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      for (const waiter of waiters.splice(0)) waiter();
    });
    const closed = new Promise<void>((done) => socket.on('close', () => done()));
    socket.on('error', () => undefined);
    socket.once('connect', () =>
      resolve({
        socket,
        text: () => text,
        closed,
        until: (check) =>
          new Promise((done, fail) => {
            const timer = setTimeout(() => fail(new Error(`no such answer; got: ${text.slice(0, 300)}`)), 15_000);
            const test = () => {
              if (check(text)) {
                clearTimeout(timer);
                done(text);
              } else waiters.push(test);
            };
            test();
          }),
      }),
    );
    socket.once('error', reject);
  });
}

/** A connection the router has taken (it answered a first request): slots freed by an earlier test may take a moment. */
const servedClient = () =>
  waitFor('a connection the router serves', async () => {
    const next = await client();
    await write(next.socket, health);
    const text = await Promise.race([next.until(answered(1)), next.closed.then(() => next.text())]);
    if (statusesIn(text)[0] === 200) return next;
    next.socket.destroy();
    return false;
  });

/** The router's own count of client connections and of bytes held for unfinished requests. */
const frontDoor = () => routerStats(ws);

const write = (socket: net.Socket, data: string | Buffer) => new Promise<void>((done) => socket.write(data, () => done()));
const health = 'GET /health HTTP/1.1\r\nhost: test\r\n\r\n';
const answered = (count: number) => (text: string) => statusesIn(text).length >= count && text.endsWith('}');

describe('a whole-request deadline', () => {
  it('answers 408 and closes when a head or a body does not arrive in time (fast path)', async () => {
    const partBody = await rawHttp(ws.routerPort, 'POST /api/customers/slow HTTP/1.1\r\nhost: test\r\ncontent-length: 100\r\n\r\n{"name":');
    expect(statusesIn(partBody.text)).toEqual([408]);
    expect(partBody.closed).toBe(true);
    const partHead = await rawHttp(ws.routerPort, 'GET /health HTTP/1.1\r\nhost: te');
    expect(statusesIn(partHead.text)).toEqual([408]);
    expect(partHead.closed).toBe(true);
  });

  it('answers 408 and closes when a chunked body does not arrive in time (Node’s server)', async () => {
    const { text, closed } = await rawHttp(ws.routerPort, 'POST /api/customers/slow HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab');
    expect(statusesIn(text)).toEqual([408]);
    expect(closed).toBe(true);
  });

  it('does not count the time a kept-alive connection sits idle between requests', async () => {
    const idle = await client();
    await write(idle.socket, health);
    await idle.until(answered(1));
    // Longer than the request deadline, waited on a real event (another connection's 408).
    await rawHttp(ws.routerPort, 'GET /health HTTP/1.1\r\n');
    await write(idle.socket, health);
    expect(statusesIn(await idle.until(answered(2)))).toEqual([200, 200]);
    idle.socket.destroy();
  });
});

describe('caps', () => {
  it('answers 503 to a client connection past the cap and keeps serving the open ones', async () => {
    // Connections of earlier tests are gone (the supervisor's kept-alive probe may hold one).
    await waitFor('earlier connections closed', async () => (await frontDoor()).clientConnections <= 1);
    const open: Client[] = [];
    let refused: Client | null = null;
    // The supervisor's own kept-alive probe may hold one slot: open connections until one is refused.
    for (let i = 0; i < LIMITS.maxClientConnections + 2 && !refused; i += 1) {
      const next = await client();
      await write(next.socket, health).catch(() => undefined);
      const text = await Promise.race([next.until(answered(1)), next.closed.then(() => next.text())]);
      if (statusesIn(text)[0] === 503) refused = next;
      else open.push(next);
    }
    expect(refused).not.toBeNull();
    expect(open.length).toBeGreaterThanOrEqual(LIMITS.maxClientConnections - 1);
    expect(open.length).toBeLessThanOrEqual(LIMITS.maxClientConnections);
    expect(refused!.text()).toContain('"code":"too_many_connections"');
    await refused!.closed;
    await write(open[0]!.socket, health);
    expect(statusesIn(await open[0]!.until(answered(2)))).toEqual([200, 200]);
    // A slot that frees up is used again.
    open.pop()!.socket.destroy();
    await waitFor('a new connection is served', async () => statusesIn((await rawHttp(ws.routerPort, health, answered(1))).text)[0] === 200);
    for (const each of open) each.socket.destroy();
  });

  it('answers 503 to the connection holding the most unfinished bytes past the buffer cap, and serves the rest', async () => {
    const greedy = await servedClient();
    const modest = await servedClient();
    const head = (id: string, length: number) =>
      `POST /api/customers/${id} HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`;
    const body = (length: number) => JSON.stringify({ name: 'x'.repeat(length - 34), email: 'm@example.com' });
    await write(greedy.socket, head('greedy', 100_000) + 'x'.repeat(99_000));
    // Modest stays below greedy whenever the sum crosses the cap: 70 000 < 150 000 - 70 000.
    const modestBody = body(75_000);
    await write(modest.socket, head('modest', modestBody.length) + modestBody.slice(0, 40_000));
    await write(modest.socket, modestBody.slice(40_000, 70_000));
    await greedy.closed;
    expect(statusesIn(greedy.text())).toEqual([200, 503]);
    expect(greedy.text()).toContain('"code":"overloaded"');
    expect((await frontDoor()).bufferedBytes).toBeLessThanOrEqual(LIMITS.maxBufferedBytes);
    await write(modest.socket, modestBody.slice(70_000));
    const text = await modest.until(answered(2));
    expect(statusesIn(text)).toEqual([200, 201]);
    expect(text).toContain('x-cellctl-cell: c1');
    expect((await frontDoor()).bufferedBytes).toBe(0);
    modest.socket.destroy();
  });
});

describe('a lowered body limit', () => {
  it('reaches connections that were open before it, not only new ones', async () => {
    const open = await servedClient();
    const body = JSON.stringify({ name: 'n'.repeat(50_000), email: 'big@example.com' });
    const post = (id: string) =>
      `POST /api/customers/${id} HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
    await write(open.socket, post('big-1'));
    expect(statusesIn(await open.until(answered(2)))[1]).not.toBe(413); // under the limit of 100,000
    await cliOk(ws.home, ['config', 'set', 'limits.maxBodyBytes', '20000']);
    try {
      await write(open.socket, post('big-2'));
      expect(statusesIn(await open.until(answered(3)))[2]).toBe(413);
      await open.closed;
    } finally {
      await cliOk(ws.home, ['config', 'set', 'limits.maxBodyBytes', String(LIMITS.maxBodyBytes)]);
    }
  });
});

/** Counts `marker` in a stream read in pieces (one cut across two pieces counted once). */
function occurrences(marker: string) {
  let tail = '';
  return {
    count: 0,
    add(piece: string) {
      const text = tail + piece;
      this.count += text.split(marker).length - 1;
      tail = text.slice(-(marker.length - 1)); // too short to hold a whole marker, so none counts twice
    },
  };
}

describe('a pipelining client that does not read its answers', () => {
  it('is not read from until it reads (its answers do not pile up in the router), then gets every answer in order', async () => {
    const slow = await servedClient();
    slow.socket.pause(); // reads nothing from here on
    // Paced to what the router has taken (it holds at most maxBufferedBytes of unread requests; past
    // that it refuses the connection, which is another test), bounded to 64 MB of requests in all.
    const batch = health.repeat(3_000);
    let sent = 0;
    await waitFor('the router to stop reading the client', async () => {
      const door = await frontDoor();
      if (door.unreadConnections === 1) return true;
      if (door.bufferedBytes === 0 && slow.socket.writableLength === 0 && sent < 64 * 1024 * 1024) {
        slow.socket.write(batch);
        sent += batch.length;
      }
      return false;
    });
    // Everyone else is served meanwhile.
    expect((await http('GET', `http://127.0.0.1:${ws.routerPort}/health`)).status).toBe(200);
    // Once it reads, every request it sent since is answered (the first one was, before it stopped reading).
    const expected = sent / health.length;
    const answers = occurrences('HTTP/1.1 ');
    const ok = occurrences('HTTP/1.1 200 ');
    const allRead = new Promise<void>((resolve) => {
      slow.socket.on('data', (chunk: Buffer) => {
        const text = chunk.toString('latin1');
        answers.add(text);
        ok.add(text);
        if (answers.count >= expected) resolve();
      });
    });
    slow.socket.resume();
    await allRead;
    expect([answers.count, ok.count]).toEqual([expected, expected]);
    expect((await frontDoor()).unreadConnections).toBe(0);
    slow.socket.destroy();
  });
});

describe('a body over the limit', () => {
  it('closes the connection whatever answers it, so its unread bytes are never read as requests', async () => {
    // Refused before its body is read (no such route): the rest of the body must not follow as requests.
    const { text, closed } = await rawHttp(ws.routerPort, 'POST /nope HTTP/1.1\r\nhost: test\r\ncontent-length: 5000000\r\n\r\n');
    expect(statusesIn(text)).toEqual([404]);
    expect(text.toLowerCase()).toContain('connection: close');
    expect(closed).toBe(true);
  });
});

describe('line endings', () => {
  it('answers a request whose lines end in a bare LF instead of waiting for a CRLF that never comes', async () => {
    const { text } = await rawHttp(ws.routerPort, 'GET /health HTTP/1.1\nhost: test\n\n', answered(1), 1_000);
    expect(statusesIn(text)[0]).not.toBe(408);
  });
});
