// The router's admin API, shared by the router (admin.ts) and its client (client.ts), the way
// supervisor/protocol.ts is: the paths, the request bodies as zod schemas, and the answers' shapes.
import { z } from 'zod';
import type { Route } from './mapping.js';

export const ADMIN_PATHS = {
  health: '/admin/health',
  metrics: '/admin/metrics',
  stats: '/admin/stats',
  reload: '/admin/reload',
  route: '/admin/route/:customerId',
  fence: '/admin/fence',
  confirmFence: '/admin/fence/confirm',
  unfence: '/admin/unfence',
  settings: '/admin/settings',
} as const;

const customerIds = z.array(z.string().min(1)).min(1);

/** Fence customers: hold their new requests and wait (up to drainTimeoutMs) for those in flight. */
export const fenceRequest = z.strictObject({
  customerIds,
  fenceId: z.string().min(1),
  leaseMs: z.number().int().positive().optional(),
  drainTimeoutMs: z.number().int().positive().optional(),
});
export type FenceRequest = z.infer<typeof fenceRequest>;

/** Confirm that a fence was held without a break (and extend its lease). 409 when it was lost. */
export const confirmFenceRequest = z.strictObject({ customerIds, fenceId: z.string().min(1), leaseMs: z.number().int().positive().optional() });
export type ConfirmFenceRequest = z.infer<typeof confirmFenceRequest>;

/** Lift fences: held requests go on, to the customer's cell as the mapping now says. */
/** With `fenceId`, only fences that still carry that id are lifted (not one a later mover put up). */
/**
 * `switchedTo`: the cell the customers' switch (committed in the control plane) gave them. The router
 * maps them there at once and releases their held requests without reading the control plane first
 * (it reads it just after); without it, it reads the mapping first.
 */
export const unfenceRequest = z.strictObject({ customerIds, fenceId: z.string().min(1).optional(), switchedTo: z.string().min(1).optional() });
export type UnfenceRequest = z.infer<typeof unfenceRequest>;

export interface FenceAnswer {
  fenceId: string;
  waitedMs: number;
}

export interface ConfirmFenceAnswer {
  held: true;
}

export interface UnfenceAnswer {
  released: number;
  mappingVersion: number;
}

export interface ReloadAnswer {
  mappingVersion: number;
  customersMapped: number;
}

export interface RouteAnswer {
  customerId: string;
  route: Route | null;
  fenced: boolean;
}

/**
 * The public /health: up, and whether the control plane is readable; `status` and `service` as the
 * beginner example's router answers. No cell names, addresses, error texts or customer counts: those
 * are for the admin API (RouterHealth), not for anyone who can reach the router.
 */
export type PublicRouterHealth = {
  status: 'healthy';
  service: 'cell-router';
  controlPlane: { ok: boolean };
  /** False while the router refuses customers' requests (503 `mapping_unconfirmed`). */
  mappingConfirmed: boolean;
};

/**
 * Whether the router answers for customers: it confirmed its mapping (a heartbeat and a mapping read,
 * both sent within routerStaleAfterMs) at a time, or refuses since one (wall-clock ISO times).
 */
export type MappingConfirmationState =
  | { confirmed: true; confirmedAt: string }
  | {
      confirmed: false;
      /** When the last heartbeat and mapping read both succeeded (null: not since the router started). */
      confirmedAt: string | null;
      /** When the bound ran out: from then on the router refuses customers' requests. */
      unconfirmedSince: string;
    };

/** The router's health as the admin API gives it: the public fields and what is behind them. */
export type RouterHealth = {
  status: 'healthy';
  service: 'cell-router';
  mappingVersion: number;
  customersMapped: number;
  controlPlane: { ok: true } | { ok: false; error: string };
  /** Absent from a router older than this field. */
  mapping?: MappingConfirmationState;
  cells: Record<string, { healthy: boolean; lastError: string | null }>;
};

/** What the running router enforces now, and the changed settings it applies only after a restart. */
export interface RouterEnforcing {
  auth: 'none' | 'jwt';
  jwtRequireExp: boolean;
  placement: string;
  placementTemplate: string | null;
  host: string;
  needsRestart: string[];
}

/** POST /admin/settings: the router re-read cellctl.json; what it applied and what waits for a restart. */
export interface SettingsAnswer {
  applied: string[];
  needsRestart: string[];
  enforcing: RouterEnforcing;
}

/** The public port's connections, as /admin/stats reports them. */
export interface FrontDoorStats {
  /** Client connections open now, and bytes held for their requests still arriving. */
  clientConnections: number;
  bufferedBytes: number;
  /** Connections not read from until their client reads the answers it was sent (pipelining clients that do not read). */
  unreadConnections: number;
  /** Connections not read from now because they sent more than limits.pipelining ahead of their answers. */
  pipelineLimitedConnections: number;
  /** Times since the router started that a connection stopped being read for that reason. */
  pipelinePauses: number;
}

export interface RouterStats extends FrontDoorStats {
  /** Its id in the control plane's routers table (`<hostname>:<public port>`). */
  id?: string;
  enforcing: RouterEnforcing;
  pid: number;
  uptimeSeconds: number;
  mappingVersion: number;
  customersMapped: number;
  memoryRssBytes: number;
  /** `placing`: the cell was seen healthy once (first_healthy_at, which routers alone write), so placement may give it new customers. */
  cells: Record<string, { requests: number; errors: number; healthy: boolean | null; placing?: boolean; customers: number }>;
  fences: { customerId: string; held: number; leaseUntil: number }[];
  fenceHolds: { count: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null };
}
