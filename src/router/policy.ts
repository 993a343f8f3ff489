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

/** Returns the function that routes one public request and answers it. */
export function createRequestPolicy(parts: RequestPolicyParts): (exchange: PublicExchange) => Promise<void> {
  return new RequestPolicy(parts).handle;
}

/** One version of the request policy: its parts are fixed (a settings change builds a new one, router.ts). */
class RequestPolicy {
  private readonly parts: RequestPolicyParts;
  /** The healthy cell that answered the last reference request (round robin). */
  private referenceTurn = 0;

  constructor(parts: RequestPolicyParts) {
    this.parts = parts;
  }

  readonly handle = async (exchange: PublicExchange): Promise<void> => {
    const started = performance.now();
    const target = classifyPath(exchange.method, exchange.url);
    if (target.kind === 'bad-path') {
      // Refused, never normalised: the cell's URL parser would resolve it to another path than the one routed.
      return this.reject(exchange, 'bad_path', {
        details: `the request target is refused: ${target.reason}; send a plain path such as /api/customers/<id>/...`,
      });
    }
    if (target.kind === 'health') return exchange.reply(200, this.parts.health());
    const pending = this.decide(exchange, target);
    const decision = pending instanceof Promise ? await pending : pending;
    if (decision.kind === 'refuse') {
      const headers: Record<string, string> = decision.code === 'unauthorized' ? { 'www-authenticate': 'Bearer' } : {};
      return this.reject(exchange, decision.code, { error: decision.error, details: decision.details }, headers);
    }
    const body = await this.readBody(exchange);
    if (body === REFUSED) return;
    if (decision.kind === 'reference') return this.handleReference(exchange, body, started);
    return this.handleCustomer(decision.customerId, decision.isCreate, exchange, body, started);
  };

  /** A customer's request: rate limit, fence hold, confirmed mapping, its cell's health, then the cell; a create placed here is pinned once answered 201. */
  private async handleCustomer(customerId: string, isCreate: boolean, exchange: PublicExchange, body: Buffer | null, started: number): Promise<void> {
    const { mapping, upstreams, fences, confirmation, forward } = this.parts;
    // One wall-clock reading serves the rate limit and the first fence check (read again after a hold).
    let wallNow = Date.now();
    if (!this.withinRate(customerId, exchange, wallNow)) return;
    // No await between the last fence check and fences.begin: a fence that goes up sees this request.
    while (fences.isFenced(customerId, wallNow)) {
      if (!(await this.held(customerId, exchange))) return;
      wallNow = Date.now();
    }
    // After the last await, so a pause anywhere before is seen: one monotonic reading, one comparison.
    if (performance.now() > confirmation.validUntil) return this.unconfirmed(exchange, customerId);
    const route = mapping.lookup(customerId);
    if (!route) {
      return this.reject(exchange, 'no_cell', {
        error: this.parts.unavailableText,
        details: 'no active cell has room for this customer: add a cell ("cellctl create") or raise a capacity',
      });
    }
    const upstream = upstreams.get(route.cellId);
    if (!upstream) return this.unavailable(exchange, route.cellId, 'not known to the router yet');
    // Why, in words that name no address: the socket error itself is for status and the admin API.
    if (!upstreams.mayTry(upstream))
      return this.unavailable(exchange, route.cellId, upstream.hung ? 'it does not answer in time' : 'it cannot be reached or fails its health checks');
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
    if (isCreate && status === 201 && route.rule === 'placement') this.parts.pin(customerId, route.cellId);
  }

  /** False when the customer sent too many requests (answered here). */
  private withinRate(customerId: string, exchange: PublicExchange, wallNow: number): boolean {
    const rate = this.parts.limiter.take(customerId, wallNow);
    if (rate.allowed) return true;
    this.reject(
      exchange,
      'rate_limited',
      { details: `customer ${customerId} sent too many requests; retry after ${rate.retryAfterSeconds} s` },
      { 'retry-after': String(rate.retryAfterSeconds) },
    );
    return false;
  }

  /** Holds the request while its customer's fence stands; false when it was refused instead (the hold's queue full or its time up). */
  private async held(customerId: string, exchange: PublicExchange): Promise<boolean> {
    const outcome = await this.parts.fences.hold(customerId);
    if (outcome !== 'queue-full' && outcome !== 'timeout') return true;
    this.reject(
      exchange,
      'customer_moving',
      { error: this.parts.unavailableText, details: `customer ${customerId} is being moved between cells; retry shortly` },
      { 'retry-after': '1' },
    );
    return false;
  }

  private async handleReference(exchange: PublicExchange, body: Buffer | null, started: number): Promise<void> {
    const { upstreams, forward } = this.parts;
    const healthy = upstreams.all().filter((upstream) => upstreams.mayTry(upstream));
    if (healthy.length === 0)
      return this.reject(exchange, 'no_cell', { error: this.parts.unavailableText, details: 'no healthy cell can answer this request' });
    this.referenceTurn = (this.referenceTurn + 1) % healthy.length;
    await forward(healthy[this.referenceTurn]!, exchange, body, started);
  }

  /**
   * Whom the request is routed for: by its path, or in JWT mode by its token (verified only for a
   * path that can be routed). Synchronous without auth: no extra turn on the hot path.
   */
  private decide(exchange: PublicExchange, target: RoutableTarget): RouteDecision | Promise<RouteDecision> {
    const { verifier } = this.parts;
    if (!verifier || target.kind === 'not-found') return routeByPath(target, exchange.method, exchange.url);
    return verifier.verify(exchange.authorization, Date.now()).then((auth) => routeByClaim(target, auth, exchange.method, exchange.url));
  }

  /** The request body, or REFUSED when the router answered instead (over the body limit or the buffer cap). */
  private async readBody(exchange: PublicExchange): Promise<Buffer | null | typeof REFUSED> {
    try {
      return await exchange.body();
    } catch (error) {
      if (error instanceof RouterOverloaded) {
        this.reject(
          exchange,
          'overloaded',
          { details: 'the router holds too many unfinished requests; retry shortly' },
          { connection: 'close', 'retry-after': '1' },
        );
        return REFUSED;
      }
      if (!(error instanceof BodyTooLarge)) throw error;
      this.reject(exchange, 'body_too_large', { details: `request body is larger than ${this.parts.limits.maxBodyBytes} bytes` }, { connection: 'close' });
      return REFUSED;
    }
  }

  /** Answers from the router itself, in the example style; the code is also the metrics' rejection reason. */
  private reject(
    exchange: PublicExchange,
    code: RouterErrorCode,
    fields: { error?: string; details?: string; cell?: string } = {},
    headers: Record<string, string> = {},
  ): void {
    this.parts.metrics.recordRejected(code === 'customer_moving' ? 'fenced' : code, code === 'cell_unavailable' ? fields.cell : undefined);
    const answer = routerError(code, fields);
    exchange.reply(answer.status, answer.body, headers);
  }

  private unavailable(exchange: PublicExchange, cellId: string, reason: string): void {
    this.reject(
      exchange,
      'cell_unavailable',
      { error: this.parts.unavailableText, details: `cell ${cellId} is unavailable (${reason}); only its customers are affected`, cell: cellId },
      { 'retry-after': '1' },
    );
  }

  private unconfirmed(exchange: PublicExchange, customerId: string): void {
    this.reject(
      exchange,
      'mapping_unconfirmed',
      {
        error: this.parts.unavailableText,
        details: `this router has not confirmed its customer mapping with the control plane within ${this.parts.confirmation.bound} ms (routerStaleAfterMs), so it may no longer know which cell serves customer ${customerId}; retry shortly or through another router`,
      },
      { 'retry-after': '1' },
    );
  }
}
