// Every answer the router gives itself instead of a cell's: a stable code for scripts (catalogued,
// with its status, in shared/error-codes.ts), and a human text in the example systems' style ({"error": text, "code": code}).
import { HTTP_ERRORS, type HttpErrorCode } from '../shared/error-codes.js';
import type { Settings } from '../workspace/settings.js';

/** The text of each code the router answers itself; the status comes from the catalogue (shared/error-codes.ts). */
export const ROUTER_TEXTS = {
  bad_path: 'Bad request path',
  bad_customer_id: 'Invalid customer ID',
  no_customer_claim: 'Customer ID not found in token',
  unauthorized: 'Invalid token',
  forbidden: 'Token is for another customer',
  not_found: 'Not found',
  request_timeout: 'Request timeout',
  body_too_large: 'Request body too large',
  rate_limited: 'Rate limit exceeded',
  internal: 'Internal router error',
  // The example routers answer every cell they cannot reach with one 503 text: "Service
  // unavailable" (JWT router) or "Cell unavailable" (the beginner's); the router's 503s about
  // reaching a customer's cell take that text (unavailableText), with the reason in `details`.
  cell_unavailable: 'Cell unavailable',
  no_cell: 'Cell unavailable',
  customer_moving: 'Cell unavailable',
  mapping_unconfirmed: 'Cell unavailable',
  overloaded: 'Router overloaded',
  too_many_connections: 'Too many connections',
  cell_connection_lost: 'Connection to the cell lost; the request may have been applied',
  cell_timeout: 'Cell did not answer in time',
} as const satisfies Partial<Record<HttpErrorCode, string>>;

/** Every answer the router gives itself: its status (from the catalogue) and text. */
export const ROUTER_ERRORS = Object.fromEntries(
  Object.entries(ROUTER_TEXTS).map(([code, text]) => [code, { status: HTTP_ERRORS[code as RouterErrorCode].status, text }]),
) as { readonly [code in RouterErrorCode]: { status: number; text: string } };

export type RouterErrorCode = keyof typeof ROUTER_TEXTS;

export interface RouterErrorBody {
  error: string;
  code: RouterErrorCode;
  details?: string;
  cell?: string;
  [extra: string]: unknown;
}

export interface RouterErrorAnswer {
  status: number;
  body: RouterErrorBody;
}

/** The router's answer for `code`; `fields` may replace the text (`error`) and add `details` or `cell`. */
export function routerError(code: RouterErrorCode, fields: { error?: string; details?: string; cell?: string } = {}): RouterErrorAnswer {
  const entry = ROUTER_ERRORS[code];
  return {
    status: entry.status,
    body: {
      error: fields.error ?? entry.text,
      code,
      ...(fields.details === undefined ? {} : { details: fields.details }),
      ...(fields.cell === undefined ? {} : { cell: fields.cell }),
    },
  };
}

/** The 503 text a client of the example the router stands in for expects: its JWT router's, or the beginner's. */
export function unavailableText(auth: Settings['auth']): string {
  return auth === 'jwt' ? 'Service unavailable' : 'Cell unavailable';
}
