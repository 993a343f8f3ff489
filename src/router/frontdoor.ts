// The router's public connections. Each keep-alive connection is read at the byte level: requests in
// the plain form (http1.ts) are routed from here, one at a time and in order, so pipelined requests
// get their answers in order. At the first request outside that form the connection is handed, with
// every byte not yet used, to Node's HTTP server, which serves it from then on. A head is scanned as
// its pieces arrive, each byte once, and joined once it is whole.
import type http from 'node:http';
import type net from 'node:net';
import type { InputBudget, InputHolder } from './budget.js';
import { type RouterErrorAnswer, routerError } from './errors.js';
import { jsonAnswer, type PublicExchange, RawExchange } from './exchange.js';
import { parseRequestHead, RequestHeadScanner } from './http1.js';
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
}

export interface Connection {
  /** Closes the connection now if it is idle, or once its current answer is out. */
  shutdown(): void;
  /** Whether the router stopped reading it because the client does not read its answers. */
  unread(): boolean;
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

// Long because it is one connection's state machine: the read buffer, the request in progress and the
// answer queue are this closure's variables, shared by its short handlers; split, they would become a
// state object threaded through every call on the hot path.
export function serveConnection(socket: net.Socket, options: FrontDoorOptions): Connection {
  const remote = socket.remoteAddress ?? '';
  const budget = options.budget;
  /**
   * Bytes read and not yet used, in arrival order. They are joined into one buffer only once a head
   * has ended or a body is whole, so a request that arrives in many pieces is copied once, not once
   * per piece.
   */
  const parts = new InputPieces();
  /** The head scan of exactly the bytes in `parts`: each piece is fed to it once, as it arrives. */
  let scan = new RequestHeadScanner(options.maxHeadBytes);
  /** Bytes (head and body) the request now arriving needs before it can be routed; 0 until its head is read. */
  let needed = 0;
  let busy = false;
  let gone = false;
  let shuttingDown = false;
  let handedOff = false;
  let requestTimer: NodeJS.Timeout | null = null;
  /** Past this much unread input from a client that is still waiting for an answer, stop reading. */
  const readAhead = options.maxHeadBytes + options.maxBodyBytes;
  const holder: InputHolder = {
    held: 0,
    evict: () => {
      if (busy)
        socket.destroy(); // mid-answer: nothing more can be said on this connection
      else refuse(routerError('overloaded', { details: 'the router holds too many unfinished requests; retry shortly' }), { 'retry-after': '1' });
    },
  };

  /** The bytes not yet used are now `rest`: a new head begins there. */
  const keepInput = (rest: Buffer[]) => {
    parts.replace(rest);
    scan = new RequestHeadScanner(options.maxHeadBytes);
    for (const part of rest) scan.feed(part);
  };
  const dropInput = () => {
    keepInput([]);
    needed = 0;
    budget.drop(holder);
    if (requestTimer !== null) clearTimeout(requestTimer);
    requestTimer = null;
  };
  /** Answers from the router itself and closes: the rest of what the client sends is not read. */
  const refuse = (answer: RouterErrorAnswer, headers: Record<string, string> = {}) => {
    if (gone) return;
    gone = true;
    dropInput();
    turnAway(socket, answer.status, answer.body, headers);
  };
  const onRequestTimeout = () => {
    requestTimer = null;
    if (busy || gone) return;
    refuse(routerError('request_timeout', { details: `the request did not arrive whole within ${options.requestTimeoutMs} ms` }));
  };
  /** The request now arriving is incomplete: its time runs from its first byte. */
  const awaitRest = () => {
    requestTimer ??= setTimeout(onRequestTimeout, options.requestTimeoutMs);
  };

  const onData = (chunk: Buffer) => {
    if (gone) return; // closing: what the client still sends (the rest of a refused body) is not read
    parts.push(chunk);
    scan.feed(chunk);
    if (!budget.take(holder, chunk.length)) return; // this connection was refused to keep the cap
    if (busy) {
      if (parts.bytes > readAhead) socket.pause();
    } else if (parts.bytes >= needed) next();
  };
  const onTimeout = () => {
    if (!busy) socket.destroy();
  };
  let current: RawExchange | null = null;
  const onGone = () => {
    gone = true;
    dropInput();
    current?.abandon();
  };
  socket.setNoDelay(true);
  socket.setTimeout(options.idleTimeoutMs);
  socket.on('data', onData);
  socket.on('timeout', onTimeout);
  socket.on('close', onGone);
  socket.on('error', onGone);

  const handOff = () => {
    socket.off('data', onData);
    socket.off('timeout', onTimeout);
    socket.off('close', onGone);
    socket.off('error', onGone);
    socket.setTimeout(0);
    socket.pause();
    if (parts.bytes > 0) socket.unshift(parts.join());
    dropInput();
    options.fallback.emit('connection', socket);
    socket.resume();
    handedOff = true;
  };

  /** The client is not reading its answers: no request is read or answered until it does. */
  let awaitingDrain = false;
  const onAnswersRead = () => {
    awaitingDrain = false;
    if (gone) return;
    socket.resume();
    if (parts.bytes > 0) next();
  };

  const done = (keepOpen: boolean) => {
    busy = false;
    current = null;
    if (shuttingDown && keepOpen && !gone) socket.end();
    if (!keepOpen || gone || shuttingDown) {
      gone = true;
      dropInput();
      return;
    }
    if (socket.writableNeedDrain) {
      // A pipelining client that never reads would otherwise have every answer the router gives
      // itself (health, 404, 400…) pile up in memory; stop reading until it takes them. An idle
      // timeout still ends a connection that never does.
      awaitingDrain = true;
      socket.pause();
      socket.once('drain', onAnswersRead);
      return;
    }
    if (socket.isPaused()) socket.resume();
    // The next pipelined request waits a turn of the event loop: an answer the router gives itself
    // comes back synchronously, and thousands of them in one read must not nest on the stack (nor
    // keep other connections waiting).
    if (parts.bytes > 0) setImmediate(next);
  };

  function next(): void {
    if (shuttingDown || busy || gone || awaitingDrain || parts.bytes === 0) return;
    const found = scan.result;
    if (found.kind === 'incomplete') return awaitRest();
    if (found.kind === 'handoff') return handOff();
    const data = parts.join();
    const read = parseRequestHead(data, found.end);
    if (read.kind !== 'head') return handOff();
    const head = read.head;
    const length = head.contentLength ?? 0;
    const tooLarge = length > options.maxBodyBytes;
    if (!tooLarge && data.length < head.size + length) {
      needed = head.size + length; // the body is still arriving
      return awaitRest();
    }
    needed = 0;
    if (requestTimer !== null) clearTimeout(requestTimer);
    requestTimer = null;
    let body: Buffer | null = null;
    // A body over the limit is answered at once, and the connection closed: nothing after it is used.
    const used = tooLarge ? data.length : head.size + length;
    if (!tooLarge && head.contentLength !== null) body = data.subarray(head.size, used);
    keepInput(used < data.length ? [data.subarray(used)] : []);
    budget.release(holder, used);
    busy = true;
    // A body over the limit was not read: whatever answers it must close, or its bytes would be read as requests.
    current = new RawExchange(socket, head.method, head.target, head.authorization, head.fields, body, tooLarge, head.close || tooLarge, remote, done);
    options.dispatch(current);
  }

  return {
    unread: () => awaitingDrain,
    shutdown() {
      shuttingDown = true;
      if (handedOff) return; // Node's server closes its own connections
      if (!busy) socket.destroy();
    },
  };
}
