// The small JSON-over-HTTP layer the built-in cells and the supervisor's control API share: a route
// table, JSON bodies with a size limit, and one error type that becomes a JSON error answer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { HTTP_ERRORS, type HttpErrorCode } from './error-codes.js';
import { formatIssues } from './validation.js';

/** An expected error answer: `code` is one of the catalogue's (shared/error-codes.ts), `status` one it lists for the code. */
/** An error answer: its code names it, and the catalogue (shared/error-codes.ts) fixes its status, unless one of the code's other statuses is given. */
export class HttpError extends Error {
  readonly status: number;

  constructor(
    readonly code: HttpErrorCode,
    message: string,
    status?: number,
  ) {
    super(message);
    this.status = status ?? HTTP_ERRORS[code].status;
  }
}

export interface Reply {
  status: number;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is, for the few answers that are not JSON (Prometheus text). */
  text?: string;
  headers?: Record<string, string>;
}

export interface RequestContext {
  params: Record<string, string>;
  query: URLSearchParams;
  req: IncomingMessage;
  body: () => Promise<unknown>;
}

export type RouteHandler = (ctx: RequestContext) => Reply | Promise<Reply>;

export interface RouteDef {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  handler: RouteHandler;
}

interface CompiledRoute extends RouteDef {
  pattern: RegExp;
  keys: string[];
}

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * How a listener runs its handlers against a store that may be busy, and answers the errors that
 * store raises itself (shared/sqlite-requests.ts is SQLite's). Without one, handlers run once and
 * any error that is not an HttpError is a 500.
 */
export interface StorePolicy {
  run(handler: () => Reply | Promise<Reply>, onFirstBusy: () => void): Promise<Reply>;
  /** The answer to an error the store raised for a request with these path parameters, or null for one it does not know. */
  answer(error: unknown, params: Record<string, string>): { status: number; body: Record<string, unknown>; headers: Record<string, string> } | null;
}

const NO_STORE: StorePolicy = { run: async (handler) => handler(), answer: () => null };

function compile(route: RouteDef): CompiledRoute {
  const keys: string[] = [];
  const source = route.path
    .split('/')
    .map((part) => {
      if (!part.startsWith(':')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      keys.push(part.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { ...route, keys, pattern: new RegExp(`^${source}/?$`) };
}

/**
 * A request body of at most `limit` bytes; one over it is refused with 413 `body_too_large`. The
 * refusal waits for the body's end (its bytes are dropped, not kept) so that the answer, and the
 * close that follows it, reach the client cleanly: closing while the client still sends makes its
 * side see a reset, which can discard the answer. A body over twice the limit is not waited for.
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = () =>
      new HttpError('body_too_large', `request body is larger than ${limit} bytes, this API's limit: send a smaller body (fewer items per request)`);
    let chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > 2 * limit) reject(tooLarge());
      else chunks = [];
    });
    req.on('end', () => (size > limit ? reject(tooLarge()) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const raw = await readBody(req, limit);
  if (raw.length === 0) throw new HttpError('invalid_body', 'request body is empty: send a JSON object');
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError('invalid_body', 'request body is not valid JSON');
  }
}

/** Parses a body with a zod schema; a mismatch is a 400 that names the field. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HttpError('invalid_body', formatIssues(parsed.error));
  return parsed.data;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

/** An error answer `{"error": message, "code": code}` with the status the catalogue gives `code`. */
export function sendError(res: ServerResponse, code: HttpErrorCode, message: string, extra: Record<string, unknown> = {}): void {
  sendJson(res, HTTP_ERRORS[code].status, { error: message, code, ...extra });
}

function sendReply(res: ServerResponse, reply: Reply): void {
  if (reply.text === undefined) {
    sendJson(res, reply.status, reply.body, reply.headers);
    return;
  }
  res.writeHead(reply.status, { 'content-length': Buffer.byteLength(reply.text), ...reply.headers });
  res.end(reply.text);
}

/** Headers an error answer carries: when to retry, or that the connection ends with it. */
const ERROR_HEADERS: Partial<Record<HttpErrorCode, Record<string, string>>> = {
  database_busy: { 'retry-after': '1' },
  body_too_large: { connection: 'close' },
};

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export interface ListenerOptions {
  onError: (error: unknown) => void;
  /** Hears of each request that found its store busy and waits for it. */
  onBusy?: (req: IncomingMessage) => void;
  maxBodyBytes?: number;
  store?: StorePolicy;
}

/** Builds a request listener from routes; unknown paths are 404, known paths with another method 405. */
export function createRequestListener(routes: RouteDef[], options: ListenerOptions): RequestListener {
  const { onError, onBusy = () => {}, maxBodyBytes = MAX_BODY_BYTES, store = NO_STORE } = options;
  const compiled = routes.map(compile);
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://cell');
    // HEAD is GET without the body (Node's response leaves it out), as Flask answers it.
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    let pathMatched = false;
    for (const route of compiled) {
      const match = route.pattern.exec(url.pathname);
      if (!match) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      const params: Record<string, string> = {};
      try {
        route.keys.forEach((key, index) => (params[key] = decodeURIComponent(match[index + 1] ?? '')));
      } catch {
        req.resume();
        return sendError(res, 'bad_path', 'Malformed percent-escape in the path');
      }
      let body: Promise<unknown> | undefined;
      const ctx: RequestContext = { params, query: url.searchParams, req, body: () => (body ??= readJson(req, maxBodyBytes)) };
      store
        .run(
          () => route.handler(ctx),
          () => onBusy(req),
        )
        .then((reply) => sendReply(res, reply))
        .catch((error: unknown) => {
          const stored = error instanceof HttpError ? null : store.answer(error, params);
          if (error instanceof HttpError) {
            sendJson(res, error.status, { error: error.message, code: error.code }, ERROR_HEADERS[error.code] ?? {});
          } else if (stored) {
            sendJson(res, stored.status, stored.body, stored.headers);
          } else {
            onError(error);
            if (!res.headersSent) sendError(res, 'internal', 'Internal error; see the log');
          }
        });
      return;
    }
    req.resume();
    if (!pathMatched) return sendError(res, 'not_found', `No route ${req.method} ${url.pathname}`);
    // Every 405 says which methods the path takes (looked up only for a 405, off the request path).
    const allowed = new Set<string>(compiled.filter((route) => route.pattern.test(url.pathname)).map((route) => route.method));
    if (allowed.has('GET')) allowed.add('HEAD');
    sendJson(
      res,
      HTTP_ERRORS.method_not_allowed.status,
      { error: `${req.method} is not allowed on ${url.pathname}`, code: 'method_not_allowed' },
      { allow: [...allowed].sort().join(', ') },
    );
  };
}
