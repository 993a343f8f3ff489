// Whom the router routes a request for, and how it says no: the Authorization header as the
// intermediate example's router reads it, routing by the token's claim (JWT mode) or by the path,
// the error catalogue, the per-window rate limit and its setting.
import { describe, expect, it } from 'vitest';
import { type AuthResult, tokenFrom } from '../../src/router/auth.js';
import { ROUTER_ERRORS, routerError, unavailableText } from '../../src/router/errors.js';
import { classifyPath } from '../../src/router/paths.js';
import { RateLimiter } from '../../src/router/ratelimit.js';
import { type RoutableTarget, routeByClaim, routeByPath } from '../../src/router/routing.js';
import { formatIssues } from '../../src/shared/validation.js';
import { defaultSettings, settingsSchema } from '../../src/workspace/settings.js';

const target = (method: string, url: string) => classifyPath(method, url) as RoutableTarget;
const alice: AuthResult = { kind: 'ok', customerId: 'alice' };
const byClaim = (method: string, url: string, auth: AuthResult = alice) => routeByClaim(target(method, url), auth, method, url);

describe('the Authorization header', () => {
  it.each([
    [undefined, null],
    ['', null],
    ['   ', null],
    ['Bearer ', null],
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc.def.ghi', 'abc.def.ghi'],
    ['abc.def.ghi', 'abc.def.ghi'],
    ['  Bearer   abc.def.ghi ', 'abc.def.ghi'],
  ])('%j carries the token %j', (header, token) => expect(tokenFrom(header)).toBe(token));
});

describe('JWT mode: every /api path is routed for the token customer', () => {
  it.each([
    ['GET', '/api/cart'],
    ['POST', '/api/cart/items'],
    ['GET', '/api/orders?limit=5'],
    ['GET', '/api/products'],
    ['GET', '/api/products/sku-1'],
    ['GET', '/api/customers'],
  ])('%s %s goes to the claim customer, not as a create', (method, url) => {
    expect(byClaim(method, url)).toEqual({ kind: 'customer', customerId: 'alice', isCreate: false });
  });

  it('a path that names the claim customer keeps its create flag', () => {
    expect(byClaim('POST', '/api/customers/alice')).toEqual({ kind: 'customer', customerId: 'alice', isCreate: true });
    expect(byClaim('GET', '/api/customers/alice/cart')).toEqual({ kind: 'customer', customerId: 'alice', isCreate: false });
  });

  it('a path that names another customer is forbidden', () => {
    expect(byClaim('GET', '/api/customers/bob/cart')).toMatchObject({ kind: 'refuse', code: 'forbidden' });
  });

  it.each([
    [{ kind: 'no-token' }, 'unauthorized', 'No authorization token provided'],
    [{ kind: 'invalid', reason: 'signature verification failed' }, 'unauthorized', 'Invalid token'],
    [{ kind: 'no-claim' }, 'no_customer_claim', 'Customer ID not found in token'],
  ] as const)('%j is refused with %s and the example text', (auth, code, text) => {
    const decision = byClaim('GET', '/api/cart', auth);
    expect(decision).toMatchObject({ kind: 'refuse', code });
    if (decision.kind === 'refuse') expect(routerError(decision.code, { error: decision.error })).toMatchObject({ body: { error: text, code } });
  });

  it('a claim that cannot be a customer id is refused, a malformed path id too', () => {
    expect(byClaim('GET', '/api/cart', { kind: 'ok', customerId: 'a/b' })).toMatchObject({ kind: 'refuse', code: 'bad_customer_id' });
    expect(byClaim('GET', '/api/customers/a%20b')).toMatchObject({ kind: 'refuse', code: 'bad_customer_id' });
  });

  it('paths outside /api are not found, with a token or without', () => {
    expect(byClaim('GET', '/nope')).toMatchObject({ kind: 'refuse', code: 'not_found' });
    expect(byClaim('GET', '/api/', { kind: 'no-token' })).toMatchObject({ kind: 'refuse', code: 'not_found' });
  });
});

describe('no auth: the path names the customer', () => {
  it.each([
    ['GET', '/api/customers/alice', { kind: 'customer', customerId: 'alice', isCreate: false }],
    ['GET', '/api/products', { kind: 'reference' }],
    ['GET', '/api/cart', { kind: 'refuse', code: 'not_found' }],
    ['GET', '/api/customers/a%20b', { kind: 'refuse', code: 'bad_customer_id' }],
  ])('%s %s', (method, url, expected) => expect(routeByPath(target(method, url), method, url)).toMatchObject(expected));
});

describe('the router error catalogue', () => {
  it('answers {error: text, code} with the stable codes scripts read', () => {
    expect(Object.keys(ROUTER_ERRORS).sort()).toEqual(
      [
        'bad_customer_id',
        'bad_path',
        'body_too_large',
        'cell_connection_lost',
        'cell_timeout',
        'cell_unavailable',
        'customer_moving',
        'forbidden',
        'internal',
        'mapping_unconfirmed',
        'no_cell',
        'no_customer_claim',
        'not_found',
        'overloaded',
        'rate_limited',
        'request_timeout',
        'too_many_connections',
        'unauthorized',
      ].sort(),
    );
    expect(routerError('rate_limited')).toEqual({ status: 429, body: { error: 'Rate limit exceeded', code: 'rate_limited' } });
    expect(routerError('cell_unavailable', { error: unavailableText('jwt'), details: 'refused', cell: 'c1' })).toEqual({
      status: 503,
      body: { error: 'Service unavailable', code: 'cell_unavailable', details: 'refused', cell: 'c1' },
    });
    expect(unavailableText('none')).toBe('Cell unavailable');
  });
});

describe('the per-customer rate limit', () => {
  it("allows 100 requests per customer in any 60 s by default, the example's sliding window", () => {
    const { requests, windowSeconds } = defaultSettings(8000).limits.rateLimit;
    expect({ requests, windowSeconds }).toEqual({ requests: 100, windowSeconds: 60 });
    const limiter = RateLimiter.perWindow(requests, windowSeconds);
    const first = Array.from({ length: 100 }, () => limiter.take('a', 0).allowed);
    expect(first.every(Boolean)).toBe(true);
    expect(limiter.take('a', 0)).toEqual({ allowed: false, retryAfterSeconds: 60 });
    expect(limiter.take('b', 0).allowed).toBe(true);
    expect(limiter.take('a', 30_000).allowed).toBe(false);
    expect(limiter.take('a', 60_000).allowed).toBe(true);
  });

  it('an old cellctl.json with rateLimitPerSecond is refused, naming limits.rateLimit', () => {
    const settings = defaultSettings(8000);
    const old = { ...settings, limits: { ...settings.limits, rateLimit: undefined, rateLimitPerSecond: 200, rateLimitBurst: 400 } };
    const parsed = settingsSchema.safeParse(JSON.parse(JSON.stringify(old)));
    expect(parsed.success).toBe(false);
    if (!parsed.success)
      expect(formatIssues(parsed.error)).toMatch(/limits: rateLimitPerSecond, rateLimitBurst .*limits\.rateLimit.*"requests": 100, "windowSeconds": 60/);
    expect(settingsSchema.safeParse({ ...settings, limits: { rateLimit: { requests: 5, windowSeconds: 1 } } }).success).toBe(true);
  });
});
