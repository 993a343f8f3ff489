// The JSON-over-HTTP layer (shared/http.ts) on a real socket: a body over the limit is answered 413
// after the client has sent it, and the connection then ends cleanly, whatever its framing.
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequestListener } from '../../src/shared/http.js';

const LIMIT = 1024;
let server: http.Server;
let port = 0;

beforeAll(async () => {
  const listener = createRequestListener([{ method: 'POST', path: '/echo', handler: async (ctx) => ({ status: 200, body: await ctx.body() }) }], {
    onError: () => {},
    maxBodyBytes: LIMIT,
  });
  server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Writes `head` and `body` on one connection and reads until it closes: the text, and any socket error. */
function exchange(head: string, body: Buffer): Promise<{ text: string; ended: boolean; error: string | null }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const result = { text: '', ended: false, error: null as string | null };
    socket.on('data', (chunk) => (result.text += chunk.toString('latin1')));
    socket.on('end', () => (result.ended = true));
    socket.on('error', (error: NodeJS.ErrnoException) => (result.error = error.code ?? error.message));
    socket.on('close', () => resolve(result));
    socket.write(head);
    socket.end(body);
  });
}

const chunked = (body: Buffer): Buffer => Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);

describe('a body over the limit', () => {
  it.each([
    ['with a content-length', (body: Buffer) => `content-length: ${body.length}`, (body: Buffer) => body],
    ['chunked', () => 'transfer-encoding: chunked', chunked],
  ])('%s is answered 413 body_too_large, then the connection ends without a reset', async (_name, field, frame) => {
    const body = Buffer.alloc(LIMIT + 512, 'a');
    const seen = await exchange(`POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n${field(body)}\r\n\r\n`, frame(body));
    expect(seen.error).toBeNull();
    expect(seen.ended).toBe(true);
    expect(seen.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(seen.text.toLowerCase()).toContain('connection: close');
    expect(JSON.parse(seen.text.slice(seen.text.indexOf('\r\n\r\n') + 4))).toMatchObject({
      code: 'body_too_large',
      error: expect.stringContaining(`${LIMIT} bytes`),
    });
  });

  it('one within the limit is read whole', async () => {
    const body = Buffer.from(JSON.stringify({ text: 'a'.repeat(LIMIT - 20) }));
    const seen = await exchange(
      `POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`,
      body,
    );
    expect(seen.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen.text.endsWith(body.toString())).toBe(true);
  });
});
