// One client request as the router's routing logic sees it, whichever way it arrived: read at the
// byte level on the fast path (frontdoor.ts), or by Node's HTTP server for everything else. The
// routing logic (router.ts) decides; the exchange answers or carries the cell's answer back.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type net from 'node:net';
import { sendJson } from '../shared/http.js';
import type { InputBudget, InputHolder } from './budget.js';
import { routerError } from './errors.js';
import { connectionOptions, isHopByHop } from './hop-by-hop.js';
import type { ResponseHead } from './http1.js';
import type { Exchange } from './relay.js';

export class BodyTooLarge extends Error {}
/** The router's cap on bytes held for unfinished requests was reached, and this request held the most. */
export class RouterOverloaded extends Error {}

/** Where a cell's answer goes. `exchange` arrives first, so the client can pause or drop it. */
export interface Responder {
  attach(exchange: Exchange): void;
  start(head: ResponseHead): void;
  data(raw: Buffer, payload: readonly Buffer[] | null): boolean;
  end(): void;
  /** The cell's answer broke off after it had begun: the client connection is closed. */
  broken(): void;
}

export interface PublicExchange {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
  /** The request body, if the request has one; rejects with BodyTooLarge over the limit. */
  body(): Promise<Buffer | null>;
  /** Answers from the router itself, with a JSON body. */
  reply(status: number, payload: Record<string, unknown>, headers?: Record<string, string>): void;
  /** The request head to send to a cell. */
  upstreamHead(body: Buffer | null): string;
  responder(cellId: string): Responder;
  /** The router failed on this request: a 500 if nothing was sent yet, else the connection is closed. */
  fail(message: string): void;
  /** For the access log: the status answered (0 while none was), the cell that answered (null: the router itself), the client's address. */
  readonly status: number;
  readonly cell: string | null;
  readonly client: string;
}

/** A whole JSON answer from the router itself, as bytes. */
export function jsonAnswer(status: number, payload: Record<string, unknown>, headers: Record<string, string>, close: boolean, withBody: boolean): Buffer {
  const body = JSON.stringify(payload);
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  if (close && headers.connection === undefined) head += 'connection: close\r\n';
  return Buffer.from(withBody ? `${head}\r\n${body}` : `${head}\r\n`, 'utf8');
}

/** A request read by the fast path, answered straight onto the client's socket. */
export class RawExchange implements PublicExchange {
  constructor(
    private readonly socket: net.Socket,
    readonly method: string,
    readonly url: string,
    readonly authorization: string | undefined,
    private readonly fields: string,
    private readonly payload: Buffer | null,
    private readonly tooLarge: boolean,
    /** The client asked to close after this exchange. */
    private close: boolean,
    /** The client's address (x-forwarded-for, and the access log). */
    readonly client: string,
    /** Called once the answer is written: `keepOpen` false when the connection is ending. */
    private readonly done: (keepOpen: boolean) => void,
  ) {}

  /** 0 until any of the answer has been written. */
  status = 0;
  cell: string | null = null;
  private finished = false;
  /** The exchange with the cell, while the answer comes from one. */
  private relayed: Exchange | null = null;

  /** The client went away: an exchange with a cell stops (and its connection to the cell closes). */
  abandon(): void {
    if (!this.finished) this.relayed?.abort();
  }

  body(): Promise<Buffer | null> {
    return this.tooLarge ? Promise.reject(new BodyTooLarge()) : Promise.resolve(this.payload);
  }

  reply(status: number, payload: Record<string, unknown>, headers: Record<string, string> = {}): void {
    this.status = status;
    const close = this.close || headers.connection === 'close';
    this.socket.write(jsonAnswer(status, payload, headers, close, this.method !== 'HEAD'));
    this.finish(close);
  }

  upstreamHead(body: Buffer | null): string {
    const length = body === null ? '' : `content-length: ${body.length}\r\n`;
    return `${this.method} ${this.url} HTTP/1.1\r\n${this.fields}x-forwarded-for: ${this.client}\r\n${length}\r\n`;
  }

  responder(cellId: string): Responder {
    const socket = this.socket;
    /** The answer's head, held back to leave in one write with the first body bytes. */
    let head: string | null = null;
    const onDrain = () => this.relayed?.resume();
    return {
      attach: (attached) => {
        this.relayed = attached;
        if (socket.destroyed) attached.abort(); // the client left while the request waited
      },
      start: (answer) => {
        // A body that ends with the cell's connection can only end with the client's, too.
        if (answer.framing === 'close') this.close = true;
        this.status = answer.status;
        this.cell = cellId;
        head = `HTTP/1.1 ${answer.status} ${answer.reason}\r\n${answer.fields}x-cellctl-cell: ${cellId}\r\n${this.close ? 'connection: close\r\n' : ''}\r\n`;
      },
      data: (raw) => {
        let chunk = raw;
        if (head !== null) {
          const length = Buffer.byteLength(head, 'latin1');
          chunk = Buffer.allocUnsafe(length + raw.length);
          chunk.write(head, 0, 'latin1');
          raw.copy(chunk, length);
          head = null;
        }
        const more = socket.write(chunk);
        if (!more) socket.once('drain', onDrain);
        return more;
      },
      end: () => {
        if (head !== null) socket.write(head, 'latin1');
        head = null;
        this.finish(this.close);
      },
      broken: () => {
        socket.destroy();
        this.finish(true);
      },
    };
  }

  fail(message: string): void {
    if (this.finished) return;
    if (this.status === 0) return this.reply(500, routerError('internal', { details: message }).body);
    this.socket.destroy();
    this.finish(true);
  }

  private finish(close: boolean): void {
    if (this.finished) return;
    this.finished = true;
    if (close) this.socket.end();
    this.done(!close);
  }
}

/** A request that Node's HTTP server read (the slow path): chunked bodies, HTTP/1.0, Expect, … */
export class NodeExchange implements PublicExchange {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
  status = 0;
  cell: string | null = null;
  get client(): string {
    return this.req.socket.remoteAddress ?? '';
  }

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly maxBodyBytes: number,
    private readonly budget: InputBudget,
  ) {
    this.method = req.method ?? 'GET';
    this.url = req.url ?? '/';
    this.authorization = req.headers.authorization;
  }

  /** The body's pieces are kept and joined once at its end, counted against the router's input budget meanwhile. */
  body(): Promise<Buffer | null> {
    const req = this.req;
    if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) return Promise.resolve(null);
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > this.maxBodyBytes) return Promise.reject(new BodyTooLarge());
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const stop = (error: Error | null) => {
        req.off('data', onData);
        this.budget.drop(holder);
        if (error) reject(error);
        else resolve(Buffer.concat(chunks, size));
      };
      const holder: InputHolder = { held: 0, evict: () => stop(new RouterOverloaded()) };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.maxBodyBytes) return stop(new BodyTooLarge());
        chunks.push(chunk);
        this.budget.take(holder, chunk.length);
      };
      req.on('data', onData);
      req.once('end', () => stop(null));
      req.once('error', stop);
    });
  }

  reply(status: number, payload: Record<string, unknown>, headers: Record<string, string> = {}): void {
    this.status = status;
    if (!this.req.complete) this.req.resume();
    sendJson(this.res, status, payload, headers);
  }

  fail(message: string): void {
    if (this.res.headersSent) this.res.destroy();
    else this.reply(500, routerError('internal', { details: message }).body);
  }

  upstreamHead(body: Buffer | null): string {
    const raw = this.req.rawHeaders;
    let head = `${this.method} ${this.url} HTTP/1.1\r\n`;
    const named = new Set(connectionOptions(this.req.headers.connection ?? ''));
    for (let i = 0; i < raw.length; i += 2) {
      if (!isHopByHop(raw[i]!.toLowerCase(), named)) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
    }
    head += `x-forwarded-for: ${this.client}\r\n`;
    if (body !== null) head += `content-length: ${body.length}\r\n`;
    return head + '\r\n';
  }

  responder(cellId: string): Responder {
    const res = this.res;
    let exchange: Exchange | null = null;
    const onClose = () => {
      if (!res.writableFinished) exchange?.abort();
    };
    return {
      attach: (attached) => {
        exchange = attached;
        res.once('close', onClose);
      },
      start: (head) => {
        const headers: Record<string, string | string[]> = { 'x-cellctl-cell': cellId };
        for (const [name, value] of head.pairs) {
          const key = name.toLowerCase();
          // Node frames the body for its client itself; only a known length is passed on.
          if (key === 'transfer-encoding' || (key === 'content-length' && head.framing !== 'length' && head.framing !== 'none')) continue;
          const existing = headers[key];
          headers[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
        }
        res.writeHead(head.status, head.reason, headers);
        this.status = head.status;
        this.cell = cellId;
      },
      data: (raw, payload) => {
        let more = true;
        if (payload) for (const part of payload) more = res.write(part) && more;
        else more = res.write(raw);
        if (!more) res.once('drain', () => exchange?.resume());
        return more;
      },
      end: () => {
        res.off('close', onClose);
        res.end();
      },
      broken: () => {
        res.off('close', onClose);
        res.destroy();
      },
    };
  }
}
