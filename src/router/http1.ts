// HTTP/1.1 message heads, read at the byte level for the router's fast path. Deliberately strict: a
// request head is accepted only in the plain form that keep-alive clients send (one Content-Length or
// none, no Transfer-Encoding, Expect, Upgrade or obsolete line folding). Anything else is not
// rejected here but handed to Node's own HTTP server, which parses it with llhttp as before, so an
// unusual request is never read two ways by two parsers.

import { connectionOptions, isHopByHop } from './hop-by-hop.js';

const HEAD_END = Buffer.from('\r\n\r\n');
const REQUEST_LINE = /^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (\/[\x21-\x7e]*) HTTP\/1\.1$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
/** A field line: a token, a colon, a value of visible characters, spaces and tabs (no CR, LF or NUL). */
const FIELD_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([\t\x20-\x7e\x80-\xff]*?)[ \t]*$/;
const DIGITS = /^\d{1,15}$/;

/** Request fields that put a request outside the fast path. */
const REQUEST_HANDED_OFF = new Set(['transfer-encoding', 'expect', 'upgrade']);
/** Response fields that belong to the router–cell connection, not to the client's. */
const RESPONSE_DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection']);

export interface RequestHead {
  method: string;
  target: string;
  /** The fields to forward, each "name: value\r\n", in the client's order and spelling. */
  fields: string;
  /** null when the request has no Content-Length (and so no body). */
  contentLength: number | null;
  authorization: string | undefined;
  /** The client asked to close the connection after this exchange. */
  close: boolean;
  /** Bytes of the head, the blank line included. */
  size: number;
}

export type RequestRead = { kind: 'incomplete' } | { kind: 'handoff'; reason: string } | { kind: 'head'; head: RequestHead };
/** Where a request head ends (`end`: the offset of its CRLF CRLF), before its lines are read. */
export type HeadScan = { kind: 'incomplete' } | { kind: 'handoff'; reason: string } | { kind: 'end'; end: number };

const INCOMPLETE = { kind: 'incomplete' } as const;
const handoff = (reason: string) => ({ kind: 'handoff', reason }) as const;
const CR = 13;
const LF = 10;

/** Reads the request head at the start of `data`, if all of it has arrived. */
export function readRequestHead(data: Buffer, maxHeadBytes: number): RequestRead {
  const scanner = new RequestHeadScanner(maxHeadBytes);
  scanner.feed(data);
  const scan = scanner.result;
  return scan.kind === 'end' ? parseRequestHead(data, scan.end) : scan;
}

/** How much of CRLF CRLF (0 to 4 bytes) a run of bytes ends with, given how much it did before `byte`. */
const matchedAfter = (matched: number, byte: number): number => (byte === HEAD_END[matched] ? matched + 1 : byte === CR ? 1 : 0);

/**
 * Finds where a request head ends in bytes fed piece by piece as they arrive, without joining them:
 * each byte is looked at a few times however small the pieces, so a head sent a byte at a time costs
 * about what it costs whole. `result` depends only on the bytes fed, not on how they were cut.
 */
export class RequestHeadScanner {
  /** Bytes looked at so far, for tests: a small multiple of the bytes fed. */
  examined = 0;
  private fed = 0;
  private end = -1;
  /** How much of CRLF CRLF the bytes fed so far end with (0 to 3 until it is found). */
  private matched = 0;
  private bareLineFeed = false;

  constructor(private readonly maxHeadBytes: number) {}

  /** What the bytes fed so far make: a head's end, a reason to hand them to Node's parser, or a wait. */
  get result(): HeadScan {
    if (this.end !== -1) return this.end > this.maxHeadBytes ? handoff('head too large') : { kind: 'end', end: this.end };
    if (this.fed > this.maxHeadBytes) return handoff('head too large');
    // Lines that end in a bare LF never make a CRLF CRLF: Node's parser answers them instead of a wait.
    return this.bareLineFeed ? handoff('line ending without CR') : INCOMPLETE;
  }

  /** Takes the next bytes of the connection; those after the head's end, once found, are not looked at. */
  feed(piece: Buffer): void {
    if (this.end !== -1) return;
    this.end = this.findEnd(piece);
    if (this.end !== -1) return;
    // Past the limit the answer is "too large" whatever else comes, unless an end does.
    if (this.fed + piece.length <= this.maxHeadBytes && this.hasBareLineFeed(piece)) this.bareLineFeed = true;
    this.trackEnd(piece);
    this.fed += piece.length;
  }

  /** The first CRLF CRLF's offset from the first byte fed, if it ends in `piece`; -1 if not. */
  private findEnd(piece: Buffer): number {
    // One begun in earlier pieces ends in this one's first 3 bytes.
    let matched = this.matched;
    for (let at = 0; matched > 0 && at < Math.min(3, piece.length); at += 1) {
      matched = matchedAfter(matched, piece[at]!);
      this.examined += 1;
      if (matched === 4) return this.fed + at - 3;
    }
    this.examined += piece.length;
    const at = piece.indexOf(HEAD_END);
    return at === -1 ? -1 : this.fed + at;
  }

  /** Whether `piece` has an LF not preceded by a CR (the byte before it may be in the previous piece). */
  private hasBareLineFeed(piece: Buffer): boolean {
    this.examined += piece.length;
    const crBefore = this.matched === 1 || this.matched === 3; // a run that ends in CR ends with "\r" or "\r\n\r"
    for (let at = piece.indexOf(LF); at !== -1; at = piece.indexOf(LF, at + 1)) if (at === 0 ? !crBefore : piece[at - 1] !== CR) return true;
    return false;
  }

  /** Updates `matched` to the bytes fed with `piece`: it depends on their last 3 bytes only. */
  private trackEnd(piece: Buffer): void {
    const from = Math.max(0, piece.length - 3);
    let matched = from === 0 ? this.matched : 0;
    for (let at = from; at < piece.length; at += 1) matched = matchedAfter(matched, piece[at]!);
    this.examined += piece.length - from;
    this.matched = matched;
  }
}

/** Reads the lines of a request head whose CRLF CRLF is at `end` in `data` (found by RequestHeadScanner). */
export function parseRequestHead(data: Buffer, end: number): RequestRead {
  const lines = data.toString('latin1', 0, end).split('\r\n');
  const requestLine = REQUEST_LINE.exec(lines[0]!);
  if (!requestLine) return handoff('request line outside the fast path');
  let fields = '';
  let contentLength: number | null = null;
  let authorization: string | undefined;
  let close = false;
  let hosts = 0;
  for (let i = 1; i < lines.length; i += 1) {
    const line = lines[i]!;
    const field = FIELD_LINE.exec(line);
    if (!field) return handoff('unusual field line');
    const name = field[1]!.toLowerCase();
    const value = field[2]!;
    if (REQUEST_HANDED_OFF.has(name)) return handoff(`${name} field`);
    if (name === 'content-length') {
      if (contentLength !== null || !DIGITS.test(value)) return handoff('unusual content-length');
      contentLength = Number(value);
    } else if (name === 'connection') {
      for (const option of connectionOptions(value)) {
        if (option === 'close') close = true;
        else if (option !== 'keep-alive') return handoff('connection option'); // names another hop-by-hop field
      }
    } else if (name === 'host') hosts += 1;
    else if (name === 'authorization') authorization = value;
    if (!isHopByHop(name)) fields += line + '\r\n';
  }
  if (hosts !== 1) return handoff('host field missing or repeated');
  return { kind: 'head', head: { method: requestLine[1]!, target: requestLine[2]!, fields, contentLength, authorization, close, size: end + 4 } };
}

export type BodyFraming = 'none' | 'length' | 'chunked' | 'close';

export interface ResponseHead {
  status: number;
  reason: string;
  /** Field lines to pass on, each "name: value\r\n" (framing fields included, connection fields not). */
  fields: string;
  /** The same fields as [name, value] pairs, for Node's ServerResponse. */
  pairs: [string, string][];
  framing: BodyFraming;
  contentLength: number;
  /** Whether the cell keeps this connection open after the response. */
  keepAlive: boolean;
  /** The idle time the cell allows a kept-alive connection (its Keep-Alive timeout), if it said. */
  keepAliveMs: number | null;
  size: number;
}

export type ResponseRead = { kind: 'incomplete' } | { kind: 'invalid'; reason: string } | { kind: 'head'; head: ResponseHead };

/** Reads a cell's response head; `method` is the request's (a HEAD answer has no body). */
export function readResponseHead(data: Buffer, method: string, maxHeadBytes: number): ResponseRead {
  const end = data.indexOf(HEAD_END);
  if (end === -1) return data.length > maxHeadBytes ? { kind: 'invalid', reason: 'response head too large' } : { kind: 'incomplete' };
  const lines = data.toString('latin1', 0, end).split('\r\n');
  const statusLine = STATUS_LINE.exec(lines[0]!);
  if (!statusLine) return { kind: 'invalid', reason: 'malformed status line' };
  const http11 = statusLine[1] === '1';
  const status = Number(statusLine[2]);
  let fields = '';
  const pairs: [string, string][] = [];
  let contentLength: number | null = null;
  let transferEncoding: string | null = null;
  let connection = '';
  let keepAliveMs: number | null = null;
  for (let i = 1; i < lines.length; i += 1) {
    const line = lines[i]!;
    const field = FIELD_LINE.exec(line);
    if (!field) return { kind: 'invalid', reason: 'malformed field line' };
    const name = field[1]!.toLowerCase();
    const value = field[2]!;
    if (name === 'content-length') {
      if (!DIGITS.test(value) || (contentLength !== null && contentLength !== Number(value))) return { kind: 'invalid', reason: 'bad content-length' };
      contentLength = Number(value);
    } else if (name === 'transfer-encoding') transferEncoding = transferEncoding === null ? value.toLowerCase() : `${transferEncoding}, ${value.toLowerCase()}`;
    else if (name === 'connection') connection += ',' + value.toLowerCase();
    else if (name === 'keep-alive') {
      const timeout = /(?:^|[,\s])timeout=(\d+)/.exec(value);
      if (timeout) keepAliveMs = Number(timeout[1]) * 1000;
    }
    if (RESPONSE_DROPPED.has(name)) continue;
    fields += line + '\r\n';
    pairs.push([field[1]!, value]);
  }
  const tokens = connection.split(',').map((token) => token.trim());
  let keepAlive = http11 ? !tokens.includes('close') : tokens.includes('keep-alive');
  let framing: BodyFraming;
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) framing = 'none';
  else if (transferEncoding !== null) {
    framing = /(?:^|,\s*)chunked$/.test(transferEncoding) ? 'chunked' : 'close';
    if (contentLength !== null) keepAlive = false; // both fields: Transfer-Encoding wins, and the connection is not reused
  } else if (contentLength !== null) framing = 'length';
  else framing = 'close';
  if (framing === 'close') keepAlive = false;
  return {
    kind: 'head',
    head: { status, reason: statusLine[3] ?? '', fields, pairs, framing, contentLength: contentLength ?? 0, keepAlive, keepAliveMs, size: end + 4 },
  };
}

const enum ChunkState {
  Size,
  Extension,
  SizeLineEnd,
  Data,
  DataEnd,
  Trailer,
  Done,
}

/**
 * Follows a chunked body as it streams through: where it ends, and its payload (for a client that
 * gets it re-framed). The bytes themselves pass on unchanged.
 */
export class ChunkedReader {
  private state = ChunkState.Size;
  private size = 0;
  private sizeDigits = 0;
  private left = 0;
  /** Characters of the current trailer line (0 at a line start: an empty line ends the body). */
  private lineLength = 0;

  get done(): boolean {
    return this.state === ChunkState.Done;
  }

  /**
   * Reads `data` from `offset`. Returns how many bytes belong to this body (the rest, if any, is
   * not part of it), pushing payload slices to `payload`. Throws on a malformed body.
   */
  read(data: Buffer, offset: number, payload: Buffer[] | null): number {
    let i = offset;
    while (i < data.length && this.state !== ChunkState.Done) {
      switch (this.state) {
        case ChunkState.Size: {
          const byte = data[i]!;
          const digit = byte >= 48 && byte <= 57 ? byte - 48 : byte >= 97 && byte <= 102 ? byte - 87 : byte >= 65 && byte <= 70 ? byte - 55 : -1;
          if (digit >= 0 && this.sizeDigits < 12) {
            this.size = this.size * 16 + digit;
            this.sizeDigits += 1;
          } else if (this.sizeDigits > 0 && byte === 13) this.state = ChunkState.SizeLineEnd;
          else if (this.sizeDigits > 0 && (byte === 59 || byte === 32 || byte === 9)) this.state = ChunkState.Extension;
          else throw new Error('malformed chunk size');
          i += 1;
          break;
        }
        case ChunkState.Extension: {
          // A chunk extension (";name=value"): skipped to the end of the line.
          const lineEnd = data.indexOf(13, i);
          if (lineEnd === -1) i = data.length;
          else {
            i = lineEnd + 1;
            this.state = ChunkState.SizeLineEnd;
          }
          break;
        }
        case ChunkState.SizeLineEnd:
          if (data[i] !== 10) throw new Error('malformed chunk size line');
          i += 1;
          if (this.size === 0) {
            this.state = ChunkState.Trailer;
            this.lineLength = 0;
          } else {
            this.left = this.size;
            this.state = ChunkState.Data;
          }
          this.size = 0;
          this.sizeDigits = 0;
          break;
        case ChunkState.Data: {
          const take = Math.min(this.left, data.length - i);
          payload?.push(data.subarray(i, i + take));
          this.left -= take;
          i += take;
          if (this.left === 0) {
            this.state = ChunkState.DataEnd;
            this.lineLength = 0;
          }
          break;
        }
        case ChunkState.DataEnd: {
          const byte = data[i]!;
          if ((this.lineLength === 0 && byte !== 13) || (this.lineLength === 1 && byte !== 10)) throw new Error('chunk data not followed by CRLF');
          this.lineLength += 1;
          i += 1;
          if (this.lineLength === 2) this.state = ChunkState.Size;
          break;
        }
        case ChunkState.Trailer: {
          const byte = data[i]!;
          i += 1;
          if (byte === 10) {
            if (this.lineLength <= 1) this.state = ChunkState.Done; // "\r\n" alone: the end
            this.lineLength = 0;
          } else this.lineLength += 1;
          break;
        }
      }
    }
    return i - offset;
  }
}
