import { describe, expect, it } from 'vitest';
import { ChunkedReader, type HeadScan, parseRequestHead, readRequestHead, readResponseHead, RequestHeadScanner } from '../../src/router/http1.js';

const bytes = (text: string) => Buffer.from(text, 'latin1');
const request = (text: string) => readRequestHead(bytes(text), 16 * 1024);

describe('request heads on the fast path', () => {
  it('reads a plain request and keeps only the fields a cell should see', () => {
    const head =
      'POST /api/customers/a/orders?x=1 HTTP/1.1\r\nHost: r\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nX-Forwarded-For: 6.6.6.6\r\nContent-Length: 12\r\nAuthorization: Bearer t\r\nX-Trace:  a b \r\n\r\n';
    const read = request(`${head}{"k":"v"}...`);
    expect(read).toEqual({
      kind: 'head',
      head: {
        method: 'POST',
        target: '/api/customers/a/orders?x=1',
        fields: 'Host: r\r\nAuthorization: Bearer t\r\nX-Trace:  a b \r\n',
        contentLength: 12,
        authorization: 'Bearer t',
        close: false,
        size: head.length,
      },
    });
  });

  it('notes Connection: close and a request without a body', () => {
    const read = request('GET / HTTP/1.1\r\nhost: r\r\nconnection: Close\r\n\r\n');
    expect(read.kind === 'head' && read.head).toMatchObject({ close: true, contentLength: null, fields: 'host: r\r\n' });
  });

  it('waits for the rest of a head', () => {
    expect(request('GET / HTTP/1.1\r\nhost: r\r\n').kind).toBe('incomplete');
  });

  it.each([
    ['chunked body', 'POST /a HTTP/1.1\r\nhost: r\r\ntransfer-encoding: chunked\r\n\r\n'],
    ['Content-Length and Transfer-Encoding', 'POST /a HTTP/1.1\r\nhost: r\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n'],
    ['two Content-Lengths', 'POST /a HTTP/1.1\r\nhost: r\r\ncontent-length: 3\r\ncontent-length: 3\r\n\r\n'],
    ['a signed Content-Length', 'POST /a HTTP/1.1\r\nhost: r\r\ncontent-length: +3\r\n\r\n'],
    ['Expect', 'POST /a HTTP/1.1\r\nhost: r\r\nexpect: 100-continue\r\ncontent-length: 3\r\n\r\n'],
    ['Upgrade', 'GET /a HTTP/1.1\r\nhost: r\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n'],
    ['a Connection option naming a field', 'GET /a HTTP/1.1\r\nhost: r\r\nconnection: x-secret\r\n\r\n'],
    ['HTTP/1.0', 'GET /a HTTP/1.0\r\nhost: r\r\n\r\n'],
    ['an absolute target', 'GET http://r/a HTTP/1.1\r\nhost: r\r\n\r\n'],
    ['an unknown method', 'BREW /a HTTP/1.1\r\nhost: r\r\n\r\n'],
    ['a folded line', 'GET /a HTTP/1.1\r\nhost: r\r\nx-a: 1\r\n  2\r\n\r\n'],
    ['a bare LF', 'GET /a HTTP/1.1\r\nhost: r\nx-a: 1\r\n\r\n'],
    ['lines that all end in a bare LF (no CRLF CRLF will ever come)', 'GET /a HTTP/1.1\nhost: r\n\n'],
    ['one bare LF in a head still arriving', 'GET /a HTTP/1.1\r\nhost: r\nx-a: 1\r\n'],
    ['a space before the colon', 'GET /a HTTP/1.1\r\nhost : r\r\n\r\n'],
    ['a control character', 'GET /a HTTP/1.1\r\nhost: r\r\nx-a: 1\x002\r\n\r\n'],
    ['no Host', 'GET /a HTTP/1.1\r\nx-a: 1\r\n\r\n'],
    ['two Hosts', 'GET /a HTTP/1.1\r\nhost: r\r\nhost: s\r\n\r\n'],
  ])('hands a request with %s to Node’s server', (_label, text) => {
    expect(request(text).kind).toBe('handoff');
  });

  it('waits for the rest of a head whose lines so far end in CRLF', () => {
    expect(request('GET /a HTTP/1.1\r\nhost: r\r\n').kind).toBe('incomplete');
    expect(request('GET /a HTTP/1.1\r').kind).toBe('incomplete');
  });

  it('hands off a head larger than the limit, finished or not', () => {
    const big = `GET /a HTTP/1.1\r\nhost: r\r\nx-big: ${'a'.repeat(300)}\r\n`;
    expect(readRequestHead(bytes(big), 200).kind).toBe('handoff');
    expect(readRequestHead(bytes(big + '\r\n'), 200).kind).toBe('handoff');
  });
});

/** The scan readRequestHead made before it could be fed in pieces: CRLF CRLF, then a bare LF, over all the bytes. */
function wholeScan(data: Buffer, maxHeadBytes: number): HeadScan {
  const end = data.indexOf('\r\n\r\n');
  if (end !== -1) return end > maxHeadBytes ? { kind: 'handoff', reason: 'head too large' } : { kind: 'end', end };
  if (data.length > maxHeadBytes) return { kind: 'handoff', reason: 'head too large' };
  for (let at = data.indexOf(10); at !== -1; at = data.indexOf(10, at + 1))
    if (at === 0 || data[at - 1] !== 13) return { kind: 'handoff', reason: 'line ending without CR' };
  return { kind: 'incomplete' };
}

/** Feeds `data` cut at `cuts`, checking after each piece that the scan is the one of all the bytes so far; returns the read. */
function readInPieces(data: Buffer, cuts: number[], maxHeadBytes: number) {
  const scanner = new RequestHeadScanner(maxHeadBytes);
  const ends = [...cuts, data.length];
  ends.forEach((end, i) => {
    scanner.feed(data.subarray(i === 0 ? 0 : ends[i - 1], end));
    expect(scanner.result, `after ${end} bytes`).toEqual(wholeScan(data.subarray(0, end), maxHeadBytes));
  });
  const scan = scanner.result;
  return scan.kind === 'end' ? parseRequestHead(data, scan.end) : scan;
}

const everyByte = (length: number) => Array.from({ length: length - 1 }, (_, i) => i + 1);

describe('request heads that arrive in pieces', () => {
  const plain = 'POST /api/customers/a HTTP/1.1\r\nHost: r\r\nContent-Length: 2\r\nX-Trace: t\r\n\r\n{}';
  it.each([
    ['a plain head', plain, 16 * 1024],
    ['lines that all end in a bare LF', 'GET /a HTTP/1.1\nhost: r\n\n', 16 * 1024],
    ['one bare LF among CRLFs', 'GET /a HTTP/1.1\r\nhost: r\nx-a: 1\r\n\r\n', 16 * 1024],
    ['a bare LF first', '\nGET /a HTTP/1.1\r\nhost: r\r\n\r\n', 16 * 1024],
    ['CR CR LF', 'GET /a HTTP/1.1\r\r\nhost: r\r\n\r\n', 16 * 1024],
    ['a head over the limit, unfinished', `GET /a HTTP/1.1\r\nhost: r\r\nx-big: ${'a'.repeat(300)}\r\n`, 200],
    ['a head over the limit, finished', `GET /a HTTP/1.1\r\nhost: r\r\nx-big: ${'a'.repeat(300)}\r\n\r\n`, 200],
    // Its CRLF CRLF starts at the limit: over it until the last byte comes, then within it.
    ['a head whose end straddles the limit', `GET /a HTTP/1.1\r\nhost: r\r\nx-a: ${'a'.repeat(33)}\r\n\r\n`, 64],
    ['pipelined requests in one chunk', `${plain}GET /b HTTP/1.1\r\nhost: r\r\n\r\nGET /c HTTP/1.1\nhost: r\n\n`, 16 * 1024],
  ])('reads %s a byte at a time as it reads it whole', (_label, text, max) => {
    const data = bytes(text);
    expect(readInPieces(data, everyByte(data.length), max)).toEqual(readRequestHead(data, max));
  });

  it('finds a CRLF CRLF cut across two or three pieces in every position', () => {
    const data = bytes('GET /a HTTP/1.1\r\nhost: r\r\n\r\nGET /b HTTP/1.1\r\n');
    const end = data.indexOf('\r\n\r\n');
    const whole = readRequestHead(data, 1024);
    expect(whole.kind).toBe('head');
    for (let first = end - 2; first <= end + 5; first += 1) {
      expect(readInPieces(data, [first], 1024)).toEqual(whole);
      for (let second = first + 1; second <= end + 5; second += 1) expect(readInPieces(data, [first, second], 1024)).toEqual(whole);
    }
  });

  it('looks at each byte of a 64 KiB head sent a byte at a time a few times, not once per piece', () => {
    const max = 64 * 1024;
    const head = bytes(`GET /a HTTP/1.1\r\nhost: r\r\nx-big: ${'a'.repeat(max - 40)}\r\n\r\n`);
    const scanner = new RequestHeadScanner(max);
    for (let at = 0; at < head.length; at += 1) scanner.feed(head.subarray(at, at + 1));
    expect(scanner.result).toEqual({ kind: 'end', end: head.length - 4 });
    // Scanning all the bytes so far on each piece would look at about 2 Gi bytes here (twice that with the bare LF scan).
    expect(scanner.examined).toBeLessThanOrEqual(4 * head.length);
  });
});

const response = (text: string, method = 'GET') => {
  const read = readResponseHead(bytes(text), method, 64 * 1024);
  if (read.kind !== 'head') throw new Error(`expected a head, got ${read.kind}`);
  return read.head;
};

describe('response heads from cells', () => {
  it('reads a length-framed keep-alive answer and drops the connection fields', () => {
    const head = response(
      'HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nSet-Cookie: a\r\nSet-Cookie: b\r\n\r\n{}',
    );
    expect(head).toMatchObject({ status: 201, reason: 'Created', framing: 'length', contentLength: 2, keepAlive: true, keepAliveMs: 5000 });
    expect(head.fields).toBe('Content-Type: application/json\r\nContent-Length: 2\r\nSet-Cookie: a\r\nSet-Cookie: b\r\n');
    expect(head.pairs).toContainEqual(['Set-Cookie', 'b']);
  });

  it.each([
    ['HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n', 'HEAD', 'none', true],
    ['HTTP/1.1 204 No Content\r\n\r\n', 'DELETE', 'none', true],
    ['HTTP/1.1 304 Not Modified\r\n\r\n', 'GET', 'none', true],
    ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n', 'GET', 'chunked', true],
    ['HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n', 'GET', 'chunked', true],
    ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 9\r\n\r\n', 'GET', 'chunked', false],
    ['HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n', 'GET', 'close', false],
    ['HTTP/1.1 200 OK\r\n\r\n', 'GET', 'close', false],
    ['HTTP/1.1 200 OK\r\ncontent-length: 3\r\nconnection: close\r\n\r\n', 'GET', 'length', false],
    ['HTTP/1.0 200 OK\r\ncontent-length: 3\r\n\r\n', 'GET', 'length', false],
    ['HTTP/1.0 200 OK\r\ncontent-length: 3\r\nconnection: keep-alive\r\n\r\n', 'GET', 'length', true],
  ])('frames %j (%s) as %s, keep-alive %s', (text, method, framing, keepAlive) => {
    expect(response(text, method)).toMatchObject({ framing, keepAlive });
  });

  it.each([
    ['HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\n', 'bad content-length'],
    ['HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n', 'bad content-length'],
    ['HTTP/2 200\r\n\r\n', 'malformed status line'],
    ['HTTP/1.1 200 OK\r\nbad line\r\n\r\n', 'malformed field line'],
  ])('refuses %j', (text, reason) => {
    expect(readResponseHead(bytes(text), 'GET', 1024)).toEqual({ kind: 'invalid', reason });
  });
});

describe('chunked bodies', () => {
  const body = '5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nx-trailer: 1\r\n\r\n';

  it('finds the end and the payload however the bytes are split', () => {
    for (let split = 1; split < body.length; split += 1) {
      const reader = new ChunkedReader();
      const payload: Buffer[] = [];
      const whole = bytes(body + 'NEXT');
      const first = reader.read(whole.subarray(0, split), 0, payload);
      expect(first).toBe(split);
      const second = reader.read(whole, split, payload);
      expect(reader.done).toBe(true);
      expect(split + second).toBe(body.length);
      expect(Buffer.concat(payload).toString()).toBe('helloabcdefghijklmnopqrstuvwxyz');
    }
  });

  it('ends at an empty last chunk without trailers', () => {
    const reader = new ChunkedReader();
    expect(reader.read(bytes('0\r\n\r\nrest'), 0, null)).toBe(5);
    expect(reader.done).toBe(true);
  });

  it.each(['x\r\n', '5\r\nhelloXY', '5\n', '\r\n'])('refuses the malformed body %j', (text) => {
    expect(() => new ChunkedReader().read(bytes(text), 0, null)).toThrow();
  });
});
