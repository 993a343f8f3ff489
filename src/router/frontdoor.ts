// The router's public connections. Each keep-alive connection is read at the byte level: requests in
// the plain form (readRequestHead) are routed from here, one at a time and in order, so pipelined
// requests get their answers in order. At the first request outside that form the connection is
// handed, with every byte not yet used, to Node's HTTP server, which serves it from then on.
import type http from 'node:http';
import type net from 'node:net';
import { type PublicExchange, RawExchange } from './exchange.js';
import { readRequestHead } from './http1.js';

/** The longest a client may take to send one request head. */
const HEAD_TIMEOUT_MS = 60_000;

export interface FrontDoorOptions {
  /** Routes one request and answers it through the exchange; never throws. */
  dispatch(exchange: PublicExchange): void;
  /** Node's server for the requests outside the fast path. */
  fallback: http.Server;
  maxHeadBytes: number;
  maxBodyBytes: number;
  /** How long an idle keep-alive connection is kept. */
  idleTimeoutMs: number;
}

export interface Connection {
  /** Closes the connection now if it is idle, or once its current answer is out. */
  shutdown(): void;
}

export function serveConnection(socket: net.Socket, options: FrontDoorOptions): Connection {
  const remote = socket.remoteAddress ?? '';
  let buffered: Buffer | null = null;
  let busy = false;
  let gone = false;
  let shuttingDown = false;
  let handedOff = false;
  /** When the head now arriving began to arrive (0: none is arriving). */
  let headSince = 0;
  /** Past this much unread input from a client that is still waiting for an answer, stop reading. */
  const readAhead = options.maxHeadBytes + options.maxBodyBytes;

  const onData = (chunk: Buffer) => {
    if (gone) return; // closing: what the client still sends (the rest of a refused body) is not read
    buffered = buffered === null ? chunk : Buffer.concat([buffered, chunk]);
    if (!busy) next();
    else if (buffered.length > readAhead) socket.pause();
  };
  const onTimeout = () => {
    if (!busy) socket.destroy();
  };
  let current: RawExchange | null = null;
  const onGone = () => {
    gone = true;
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
    if (buffered !== null) socket.unshift(buffered);
    buffered = null;
    options.fallback.emit('connection', socket);
    socket.resume();
    handedOff = true;
  };

  const done = (keepOpen: boolean) => {
    busy = false;
    current = null;
    if (shuttingDown && keepOpen && !gone) socket.end();
    if (!keepOpen || gone || shuttingDown) {
      gone = true;
      buffered = null;
      return;
    }
    if (socket.isPaused()) socket.resume();
    // The next pipelined request waits a turn of the event loop: an answer the router gives itself
    // comes back synchronously, and thousands of them in one read must not nest on the stack (nor
    // keep other connections waiting).
    if (buffered !== null) setImmediate(next);
  };

  function next(): void {
    if (shuttingDown || busy || gone || buffered === null) return;
    const read = readRequestHead(buffered, options.maxHeadBytes);
    if (read.kind === 'incomplete') {
      // A head that trickles in (slowloris) gets HEAD_TIMEOUT_MS in all, like Node's headersTimeout.
      const now = Date.now();
      if (headSince === 0) headSince = now;
      else if (now - headSince > HEAD_TIMEOUT_MS) socket.destroy();
      return;
    }
    headSince = 0;
    if (read.kind === 'handoff') return handOff();
    const head = read.head;
    const length = head.contentLength ?? 0;
    const tooLarge = length > options.maxBodyBytes;
    if (!tooLarge && buffered.length < head.size + length) return; // the body is still arriving
    let body: Buffer | null = null;
    if (tooLarge) buffered = null; // answered at once, and the connection closed
    else {
      if (head.contentLength !== null) body = buffered.subarray(head.size, head.size + length);
      buffered = buffered.length > head.size + length ? buffered.subarray(head.size + length) : null;
    }
    busy = true;
    current = new RawExchange(socket, head.method, head.target, head.authorization, head.fields, body, tooLarge, head.close, remote, done);
    options.dispatch(current);
  }

  return {
    shutdown() {
      shuttingDown = true;
      if (handedOff) return; // Node's server closes its own connections
      if (!busy) socket.destroy();
    },
  };
}
