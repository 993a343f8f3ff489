// What the router does with one public request, whichever path read it: the target (refused, the
// router's own /health, a reference path, or a customer's), JWT, the body limit, then for a customer
// the rate limit, a fence hold, the customer's cell (mapping row or placement) and its health, and a
// pin when a create succeeds. Answers every refusal itself; never lets a request reach a cell unchecked.
import type { Limits } from '../workspace/settings.js';
import type { TokenVerifier } from './auth.js';
import { BodyTooLarge, type PublicExchange, RouterOverloaded } from './exchange.js';
import type { FenceBook } from './fences.js';
import type { Forward } from './forwarding.js';
import type { MappingTable } from './mapping.js';
import type { RouterMetrics } from './metrics.js';
import { classifyPath } from './paths.js';
import type { RouterHealth } from './protocol.js';
import type { RateLimiter } from './ratelimit.js';
import type { Upstreams } from './upstreams.js';

export interface RequestPolicyParts {
  limits: Limits;
  mapping: MappingTable;
  upstreams: Upstreams;
  fences: FenceBook;
  limiter: RateLimiter;
  metrics: RouterMetrics;
  /** null: auth "none". */
  verifier: TokenVerifier | null;
  forward: Forward;
  /** Records a new customer's mapping row (the create was answered 201). */
  pin(customerId: string, cellId: string): void;
  health(): RouterHealth;
}

const REFUSED = Symbol('refused');

/** Returns the function that routes one public request and answers it. */
export function createRequestPolicy(parts: RequestPolicyParts): (exchange: PublicExchange) => Promise<void> {
  const { limits, mapping, upstreams, fences, limiter, metrics, verifier, forward, pin, health } = parts;
  let referenceTurn = 0;

  const reject = (exchange: PublicExchange, status: number, error: string, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): void =>
    exchange.reply(status, { error, message, ...extra }, headers);

  const unavailable = (exchange: PublicExchange, cellId: string, reason: string): void => {
    metrics.recordRejected('cell_unavailable', cellId);
    reject(exchange, 503, 'cell_unavailable', `cell ${cellId} is unavailable (${reason}); only its customers are affected`, { cell: cellId }, { 'retry-after': '1' });
  };

  const handleCustomer = async (customerId: string, isCreate: boolean, exchange: PublicExchange, body: Buffer | null, started: number) => {
    const rate = limiter.take(customerId, Date.now());
    if (!rate.allowed) {
      metrics.recordRejected('rate_limited');
      return reject(exchange, 429, 'rate_limited', `customer ${customerId} sent too many requests; retry after ${rate.retryAfterSeconds} s`, {}, { 'retry-after': String(rate.retryAfterSeconds) });
    }
    // No await between the fence check and fences.begin: a fence that goes up sees this request.
    while (fences.isFenced(customerId, Date.now())) {
      const outcome = await fences.hold(customerId);
      if (outcome === 'queue-full' || outcome === 'timeout') {
        metrics.recordRejected('fenced');
        return reject(exchange, 503, 'customer_moving', `customer ${customerId} is being moved between cells; retry shortly`, {}, { 'retry-after': '1' });
      }
    }
    const route = mapping.lookup(customerId);
    if (!route) {
      metrics.recordRejected('no_cell');
      return reject(exchange, 503, 'no_cell', 'no active cell has room for this customer: add a cell ("cellctl create") or raise a capacity');
    }
    const upstream = upstreams.get(route.cellId);
    if (!upstream) return unavailable(exchange, route.cellId, 'not known to the router yet');
    if (!upstreams.mayTry(upstream)) return unavailable(exchange, route.cellId, upstream.lastError ?? 'failing health checks');
    fences.begin(customerId);
    let status: number;
    try {
      status = await forward(upstream, exchange, body, started);
    } finally {
      fences.end(customerId);
    }
    if (isCreate && status === 201 && route.rule === 'placement') pin(customerId, route.cellId);
  };

  const handleReference = async (exchange: PublicExchange, body: Buffer | null, started: number) => {
    const healthy = upstreams.all().filter((upstream) => upstreams.mayTry(upstream));
    if (healthy.length === 0) {
      metrics.recordRejected('no_cell');
      return reject(exchange, 503, 'no_cell', 'no healthy cell can answer this request');
    }
    referenceTurn = (referenceTurn + 1) % healthy.length;
    await forward(healthy[referenceTurn]!, exchange, body, started);
  };

  /** JWT mode: a valid token, and for a customer's path that customer's. Answers 401/403 itself and returns false. */
  const admitToken = async (exchange: PublicExchange, customerId: string | null): Promise<boolean> => {
    const auth = await verifier!.verify(exchange.authorization, Date.now());
    if (!auth.ok) {
      metrics.recordRejected('unauthorized');
      reject(exchange, 401, 'unauthorized', auth.message, {}, { 'www-authenticate': 'Bearer' });
      return false;
    }
    if (customerId !== null && auth.customerId !== customerId) {
      metrics.recordRejected('forbidden');
      reject(exchange, 403, 'forbidden', 'this token is for another customer');
      return false;
    }
    return true;
  };

  /** The request body, or REFUSED when the router answered instead (over the body limit or the buffer cap). */
  const readBody = async (exchange: PublicExchange): Promise<Buffer | null | typeof REFUSED> => {
    try {
      return await exchange.body();
    } catch (error) {
      if (error instanceof RouterOverloaded) {
        metrics.recordRejected('overloaded');
        reject(exchange, 503, 'overloaded', 'the router holds too many unfinished requests; retry shortly', {}, { connection: 'close', 'retry-after': '1' });
        return REFUSED;
      }
      if (!(error instanceof BodyTooLarge)) throw error;
      metrics.recordRejected('body_too_large');
      reject(exchange, 413, 'body_too_large', `request body is larger than ${limits.maxBodyBytes} bytes`, {}, { connection: 'close' });
      return REFUSED;
    }
  };

  const handlePublic = async (exchange: PublicExchange): Promise<void> => {
    const started = performance.now();
    const target = classifyPath(exchange.method, exchange.url);
    if (target.kind === 'bad-path') {
      // Refused, never normalised: the cell's URL parser would resolve it to another path than the one routed.
      metrics.recordRejected('bad_path');
      return reject(exchange, 400, 'bad_path', `the request target is refused: ${target.reason}; send a plain path such as /api/customers/<id>/...`);
    }
    if (target.kind === 'health') return exchange.reply(200, health());
    if (target.kind === 'not-found') {
      metrics.recordRejected('not_found');
      return reject(exchange, 404, 'not_found', `the router has no route for ${exchange.method} ${exchange.url}; customer requests go to /api/customers/<id>/...`);
    }
    if (target.kind === 'bad-customer-id') {
      metrics.recordRejected('bad_customer_id');
      return reject(exchange, 400, 'bad_customer_id', 'customer ids are 1-64 characters from A-Z, a-z, 0-9, "_" and "-"');
    }
    if (verifier && !(await admitToken(exchange, target.kind === 'customer' ? target.customerId : null))) return;
    const body = await readBody(exchange);
    if (body === REFUSED) return;
    if (target.kind === 'reference') return handleReference(exchange, body, started);
    return handleCustomer(target.customerId, target.isCreate, exchange, body, started);
  };

  return handlePublic;
}
