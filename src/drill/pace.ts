// How fast the drill may send, pure: its load goes through the router's per-customer rate limit, and
// a 429 would hide the cell's own answer, so the drill stays within each customer's allowance.

export interface DrillPaceInput {
  customers: number;
  workers: number;
  /** How long the load runs (warm-up and watch). */
  totalMs: number;
  /** The router's limit: `requests` per customer per `windowSeconds` (settings: limits.rateLimit). */
  rateLimit: { requests: number; windowSeconds: number };
}

/** Part of each customer's allowance the drill uses: room for other clients and for timing slack. */
const SHARE = 0.8;
/** The drill is light load: never faster than one request per worker every 5 ms. */
const MIN_SPACING_MS = 5;

/**
 * The pause each worker leaves between its requests. Requests go round-robin over the customers,
 * so each gets 1/customers of them, evenly spread; the router admits `requests` per customer in any
 * window, so an even rate may put that many in the window or in the whole run, whichever is shorter.
 */
export function drillSpacingMs({ customers, workers, totalMs, rateLimit }: DrillPaceInput): number {
  const spanSeconds = Math.min(totalMs / 1000, rateLimit.windowSeconds);
  const perSecond = (SHARE * customers * rateLimit.requests) / spanSeconds;
  return Math.max(MIN_SPACING_MS, Math.ceil((1000 * workers) / perSecond));
}
