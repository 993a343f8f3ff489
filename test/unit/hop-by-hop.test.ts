import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { InputBudget } from '../../src/router/budget.js';
import { NodeExchange } from '../../src/router/exchange.js';
import { readRequestHead } from '../../src/router/http1.js';
import { HOP_BY_HOP } from '../../src/router/hop-by-hop.js';

// Every field a client might send that a cell must or must not see, with a value the fast path accepts.
const FIELDS: [string, string][] = [
  ['Host', 'r'],
  ['Connection', 'keep-alive'],
  ['Keep-Alive', 'timeout=5'],
  ['Proxy-Connection', 'keep-alive'],
  ['TE', 'trailers'],
  ['Trailer', 'x-sum'],
  ['X-Forwarded-For', '6.6.6.6'],
  ['Content-Length', '2'],
  ['Authorization', 'Bearer t'],
  ['Accept', '*/*'],
  ['X-Trace', 'a b'],
];

function names(head: string): string[] {
  return head
    .split('\r\n')
    .filter((line) => line.includes(':'))
    .map((line) => line.slice(0, line.indexOf(':')).toLowerCase());
}

function fastPathForwards(fields: [string, string][]): string[] {
  const text = `POST /a HTTP/1.1\r\n${fields.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  const read = readRequestHead(Buffer.from(text, 'latin1'), 16 * 1024);
  if (read.kind !== 'head') throw new Error(`fast path did not take the request: ${read.kind}`);
  return names(read.head.fields);
}

function nodePathForwards(fields: [string, string][]): string[] {
  const headers: Record<string, string> = {};
  for (const [n, v] of fields) headers[n.toLowerCase()] = v;
  const req = { method: 'POST', url: '/a', rawHeaders: fields.flat(), headers, socket: { remoteAddress: '127.0.0.1' } };
  const exchange = new NodeExchange(req as unknown as IncomingMessage, {} as ServerResponse, 1024, {} as InputBudget);
  // The router adds its own X-Forwarded-For and Content-Length after the client's fields: leave those out.
  return names(exchange.upstreamHead(null)).filter((name) => name !== 'x-forwarded-for');
}

describe('one hop-by-hop list for both request paths', () => {
  it('the fast path and Node’s path forward exactly the same fields', () => {
    const fast = fastPathForwards(FIELDS);
    expect(fast).toEqual(['host', 'authorization', 'accept', 'x-trace']);
    expect(nodePathForwards(FIELDS)).toEqual(fast);
  });

  it('both drop every RFC 9110 §7.6.1 connection field and the fields the router writes', () => {
    for (const name of ['connection', 'proxy-connection', 'keep-alive', 'te', 'transfer-encoding', 'upgrade', 'trailer']) {
      expect(HOP_BY_HOP.has(name)).toBe(true);
    }
    for (const name of ['content-length', 'x-forwarded-for', 'expect']) expect(HOP_BY_HOP.has(name)).toBe(true);
  });

  it('fields named in Connection: dropped on Node’s path, handed from the fast path to Node’s', () => {
    const fields: [string, string][] = [
      ['Host', 'r'],
      ['Connection', 'close, X-Secret'],
      ['X-Secret', 's'],
      ['Transfer-Encoding', 'chunked'],
      ['Upgrade', 'websocket'],
      ['Expect', '100-continue'],
    ];
    expect(readRequestHead(Buffer.from(`GET /a HTTP/1.1\r\nHost: r\r\nConnection: close, X-Secret\r\n\r\n`), 1024).kind).toBe('handoff');
    expect(nodePathForwards(fields)).toEqual(['host']);
  });
});
