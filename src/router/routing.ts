// Whom a public request is routed for, decided from its path (paths.ts) and, in JWT mode, the
// token's customer_id claim. Pure. Without auth, the path names the customer (the beginner example's
// router); in JWT mode every /api path goes to the claim's cell, as the intermediate example's router
// does, and a path that names a customer must name that one.
import { CUSTOMER_ID } from '../shared/names.js';
import type { AuthResult } from './auth.js';
import type { RouterErrorCode } from './errors.js';
import type { RouterTarget } from './paths.js';

export type RouteDecision =
  | { kind: 'customer'; customerId: string; isCreate: boolean }
  | { kind: 'reference' }
  | { kind: 'refuse'; code: RouterErrorCode; error?: string; details?: string };

const ID_RULE = '1-128 characters: letters, digits and - . _ ~ ! $ & \' ( ) * + , ; = : @ (not "." or "..")';

/** Targets that are routed (not bad paths, not the router's /health). */
export type RoutableTarget = Exclude<RouterTarget, { kind: 'bad-path' } | { kind: 'health' }>;

const notFound = (method: string, url: string): RouteDecision => ({
  kind: 'refuse',
  code: 'not_found',
  details: `the router has no route for ${method} ${url}; customer requests go to /api/customers/<id>/...`,
});

/** auth "none": a customer path goes to its customer's cell, a reference path to any cell; the rest is not found. */
export function routeByPath(target: RoutableTarget, method: string, url: string): RouteDecision {
  switch (target.kind) {
    case 'customer':
      return target;
    case 'reference':
      return target;
    case 'bad-customer-id':
      return { kind: 'refuse', code: 'bad_customer_id', details: `customer ids are ${ID_RULE}` };
    default:
      return notFound(method, url);
  }
}

/**
 * JWT mode, after the token was checked: every /api path is routed for the claim's customer and
 * forwarded unchanged (reference paths too, as the example does); a customer path must name the
 * claim's customer. Paths outside /api are not found, token or not.
 */
export function routeByClaim(target: RoutableTarget, auth: AuthResult, method: string, url: string): RouteDecision {
  if (target.kind === 'not-found') return notFound(method, url);
  if (auth.kind === 'no-token')
    return {
      kind: 'refuse',
      code: 'unauthorized',
      error: 'No authorization token provided',
      details: 'send "Authorization: Bearer <token>" (cellctl token <customer> makes one)',
    };
  if (auth.kind === 'invalid') return { kind: 'refuse', code: 'unauthorized', details: auth.reason };
  if (auth.kind === 'no-claim')
    return { kind: 'refuse', code: 'no_customer_claim', details: 'the token needs a customer_id claim (cellctl token <customer> makes one)' };
  const claim = auth.customerId;
  if (!CUSTOMER_ID.test(claim)) return { kind: 'refuse', code: 'bad_customer_id', details: `the token's customer_id is not a customer id: ${ID_RULE}` };
  if (target.kind === 'bad-customer-id') return { kind: 'refuse', code: 'bad_customer_id', details: `customer ids are ${ID_RULE}` };
  if (target.kind === 'customer') {
    if (target.customerId !== claim) return { kind: 'refuse', code: 'forbidden', details: 'the path names another customer than the token' };
    return target;
  }
  return { kind: 'customer', customerId: claim, isCreate: false };
}
