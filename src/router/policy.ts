// What the router does with one public request, whichever path read it: the target (refused, the
// router's own /health), whom it is routed for (routing.ts: the path's customer, or in JWT mode the
// token's), the body limit, then for a customer the rate limit, a fence hold, whether the mapping is
// confirmed (confirmation.ts), the customer's cell (mapping row or placement) and its health, and a
// pin when a create succeeds. Answers every refusal
// itself (errors.ts); never lets a request reach a cell unchecked.
import type { Limits } from '../workspace/settings.js';
import type { TokenVerifier } from './auth.js';
import type { MappingConfirmation } from './confirmation.js';
import { type RouterErrorCode, routerError } from './errors.js';
import { BodyTooLarge, type PublicExchange, RouterOverloaded } from './exchange.js';
import type { FenceBook } from './fences.js';
import type { Forward } from './forwarding.js';
import type { MappingTable } from './mapping.js';
import type { RouterMetrics } from './metrics.js';
import { classifyPath } from './paths.js';
import type { PublicRouterHealth } from './protocol.js';
import type { RateLimiter } from './ratelimit.js';
import { type RoutableTarget, type RouteDecision, routeByClaim, routeByPath } from './routing.js';
import type { Upstreams } from './upstreams.js';

export interface RequestPolicyParts {
  limits: Limits;
  mapping: MappingTable;
  upstreams: Upstreams;
  fences: FenceBook;
  /** Past its validUntil the router refuses every customer's request: its mapping may be stale. */
  confirmation: MappingConfirmation;
  limiter: RateLimiter;
  metrics: RouterMetrics;
  /** null: auth "none". */
  verifier: TokenVerifier | null;
  /** The 503 text of the example this mode stands in for (errors.ts unavailableText). */
  unavailableText: string;
  forward: Forward;
  /** Records a new customer's mapping row (the create was answered 201). */
  pin(customerId: string, cellId: string): void;
  health(): PublicRouterHealth;
}

const REFUSED = Symbol('refused');

/**
 * Returns the function that routes one public request and answers it. Long because its short steps
 * (reject, handleCustomer, handleReference, decide, readBody) share the parts and one round-robin turn.
 */
export function createRequestPolicy(parts: RequestPolicyParts): (exchange: PublicExchange) => Promise<void> {
  const { limits, mapping, upstreams, fences, confirmation, limiter, metrics, verifier, forward, pin, health, unavailableText } = parts;
  let referenceTurn = 0;

  /** Answers from the router itself, in the example style; the code is also the metrics' rejection reason. */
  const reject = (
    exchange: PublicExchange,
    code: RouterErrorCode,
    fields: { error?: string; details?: string; cell?: string } = {},
    headers: Record<string, string> = {},
  ): void => {
    metrics.recordRejected(code === 'customer_moving' ? 'fenced' : code, code === 'cell_unavailable' ? fields.cell : undefined);
    const answer = routerError(code, fields);
    exchange.reply(answer.status, answer.body, headers);
  };

  const unavailable = (exchange: PublicExchange, cellId: string, reason: string): void =>
    reject(
      exchange,
      'cell_unavailable',
      { error: unavailableText, details: `cell ${cellId} is unavailable (${reason}); only its customers are affected`, cell: cellId },
      { 'retry-after': '1' },
    );

  const unconfirmed = (exchange: PublicExchange, customerId: string): void =>
    reject(
      exchange,
      'mapping_unconfirmed',
      {
        error: unavailableText,
        details: `this router has not confirmed its customer mapping with the control plane within ${confirmation.bound} ms (routerStaleAfterMs), so it may no longer know which cell serves customer ${customerId}; retry shortly or through another router`,
      },
      { 'retry-after': '1' },
    );

  const handleCustomer = async (customerId: string, isCreate: boolean, exchange: PublicExchange, body: Buffer | null, started: number) => {
    // One wall-clock reading serves the rate limit and the first fence check (read again after a hold).
    let wallNow = Date.now();
    const rate = limiter.take(customerId, wallNow);
    if (!rate.allowed) {
      return reject(
        exchange,
        'rate_limited',
        { details: `customer ${customerId} sent too many requests; retry after ${rate.retryAfterSeconds} s` },
        { 'retry-after': String(rate.retryAfterSeconds) },
      );
    }
    // No await between the fence check and fences.begin: a fence that goes up sees this request.
    while (fences.isFenced(customerId, wallNow)) {
      const outcome = await fences.hold(customerId);
      wallNow = Date.now();
      if (outcome === 'queue-full' || outcome === 'timeout') {
        return reject(
          exchange,
          'customer_moving',
          { error: unavailableText, details: `customer ${customerId} is being moved between cells; retry shortly` },
          { 'retry-after': '1' },
        );
      }
    }
    // After the last await, so a pause anywhere before is seen: one monotonic reading (the wall-clock
    // reading above is shared now, so a request reads the clock as often as before), one comparison.
    if (performance.now() > confirmation.validUntil) return unconfirmed(exchange, customerId);
    const route = mapping.lookup(customerId);
    if (!route) {
      return reject(exchange, 'no_cell', {
        error: unavailableText,
        details: 'no active cell has room for this customer: add a cell ("cellctl create") or raise a capacity',
      });
    }
    const upstream = upstreams.get(route.cellId);
    if (!upstream) return unavailable(exchange, route.cellId, 'not known to the router yet');
    // Why, in words that name no address: the socket error itself is for status and the admin API.
    if (!upstreams.mayTry(upstream))
      return unavailable(exchange, route.cellId, upstream.hung ? 'it does not answer in time' : 'it cannot be reached or fails its health checks');
    fences.begin(customerId);
    // A create the policy placed holds its place while it runs; released just before a 201 pins it.
    const release = isCreate && route.rule === 'placement' ? mapping.reserve(route.cellId) : null;
    let status: number;
    try {
      status = await forward(upstream, exchange, body, started);
    } finally {
      fences.end(customerId);
      release?.();
    }
    if (isCreate && status === 201 && route.rule === 'placement') pin(customerId, route.cellId);
  };

  const handleReference = async (exchange: PublicExchange, body: Buffer | null, started: number) => {
    const healthy = upstreams.all().filter((upstream) => upstreams.mayTry(upstream));
    if (healthy.length === 0) return reject(exchange, 'no_cell', { error: unavailableText, details: 'no healthy cell can answer this request' });
    referenceTurn = (referenceTurn + 1) % healthy.length;
    await forward(healthy[referenceTurn]!, exchange, body, started);
  };

  /**
   * Whom the request is routed for: by its path, or in JWT mode by its token (verified only for a
   * path that can be routed). Synchronous without auth: no extra turn on the hot path.
   */
  const decide = (exchange: PublicExchange, target: RoutableTarget): RouteDecision | Promise<RouteDecision> => {
    if (!verifier || target.kind === 'not-found') return routeByPath(target, exchange.method, exchange.url);
    return verifier.verify(exchange.authorization, Date.now()).then((auth) => routeByClaim(target, auth, exchange.method, exchange.url));
  };

  /** The request body, or REFUSED when the router answered instead (over the body limit or the buffer cap). */
  const readBody = async (exchange: PublicExchange): Promise<Buffer | null | typeof REFUSED> => {
    try {
      return await exchange.body();
    } catch (error) {
      if (error instanceof RouterOverloaded) {
        reject(
          exchange,
          'overloaded',
          { details: 'the router holds too many unfinished requests; retry shortly' },
          { connection: 'close', 'retry-after': '1' },
        );
        return REFUSED;
      }
      if (!(error instanceof BodyTooLarge)) throw error;
      reject(exchange, 'body_too_large', { details: `request body is larger than ${limits.maxBodyBytes} bytes` }, { connection: 'close' });
      return REFUSED;
    }
  };

  const handlePublic = async (exchange: PublicExchange): Promise<void> => {
    const started = performance.now();
    const target = classifyPath(exchange.method, exchange.url);
    if (target.kind === 'bad-path') {
      // Refused, never normalised: the cell's URL parser would resolve it to another path than the one routed.
      return reject(exchange, 'bad_path', { details: `the request target is refused: ${target.reason}; send a plain path such as /api/customers/<id>/...` });
    }
    if (target.kind === 'health') return exchange.reply(200, health());
    const pending = decide(exchange, target);
    const decision = pending instanceof Promise ? await pending : pending;
    if (decision.kind === 'refuse') {
      const headers: Record<string, string> = decision.code === 'unauthorized' ? { 'www-authenticate': 'Bearer' } : {};
      return reject(exchange, decision.code, { error: decision.error, details: decision.details }, headers);
    }
    const body = await readBody(exchange);
    if (body === REFUSED) return;
    if (decision.kind === 'reference') return handleReference(exchange, body, started);
    return handleCustomer(decision.customerId, decision.isCreate, exchange, body, started);
  };

  return handlePublic;
}
