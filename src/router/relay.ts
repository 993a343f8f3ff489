// Kept-alive connections from the router to one cell, and one request/response exchange over them.
// The request goes out as bytes; the response comes back as bytes, read only as far as its head and
// its framing, so the router knows where it ends and can reuse the connection. This replaces an
// HTTP client library on the request path because that library alone cost the router half of its
// throughput (README, "Benchmark").
import net from 'node:net';
import { type ResponseHead, ChunkedReader, readResponseHead } from './http1.js';

const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;
/** Idle time a connection is kept when the cell does not say its own (Node's default is 5 s). */
const DEFAULT_IDLE_MS = 4_000;
/** A kept-alive connection is retired this long before the cell would close it, to avoid the race. */
const IDLE_MARGIN_MS = 1_000;

/** Where a cell listens: an IPv4 address or a name (or an IPv6 address), and a port. */
export interface CellTarget {
  host: string;
  port: number;
}

const hostField = ({ host, port }: CellTarget): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/**
 * Why an exchange failed. `unavailable`: the connection failed before any byte of the request was
 * written to it, so the cell cannot have received it. `lost`: the connection failed (or the cell
 * answered garbage) after the request was written, before a whole answer: the cell may have acted on
 * it. `timeout`: no answer in time (it may have acted, too). `aborted`: the caller dropped the
 * exchange (its client went away); the cell is not to blame.
 */
export type FailReason = 'timeout' | 'unavailable' | 'lost' | 'aborted';

export interface ResponseSink {
  /** The cell's response head has arrived. */
  start(head: ResponseHead): void;
  /**
   * Body bytes as they arrived (chunk framing included); `payload` is the same data without the
   * framing when the body is chunked, null otherwise. Return false to pause until `resume`.
   */
  data(raw: Buffer, payload: readonly Buffer[] | null): boolean;
  end(): void;
  /** The exchange failed; `started` tells whether `start` was called. */
  fail(reason: FailReason, detail: string, started: boolean): void;
}

export interface OutgoingRequest {
  method: string;
  /** The whole request head, the blank line included. */
  head: string;
  body: Buffer | null;
  timeoutMs: number;
}

/** What the caller holds while an exchange runs. */
export interface Exchange {
  /** Resumes reading after the sink returned false from `data`. */
  resume(): void;
  /** Drops the exchange (the client went away): the connection is closed and the sink hears `fail('aborted')`. */
  abort(): void;
}

/** Methods that are sent again, once, when a reused connection turns out to be closed. */
const RETRYABLE = new Set(['GET', 'HEAD', 'OPTIONS']);

class Link {
  readonly socket: net.Socket;
  /** Exchanges completed on this connection. */
  served = 0;
  idleSince = 0;
  idleLimitMs = DEFAULT_IDLE_MS;
  private pending: Buffer | null = null;
  private request: OutgoingRequest | null = null;
  private sink: ResponseSink | null = null;
  private head: ResponseHead | null = null;
  private left = 0;
  private chunks: ChunkedReader | null = null;
  private onDone: ((reusable: boolean) => void) | null = null;
  private onEarlyClose: (() => boolean) | null = null;
  closed = false;
  /** The connection was established: from then on a request sent on it is written to the cell's socket. */
  private connected = false;

  constructor(address: CellTarget) {
    this.socket = net.connect({ port: address.port, host: address.host, noDelay: true });
    this.socket.once('connect', () => (this.connected = true));
    this.socket.on('data', (data: Buffer) => this.receive(data));
    this.socket.on('timeout', () => this.fail('timeout', `no answer within ${this.request?.timeoutMs} ms`));
    this.socket.on('error', (error: NodeJS.ErrnoException) => this.fail('unavailable', error.code ?? error.message));
    this.socket.on('close', () => this.fail('unavailable', 'connection closed by the cell'));
  }

  send(request: OutgoingRequest, sink: ResponseSink, onDone: (reusable: boolean) => void, onEarlyClose: () => boolean): void {
    this.request = request;
    this.sink = sink;
    this.onDone = onDone;
    this.onEarlyClose = onEarlyClose;
    this.head = null;
    this.socket.setTimeout(request.timeoutMs);
    if (request.body && request.body.length > 0) {
      this.socket.write(request.head, 'latin1');
      this.socket.write(request.body);
    } else this.socket.write(request.head, 'latin1');
  }

  private receive(data: Buffer): void {
    const sink = this.sink;
    if (!sink || !this.request) {
      this.destroy(); // bytes nobody asked for: this connection is out of step
      return;
    }
    let offset = 0;
    if (!this.head) {
      const buffered = this.pending ? Buffer.concat([this.pending, data]) : data;
      const read = readResponseHead(buffered, this.request.method, MAX_RESPONSE_HEAD_BYTES);
      if (read.kind === 'incomplete') {
        this.pending = buffered;
        return;
      }
      this.pending = null;
      if (read.kind === 'invalid') {
        this.fail('unavailable', `cell sent an invalid response: ${read.reason}`);
        return;
      }
      const head = read.head;
      if (head.status < 200) {
        // An interim answer (103 Early Hints and the like): skip it and read the final one.
        const rest = buffered.subarray(head.size);
        if (rest.length > 0) this.receive(rest);
        return;
      }
      this.head = head;
      if (head.keepAliveMs !== null) this.idleLimitMs = Math.max(0, head.keepAliveMs - IDLE_MARGIN_MS);
      this.left = head.contentLength;
      this.chunks = head.framing === 'chunked' ? new ChunkedReader() : null;
      sink.start(head);
      if (this.sink !== sink) return; // aborted from start()
      data = buffered;
      offset = head.size;
    }
    const head = this.head;
    let end = data.length;
    let complete = false;
    let payload: Buffer[] | null = null;
    switch (head.framing) {
      case 'none':
        end = offset;
        complete = true;
        break;
      case 'length':
        end = Math.min(data.length, offset + this.left);
        this.left -= end - offset;
        complete = this.left === 0;
        break;
      case 'chunked':
        payload = [];
        try {
          end = offset + this.chunks!.read(data, offset, payload);
        } catch (error) {
          this.fail('unavailable', `cell sent a malformed chunked body: ${(error as Error).message}`);
          return;
        }
        complete = this.chunks!.done;
        break;
      case 'close':
        break;
    }
    if (end > offset) {
      const more = sink.data(offset === 0 && end === data.length ? data : data.subarray(offset, end), payload);
      if (!more && !complete) this.socket.pause();
    }
    // More bytes than the response: a connection in that state is never reused.
    if (complete) this.finish(head.keepAlive && end === data.length);
  }

  private finish(reusable: boolean): void {
    const sink = this.sink!;
    const onDone = this.onDone!;
    this.clear();
    this.served += 1;
    sink.end();
    onDone(reusable && !this.closed);
  }

  private clear(): void {
    this.sink = null;
    this.request = null;
    this.onDone = null;
    this.onEarlyClose = null;
    this.head = null;
    this.chunks = null;
    this.pending = null;
  }

  private fail(reason: FailReason, detail: string): void {
    const wasClosed = this.closed;
    this.closed = true;
    this.socket.destroy();
    const sink = this.sink;
    if (!sink) return;
    const started = this.head !== null;
    if (started && this.head!.framing === 'close' && detail === 'connection closed by the cell') {
      this.finish(false); // a body that ends with the connection
      return;
    }
    // A reused connection that the cell may have closed before the request reached it: an idempotent
    // request is sent once more (the caller decides), others may have landed.
    const mayRetry = !started && !wasClosed && this.served > 0 && reason === 'unavailable' && this.pending === null;
    const retry = this.onEarlyClose!;
    const onDone = this.onDone!;
    this.clear();
    onDone(false);
    if (mayRetry && retry()) return;
    sink.fail(reason === 'unavailable' && this.connected ? 'lost' : reason, detail, started);
  }

  resume(): void {
    this.socket.resume();
  }

  destroy(): void {
    this.closed = true;
    this.clear();
    this.socket.destroy();
  }
}

/** The connections to one cell: a stack of idle ones, at most `max` open, and a queue beyond that. */
export class CellLinks {
  private readonly idle: Link[] = [];
  /** Exchanges waiting for a connection; each returns false if it was dropped meanwhile. */
  private readonly queue: (() => boolean)[] = [];
  private open = 0;
  private closing = false;

  constructor(
    readonly address: CellTarget,
    private readonly max: number,
  ) {}

  /**
   * Sends one request and streams its response to `sink`. `probe`: a health check, which never waits
   * behind requests for a connection (it may open one beyond the limit), so a cell whose connections
   * are all stuck is still found hung within the check's own timeout.
   */
  exchange(request: OutgoingRequest, sink: ResponseSink, probe = false): Exchange {
    let link: Link | null = null;
    let aborted = false;
    let retried = false;
    let done = false;
    let begun = false;
    const tracked: ResponseSink = {
      start: (head) => {
        begun = true;
        sink.start(head);
      },
      data: (raw, payload) => sink.data(raw, payload),
      end: () => sink.end(),
      fail: (reason, detail, started) => sink.fail(reason, detail, started),
    };
    const run = (): boolean => {
      if (aborted) return false;
      if (this.closing) {
        done = true;
        sink.fail('unavailable', 'router is closing', false);
        return false;
      }
      link = this.take(probe);
      if (!link) {
        this.queue.push(run);
        return true;
      }
      const current = link;
      current.send(
        request,
        tracked,
        (reusable) => {
          done = true;
          this.give(current, reusable);
        },
        () => {
          if (retried || aborted || !RETRYABLE.has(request.method)) return false;
          retried = true;
          done = false;
          run();
          return true;
        },
      );
      return true;
    };
    run();
    return {
      resume: () => link?.resume(),
      abort: () => {
        if (aborted || done) return;
        aborted = true;
        done = true;
        if (link && !link.closed) {
          link.destroy();
          this.give(link, false);
        }
        sink.fail('aborted', 'the client went away', begun);
      },
    };
  }

  private take(probe: boolean): Link | null {
    const now = Date.now();
    while (this.idle.length > 0) {
      const link = this.idle.pop()!;
      if (!link.closed && now - link.idleSince < link.idleLimitMs) return link;
      link.destroy();
      this.open -= 1;
    }
    if (this.open >= this.max && !probe) return null;
    this.open += 1;
    return new Link(this.address);
  }

  private give(link: Link, reusable: boolean): void {
    if (reusable && !this.closing) {
      link.idleSince = Date.now();
      link.socket.setTimeout(0);
      this.idle.push(link);
    } else {
      if (!link.closed) link.destroy();
      this.open -= 1;
    }
    while (this.queue.length > 0 && !this.queue.shift()!()) {
      // that one was dropped while it waited: hand the connection to the next
    }
  }

  close(): void {
    this.closing = true;
    for (const link of this.idle) link.destroy();
    this.open -= this.idle.length;
    this.idle.length = 0;
    for (const waiting of this.queue.splice(0)) waiting();
  }
}

/** One whole request with a small answer (the health check): status and body text. */
export function fetchSmall(links: CellLinks, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let status = 0;
    const parts: Buffer[] = [];
    links.exchange(
      { method: 'GET', head: `GET ${path} HTTP/1.1\r\nhost: ${hostField(links.address)}\r\n\r\n`, body: null, timeoutMs },
      {
        start: (head) => (status = head.status),
        data: (raw, payload) => {
          if (payload) parts.push(...payload);
          else parts.push(raw);
          return true;
        },
        end: () => resolve({ status, body: Buffer.concat(parts).toString('utf8') }),
        fail: (reason, detail) => reject(Object.assign(new Error(detail), { reason })),
      },
      true,
    );
  });
}
