// The router's public connections. Each keep-alive connection is read at the byte level: requests in
// the plain form (http1.ts) are routed from here, one at a time and in order, so pipelined requests
// get their answers in order. At the first request outside that form the connection is handed, with
// every byte not yet used, to Node's HTTP server, which serves it from then on. A head is scanned as
// its pieces arrive, each byte once, and joined once it is whole; a request is framed as soon as it is
// whole, and only its own bytes are joined. A client is read ahead of the answer it waits for only
// up to limits.pipelining (requests and bytes), and not at all while it does not read its answers.
import type http from 'node:http';
import type net from 'node:net';
import type { InputBudget, InputHolder } from './budget.js';
import { type RouterErrorAnswer, routerError } from './errors.js';
import { jsonAnswer, type PublicExchange, RawExchange } from './exchange.js';
import { parseRequestHead, type RequestHead, RequestHeadScanner } from './http1.js';
import { InputPieces } from './pieces.js';

export interface FrontDoorOptions {
  /** Routes one request and answers it through the exchange; never throws. */
  dispatch(exchange: PublicExchange): void;
  /** Node's server for the requests outside the fast path. */
  fallback: http.Server;
  maxHeadBytes: number;
  maxBodyBytes: number;
  /** How long an idle keep-alive connection is kept. */
  idleTimeoutMs: number;
  /** How long one request's head and body may take to arrive, from its first byte (408 after). */
  requestTimeoutMs: number;
  /** The cap on bytes held for unfinished requests, shared by every connection. */
  budget: InputBudget;
  /** How far one connection is read ahead of the answer it waits for (limits.pipelining). */
  pipelining: PipelineBound;
  /** Called each time a connection stops being read for having sent more than `pipelining` ahead. */
  onPipelineLimited(): void;
}

export interface PipelineBound {
  /** Whole requests read and waiting their turn. */
  requests: number;
  /** Bytes held for them and for the request arriving after them. */
  bytes: number;
}

/** Why the router does not read a connection now: its client does not read its answers, or sent more than limits.pipelining ahead of them. */
export type ReadingStopped = 'answers unread' | 'pipelining';

export interface Connection {
  /** Closes the connection now if it is idle, or once its current answer is out. */
  shutdown(): void;
  /** Why the router stopped reading it, if it did. */
  stoppedFor(): ReadingStopped | null;
}

/** How long a turned-away client has to read its answer and close before the connection is cut. */
const TURN_AWAY_LINGER_MS = 5_000;

/** Answers a connection the router will not serve (before reading anything from it) and closes it. */
export function turnAway(socket: net.Socket, status: number, payload: Record<string, unknown>, headers: Record<string, string> = {}): void {
  socket.on('error', () => socket.destroy());
  // What the client sends meanwhile is read and dropped: unread bytes at close would make it a reset,
  // which can reach the client before the answer does.
  socket.resume();
  // An absolute limit, not an idle one: a client that keeps sending must not keep the socket.
  setTimeout(() => socket.destroy(), TURN_AWAY_LINGER_MS).unref();
  socket.end(jsonAnswer(status, payload, headers, true, true));
}

/** A whole request read ahead, waiting its turn. */
interface ReadRequest {
  head: RequestHead;
  body: Buffer | null;
  /** Its body is over the limit and was not read: it is answered, then the connection closes. */
  tooLarge: boolean;
  /** Bytes it holds against the input budget. */
  bytes: number;
}

/**
 * What the connection does with the bytes it reads: frame them into requests (`open`); keep them for
 * Node's server, which gets them once the requests before them are answered (`for-node`: a request
 * outside the fast path begins where `input` begins); drop them (`discarding`: a body over the limit
 * was refused, nothing after its head is used); nothing, it is closing or closed (`gone`) or Node's
 * server serves it (`handed-off`).
 */
type Framing = 'open' | 'for-node' | 'discarding' | 'gone' | 'handed-off';

export function serveConnection(socket: net.Socket, options: FrontDoorOptions): Connection {
  return new ClientConnection(socket, options);
}

/**
 * One client connection on the fast path. Its bytes are framed into requests as they arrive
 * (`input` → `ready`); requests are answered one at a time, in order (`current`). The socket is read
 * unless the client does not read its answers (`awaitingDrain`), has more than limits.pipelining
 * waiting (`limited`), or what follows belongs to Node's server.
 */
class ClientConnection implements Connection {
  /** Bytes read and not yet framed, in arrival order: at most the start of one request once framed. */
  private readonly input = new InputPieces();
  /** The head scan of exactly the bytes in `input`: each piece is fed to it once, as it arrives. */
  private scan: RequestHeadScanner;
  /** The head of the request whose body is still arriving, once read. */
  private arriving: RequestHead | null = null;
  /** Whole requests waiting for the one being answered, in order, and the bytes they hold. */
  private readonly ready: ReadRequest[] = [];
  private readyBytes = 0;
  private framing: Framing = 'open';
  /** The request being answered; null when none is. */
  private current: RawExchange | null = null;
  /** The client is not reading its answers: no request is read or answered until it does. */
  private awaitingDrain = false;
  /** Not read for having more than limits.pipelining waiting (counted once each time it begins). */
  private limited = false;
  private shuttingDown = false;
  private requestTimer: NodeJS.Timeout | null = null;
  private readonly holder: InputHolder = { held: 0, evict: () => this.evicted() };
  private readonly remote: string;

  constructor(
    private readonly socket: net.Socket,
    private readonly options: FrontDoorOptions,
  ) {
    this.remote = socket.remoteAddress ?? '';
    this.scan = new RequestHeadScanner(options.maxHeadBytes);
    socket.setNoDelay(true);
    socket.setTimeout(options.idleTimeoutMs);
    socket.on('data', this.onData);
    socket.on('timeout', this.onTimeout);
    socket.on('close', this.onGone);
    socket.on('error', this.onGone);
  }

  stoppedFor(): ReadingStopped | null {
    if (this.awaitingDrain) return 'answers unread';
    return this.limited && this.framing === 'open' ? 'pipelining' : null;
  }

  shutdown(): void {
    this.shuttingDown = true;
    if (this.framing === 'handed-off') return; // Node's server closes its own connections
    if (this.current === null) this.socket.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    // Closing, or past a refused body: what the client still sends is read and not used.
    if (this.framing === 'gone' || this.framing === 'discarding') return;
    this.input.push(chunk);
    this.scan.feed(chunk);
    if (!this.options.budget.take(this.holder, chunk.length)) return; // this connection was refused to keep the cap
    this.frame();
    this.serveNext();
    this.updateReading();
  };

  /** Moves every whole request in `input` to `ready`. */
  private frame(): void {
    while (this.framing === 'open') {
      const head = this.arriving ?? this.readHead();
      if (head === null) return;
      this.arriving = head;
      const length = head.contentLength ?? 0;
      if (length > this.options.maxBodyBytes) return this.refuseBody(head);
      if (this.input.bytes < head.size + length) return; // the body is still arriving
      const bytes = this.input.take(head.size + length);
      this.ready.push({ head, body: head.contentLength === null ? null : bytes.subarray(head.size), tooLarge: false, bytes: bytes.length });
      this.readyBytes += bytes.length;
      this.arriving = null;
      this.rescan();
      this.stopRequestTimer();
    }
  }

  /** The head at the start of `input`, if it is whole; a head outside the fast path leaves the rest to Node's server. */
  private readHead(): RequestHead | null {
    const found = this.scan.result;
    if (found.kind === 'incomplete') return null;
    if (found.kind === 'end') {
      const read = parseRequestHead(this.input.front(found.end + 4), found.end);
      if (read.kind === 'head') return read.head;
    }
    this.framing = 'for-node';
    return null;
  }

  /** A new head begins at the start of `input`: scanned up to its end. */
  private rescan(): void {
    this.scan = new RequestHeadScanner(this.options.maxHeadBytes);
    for (const piece of this.input.pieces) {
      this.scan.feed(piece);
      if (this.scan.result.kind === 'end') break;
    }
  }

  /** A body over the limit is answered at once, and the connection closed after it: nothing after its head is used. */
  private refuseBody(head: RequestHead): void {
    this.options.budget.release(this.holder, this.input.bytes);
    this.input.replace([]);
    this.arriving = null;
    this.ready.push({ head, body: null, tooLarge: true, bytes: 0 });
    this.framing = 'discarding';
    this.stopRequestTimer();
  }

  /** Answers the next request read, if the connection is free to. */
  private readonly serveNext = (): void => {
    if (this.shuttingDown || this.current !== null || this.awaitingDrain || this.framing === 'gone' || this.framing === 'handed-off') return;
    const request = this.ready.shift();
    if (request === undefined) return this.idle();
    this.readyBytes -= request.bytes;
    this.options.budget.release(this.holder, request.bytes);
    const { head } = request;
    // A body over the limit was not read: whatever answers it must close, or its bytes would be read as requests.
    const close = head.close || request.tooLarge;
    this.current = new RawExchange(
      this.socket,
      head.method,
      head.target,
      head.authorization,
      head.fields,
      request.body,
      request.tooLarge,
      close,
      this.remote,
      this.answered,
    );
    this.updateReading();
    this.options.dispatch(this.current);
  };

  /** Every request read is answered: hand the rest to Node's server, or time the one arriving. */
  private idle(): void {
    if (this.framing === 'for-node') return this.handOff();
    if (this.input.bytes > 0) this.requestTimer ??= setTimeout(this.onRequestTimeout, this.options.requestTimeoutMs);
  }

  /** The current answer is written: `keepOpen` false when the connection is ending. */
  private readonly answered = (keepOpen: boolean): void => {
    this.current = null;
    if (this.shuttingDown && keepOpen && this.framing !== 'gone') this.socket.end();
    if (!keepOpen || this.framing === 'gone' || this.shuttingDown) return this.close();
    if (this.socket.writableNeedDrain) {
      // A pipelining client that never reads would otherwise have every answer the router gives
      // itself (health, 404, 400…) pile up in memory; stop reading until it takes them. An idle
      // timeout still ends a connection that never does.
      this.awaitingDrain = true;
      this.updateReading();
      this.socket.once('drain', this.onAnswersRead);
      return;
    }
    this.updateReading();
    // The next pipelined request waits a turn of the event loop: an answer the router gives itself
    // comes back synchronously, and thousands of them in one read must not nest on the stack (nor
    // keep other connections waiting).
    if (this.ready.length > 0 || this.input.bytes > 0 || this.framing === 'for-node') setImmediate(this.serveNext);
  };

  private readonly onAnswersRead = (): void => {
    this.awaitingDrain = false;
    if (this.framing === 'gone') return;
    this.updateReading();
    this.serveNext();
  };

  /** Reads the socket unless the client does not read its answers, is too far ahead of them, or the rest is Node's server's. */
  private updateReading(): void {
    if (this.framing === 'gone' || this.framing === 'handed-off') return;
    const bound = this.options.pipelining;
    const ahead =
      this.framing === 'open' && (this.ready.length >= bound.requests || (this.ready.length > 0 && this.readyBytes + this.input.bytes >= bound.bytes));
    if (ahead && !this.limited) this.options.onPipelineLimited();
    this.limited = ahead;
    const stop = ahead || this.awaitingDrain || this.framing === 'for-node';
    if (stop && !this.socket.isPaused()) this.socket.pause();
    else if (!stop && this.socket.isPaused()) this.socket.resume();
  }

  private handOff(): void {
    const socket = this.socket;
    socket.off('data', this.onData);
    socket.off('timeout', this.onTimeout);
    socket.off('close', this.onGone);
    socket.off('error', this.onGone);
    socket.setTimeout(0);
    socket.pause();
    if (this.input.bytes > 0) socket.unshift(this.input.join());
    this.dropInput();
    this.framing = 'handed-off';
    this.options.fallback.emit('connection', socket);
    socket.resume();
  }

  /** Past the router's cap on held bytes, this connection held the most. */
  private evicted(): void {
    if (this.current !== null)
      this.socket.destroy(); // mid-answer: nothing more can be said on this connection
    else this.refuse(routerError('overloaded', { details: 'the router holds too many unfinished requests; retry shortly' }), { 'retry-after': '1' });
  }

  /** Answers from the router itself and closes: the rest of what the client sends is not read. */
  private refuse(answer: RouterErrorAnswer, headers: Record<string, string> = {}): void {
    if (this.framing === 'gone') return;
    this.close();
    turnAway(this.socket, answer.status, answer.body, headers);
  }

  private readonly onRequestTimeout = (): void => {
    this.requestTimer = null;
    if (this.current !== null || this.ready.length > 0 || this.framing === 'gone') return;
    this.refuse(routerError('request_timeout', { details: `the request did not arrive whole within ${this.options.requestTimeoutMs} ms` }));
  };

  private readonly onTimeout = (): void => {
    if (this.current === null) this.socket.destroy();
  };

  private readonly onGone = (): void => {
    this.close();
    this.current?.abandon();
  };

  /** Nothing more is read or answered on this connection. */
  private close(): void {
    this.framing = 'gone';
    this.dropInput();
  }

  private dropInput(): void {
    this.input.replace([]);
    this.scan = new RequestHeadScanner(this.options.maxHeadBytes);
    this.arriving = null;
    this.ready.length = 0;
    this.readyBytes = 0;
    this.options.budget.drop(this.holder);
    this.stopRequestTimer();
  }

  private stopRequestTimer(): void {
    if (this.requestTimer !== null) clearTimeout(this.requestTimer);
    this.requestTimer = null;
  }
}
