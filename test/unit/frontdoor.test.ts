// The front door without a network: a stand-in socket gets bytes in chosen pieces, so what the router
// copies, holds and refuses is counted exactly, with no timing involved.
import { EventEmitter } from 'node:events';
import type http from 'node:http';
import type net from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InputBudget, largestHolder } from '../../src/router/budget.js';
import { NodeExchange, type PublicExchange, RouterOverloaded } from '../../src/router/exchange.js';
import { serveConnection } from '../../src/router/frontdoor.js';
import { InputPieces } from '../../src/router/pieces.js';

class FakeSocket extends EventEmitter {
  remoteAddress = '127.0.0.1';
  written = '';
  ended = false;
  destroyed = false;
  paused = false;
  setNoDelay() {}
  setTimeout() {}
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
  isPaused() {
    return this.paused;
  }
  /** What the router gave back to the stream on handing the connection to Node's server. */
  unshifted: Buffer[] = [];
  unshift(data: Buffer) {
    this.unshifted.push(data);
  }
  write(data: Buffer | string) {
    this.written += data.toString();
    return true;
  }
  end(data?: Buffer | string) {
    if (data) this.write(data);
    this.ended = true;
  }
  destroy() {
    this.destroyed = true;
  }
}

const MiB = 1024 * 1024;

function door(budget = new InputBudget(64 * MiB), pipelining = { requests: 16, bytes: MiB }) {
  const socket = new FakeSocket();
  const seen: { exchange: PublicExchange; body: Buffer | null }[] = [];
  const fallback = new EventEmitter();
  const counted = { pipelinePauses: 0 };
  const connection = serveConnection(socket as unknown as net.Socket, {
    dispatch: (exchange) => void exchange.body().then((body) => seen.push({ exchange, body })),
    fallback: fallback as unknown as http.Server,
    maxHeadBytes: 16 * 1024,
    maxBodyBytes: 2 * MiB,
    idleTimeoutMs: 60_000,
    requestTimeoutMs: 60_000,
    budget,
    pipelining,
    onPipelineLimited: () => (counted.pipelinePauses += 1),
  });
  return { socket, seen, budget, fallback, connection, counted };
}

const get = (id: string) => Buffer.from(`GET /api/customers/${id} HTTP/1.1\r\nhost: t\r\n\r\n`, 'latin1');
const post = (length: number) => Buffer.from(`POST /api/customers/a HTTP/1.1\r\nhost: t\r\ncontent-length: ${length}\r\n\r\n`, 'latin1');

/** Bytes copied by Buffer.concat while `run` runs: the router's only way of joining pieces. */
async function bytesJoined(run: () => Promise<void> | void): Promise<number> {
  let copied = 0;
  const concat = Buffer.concat;
  const spy = vi.spyOn(Buffer, 'concat').mockImplementation((list, total) => {
    const joined = concat(list, total);
    copied += joined.length;
    return joined;
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return copied;
}

afterEach(() => vi.restoreAllMocks());

describe('reading a body that arrives in many pieces', () => {
  it('copies a 1 MiB body sent in 512-byte pieces about once, not once per piece (fast path)', async () => {
    const { socket, seen } = door();
    const body = Buffer.alloc(MiB, 0x61);
    const copied = await bytesJoined(async () => {
      socket.emit('data', post(body.length));
      for (let at = 0; at < body.length; at += 512) socket.emit('data', body.subarray(at, at + 512));
      await vi.waitFor(() => expect(seen).toHaveLength(1));
    });
    expect(seen[0]!.body!.equals(body)).toBe(true);
    // Quadratic joining would copy about 1 GiB here (2048 pieces, each joined to all before it).
    expect(copied).toBeLessThanOrEqual(2 * (body.length + 200));
  });

  it('copies pipelined read-ahead once, however many pieces arrive while a request is answered', async () => {
    const { socket, seen } = door();
    const copied = await bytesJoined(async () => {
      socket.emit('data', post(0)); // answered by nobody yet: the connection is busy
      await vi.waitFor(() => expect(seen).toHaveLength(1));
      const next = Buffer.concat([post(MiB), Buffer.alloc(MiB, 0x62)]);
      for (let at = 0; at < next.length; at += 512) socket.emit('data', next.subarray(at, at + 512));
    });
    expect(copied).toBeLessThanOrEqual(2 * (MiB + 200) + 200);
    expect(seen).toHaveLength(1);
  });

  it('copies a 1 MiB body read by Node’s server once (fallback path)', async () => {
    const req = Object.assign(new PassThrough(), { headers: { 'content-length': String(MiB) }, method: 'POST', url: '/api/customers/a', complete: false });
    const exchange = new NodeExchange(req as unknown as http.IncomingMessage, {} as http.ServerResponse, 2 * MiB, new InputBudget(64 * MiB));
    const body = Buffer.alloc(MiB, 0x63);
    let received: Buffer | null = null;
    const copied = await bytesJoined(async () => {
      const reading = exchange.body();
      for (let at = 0; at < body.length; at += 512) req.write(body.subarray(at, at + 512));
      req.end();
      received = await reading;
    });
    expect(received!.equals(body)).toBe(true);
    expect(copied).toBeLessThanOrEqual(body.length);
  });
});

describe('reading a head that arrives a byte at a time', () => {
  const KiB = 1024;
  /** A GET whose head is `size` bytes. */
  const bigGet = (size: number) => Buffer.from(`GET /api/customers/a HTTP/1.1\r\nhost: t\r\nx-pad: ${'p'.repeat(size - 50)}\r\n\r\n`, 'latin1');
  const byteByByte = (socket: FakeSocket, data: Buffer) => {
    for (let at = 0; at < data.length; at += 1) socket.emit('data', data.subarray(at, at + 1));
  };

  it('copies a 16 KiB head sent a byte at a time about once, not once per byte', async () => {
    const { socket, seen } = door();
    const head = bigGet(16 * KiB - 100);
    const copied = await bytesJoined(async () => {
      byteByByte(socket, head);
      await vi.waitFor(() => expect(seen).toHaveLength(1));
    });
    expect(seen[0]!.exchange.url).toBe('/api/customers/a');
    // Joining the pieces on each byte would copy about 128 MiB here.
    expect(copied).toBeLessThanOrEqual(2 * head.length);
  });

  it.each([
    ['a head over the limit', bigGet(16 * KiB + 100).subarray(0, 16 * KiB + 1)],
    ['a bare LF', Buffer.from('GET /api/customers/a HTTP/1.1\r\nhost: t\n', 'latin1')],
  ])('hands %s to Node’s server with every byte, as soon as its last byte arrives', (_label, data) => {
    const { socket, fallback } = door();
    let handedOff = false;
    fallback.on('connection', () => (handedOff = true));
    byteByByte(socket, data.subarray(0, data.length - 1));
    expect(handedOff).toBe(false);
    byteByByte(socket, data.subarray(data.length - 1));
    expect(handedOff).toBe(true);
    expect(Buffer.concat(socket.unshifted).equals(data)).toBe(true);
  });
});

describe('the pieces a connection holds', () => {
  const text = (length: number, from = 0) => Buffer.from(Array.from({ length }, (_, i) => 97 + ((from + i) % 26)));

  it('holds 16 KiB sent a byte at a time in a few buffers, not one per byte (each costs ~200 bytes of heap)', () => {
    const pieces = new InputPieces();
    const sent = text(16 * 1024);
    for (let at = 0; at < sent.length; at += 1) pieces.push(sent.subarray(at, at + 1));
    expect(pieces.count).toBeLessThanOrEqual(8);
    expect(pieces.bytes).toBe(sent.length);
    expect(pieces.join().equals(sent)).toBe(true);
  });

  it('keeps large pieces as they came and the order of every byte', () => {
    const pieces = new InputPieces();
    const sent = [text(5000), text(1, 1), text(3000, 2), text(10, 3), text(20, 4), text(2000, 5), text(7, 6)];
    for (const piece of sent) pieces.push(piece);
    expect(pieces.count).toBe(6); // the 10- and 20-byte pieces share a block
    expect(pieces.join().equals(Buffer.concat(sent))).toBe(true);
  });

  it('never writes over bytes it handed out', () => {
    const pieces = new InputPieces();
    pieces.push(text(3));
    pieces.push(text(3, 3));
    const joined = pieces.join(); // the block's bytes so far, not a copy
    pieces.push(text(3, 6));
    expect(joined.toString()).toBe('abcdef');
    expect(pieces.join().toString()).toBe('abcdefghi');
    const body = pieces.join().subarray(2, 5);
    pieces.replace([pieces.join().subarray(5)]);
    pieces.push(text(2, 9));
    pieces.push(text(2, 11));
    expect(body.toString()).toBe('cde');
    expect(pieces.join().toString()).toBe('fghijklm');
  });
});

describe('taking a request’s bytes from the pieces held', () => {
  const text = (length: number, from = 0) => Buffer.from(Array.from({ length }, (_, i) => 97 + ((from + i) % 26)));

  it('joins only the bytes taken, leaves the rest in place, and keeps what front() joined for the next take', () => {
    const pieces = new InputPieces();
    const sent = [text(3000), text(3000, 3000), text(3000, 6000)];
    for (const piece of sent) pieces.push(piece);
    const all = Buffer.concat(sent);
    expect(pieces.front(4000).equals(all.subarray(0, 4000))).toBe(true);
    expect(pieces.bytes).toBe(9000);
    const copied: number[] = [];
    const concat = Buffer.concat;
    vi.spyOn(Buffer, 'concat').mockImplementation((list, total) => {
      const joined = concat(list, total);
      copied.push(joined.length);
      return joined;
    });
    expect(pieces.take(4000).equals(all.subarray(0, 4000))).toBe(true); // joined by front(): no copy
    expect(pieces.take(3000).equals(all.subarray(4000, 7000))).toBe(true); // spans two pieces: 3000 copied
    expect(pieces.take(2000).equals(all.subarray(7000))).toBe(true);
    expect(copied).toEqual([3000]);
    expect(pieces.bytes).toBe(0);
  });
});

describe('the cap on bytes held for unfinished requests', () => {
  it('refuses the connection holding the most with 503 and keeps serving the others', async () => {
    const budget = new InputBudget(100_000);
    const big = door(budget);
    const small = door(budget);
    big.socket.emit('data', Buffer.concat([post(90_000), Buffer.alloc(60_000)]));
    small.socket.emit('data', Buffer.concat([post(50_000), Buffer.alloc(30_000)]));
    expect(budget.used).toBeLessThanOrEqual(100_000);
    small.socket.emit('data', Buffer.alloc(20_000)); // the rest of the small body pushes the sum over the cap
    expect(big.socket.written).toMatch(/^HTTP\/1\.1 503 /);
    expect(big.socket.ended).toBe(true);
    await vi.waitFor(() => expect(small.seen).toHaveLength(1));
    expect(small.socket.written).toBe('');
    expect(budget.used).toBe(0); // the small one's leftover bytes and the big one's are let go
  });

  it('refuses a body Node’s server is reading when it is the largest holder', async () => {
    const budget = new InputBudget(10_000);
    const req = Object.assign(new PassThrough(), { headers: { 'transfer-encoding': 'chunked' }, method: 'POST', url: '/api/customers/a', complete: false });
    const exchange = new NodeExchange(req as unknown as http.IncomingMessage, {} as http.ServerResponse, MiB, budget);
    const reading = exchange.body();
    req.write(Buffer.alloc(20_000));
    await expect(reading).rejects.toBeInstanceOf(RouterOverloaded);
    expect(budget.used).toBe(0);
  });

  it('picks the largest holder', () => {
    const holders = [10, 30, 20].map((held) => ({ held, evict() {} }));
    expect(largestHolder(holders)).toBe(holders[1]);
    expect(largestHolder([])).toBeNull();
  });
});

describe('a pipelining client that keeps sending', () => {
  /** Answers the oldest request dispatched and not yet answered, once it is seen. */
  const answerNext = async (seen: { exchange: PublicExchange }[], answered: number) => {
    await vi.waitFor(() => expect(seen.length).toBeGreaterThan(answered), { interval: 1 });
    seen[answered]!.exchange.reply(200, { n: answered });
  };

  it('is not read past limits.pipelining.requests waiting, and is read again once they are answered', async () => {
    const { socket, seen, connection, counted } = door(undefined, { requests: 4, bytes: MiB });
    socket.emit('data', Buffer.concat(Array.from({ length: 10 }, (_, i) => get(`c${i}`))));
    expect(socket.paused).toBe(true);
    expect(connection.stoppedFor()).toBe('pipelining');
    expect(counted.pipelinePauses).toBe(1);
    for (let answered = 0; answered < 6; answered += 1) await answerNext(seen, answered);
    // One is being answered, 3 wait: under the bound.
    await vi.waitFor(() => expect(socket.paused).toBe(false));
    expect(connection.stoppedFor()).toBeNull();
    for (let answered = 6; answered < 10; answered += 1) await answerNext(seen, answered);
    expect(seen.map((each) => each.exchange.url)).toEqual(Array.from({ length: 10 }, (_, i) => `/api/customers/c${i}`));
  });

  it('is not read past limits.pipelining.bytes held, however few requests that is', async () => {
    const { socket, seen, counted } = door(undefined, { requests: 100, bytes: 50_000 });
    const request = Buffer.concat([post(30_000), Buffer.alloc(30_000, 0x61)]);
    socket.emit('data', request); // answered now: nothing waits
    socket.emit('data', request);
    expect(socket.paused).toBe(false);
    socket.emit('data', Buffer.concat([request, post(30_000)]));
    expect(socket.paused).toBe(true); // two wait, and the head of a third: over 50,000 bytes
    expect(counted.pipelinePauses).toBe(1);
    await answerNext(seen, 0);
    await vi.waitFor(() => expect(socket.paused).toBe(false));
    expect(seen[1]!.body!.length).toBe(30_000);
  });

  it('reads a body larger than limits.pipelining.bytes when nothing waits before it', async () => {
    const { socket, seen } = door(undefined, { requests: 16, bytes: 4096 });
    socket.emit('data', post(0));
    socket.emit('data', post(100_000));
    for (let at = 0; at < 100_000; at += 10_000) socket.emit('data', Buffer.alloc(10_000, 0x62));
    await answerNext(seen, 0);
    await vi.waitFor(() => expect(seen).toHaveLength(2));
    expect(seen[1]!.body!.length).toBe(100_000);
  });

  it('copies each request’s bytes at most once, however much is read ahead of it', async () => {
    const { socket, seen } = door(undefined, { requests: 10_000, bytes: 64 * MiB });
    const request = (i: number) => Buffer.concat([post(2000), Buffer.alloc(2000, 97 + (i % 26))]);
    const total = 2000 * request(0).length;
    const copied = await bytesJoined(async () => {
      // 200 requests wait, each its own piece; then one more arrives with each answer.
      for (let i = 0; i < 200; i += 1) socket.emit('data', request(i));
      for (let answered = 0; answered < 2000; answered += 1) {
        if (answered + 200 < 2000) socket.emit('data', request(answered + 200));
        await answerNext(seen, answered);
      }
    });
    // Joining everything held at each request would copy about 200 requests' bytes per request.
    expect(copied).toBeLessThanOrEqual(total);
    expect(seen.every((each, i) => each.body!.equals(Buffer.alloc(2000, 97 + (i % 26))))).toBe(true);
  });
});
