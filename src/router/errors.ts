// Every answer the router gives itself instead of a cell's, in one catalogue: a stable code for
// scripts, its status, and a human text in the example systems' style ({"error": text, "code": code}).
import type { Settings } from '../workspace/settings.js';

export const ROUTER_ERRORS = {
  bad_path: { status: 400, text: 'Bad request path' },
  bad_customer_id: { status: 400, text: 'Invalid customer ID' },
  no_customer_claim: { status: 400, text: 'Customer ID not found in token' },
  unauthorized: { status: 401, text: 'Invalid token' },
  forbidden: { status: 403, text: 'Token is for another customer' },
  not_found: { status: 404, text: 'Not found' },
  request_timeout: { status: 408, text: 'Request timeout' },
  body_too_large: { status: 413, text: 'Request body too large' },
  rate_limited: { status: 429, text: 'Rate limit exceeded' },
  internal: { status: 500, text: 'Internal router error' },
  // The example routers answer every cell they cannot reach with one 503 text: "Service
  // unavailable" (JWT router) or "Cell unavailable" (the beginner's); the router's 503s about
  // reaching a customer's cell take that text (unavailableText), with the reason in `details`.
  cell_unavailable: { status: 503, text: 'Cell unavailable' },
  no_cell: { status: 503, text: 'Cell unavailable' },
  customer_moving: { status: 503, text: 'Cell unavailable' },
  overloaded: { status: 503, text: 'Router overloaded' },
  too_many_connections: { status: 503, text: 'Too many connections' },
  cell_timeout: { status: 504, text: 'Cell did not answer in time' },
} as const satisfies Record<string, { status: number; text: string }>;

export type RouterErrorCode = keyof typeof ROUTER_ERRORS;

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
