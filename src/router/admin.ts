// The router's admin API for cellctl (127.0.0.1, bearer admin token): health, Prometheus metrics,
// stats, mapping and settings reload, route explanation, and the fence calls a customer move makes.
// Its paths, bodies and answers are in protocol.ts, shared with the client. One path needs no token:
// GET /metrics, the whole system's exposition for a Prometheus scraper.
import { hasBearerToken } from '../shared/bearer.js';
import http from 'node:http';
import type { Logger } from 'pino';
import { createRequestListener, HttpError, parseWith, type RouteDef, sendError, sendJson } from '../shared/http.js';
import { sqliteRequests } from '../shared/sqlite-requests.js';
import { fetchCellPrometheus } from '../cell/client.js';
import { spellNaN, systemExposition } from '../shared/prometheus.js';
import { cellAddress, hostNamesThisMachine } from '../shared/urls.js';
import type { Limits } from '../workspace/settings.js';
import type { MappingConfirmation } from './confirmation.js';
import type { ControlLink } from './control-link.js';
import type { FenceBook } from './fences.js';
import type { MappingTable } from './mapping.js';
import type { RouterMetrics } from './metrics.js';
import {
  ADMIN_PATHS,
  type ConfirmFenceAnswer,
  confirmFenceRequest,
  type FenceAnswer,
  type FrontDoorStats,
  fenceRequest,
  type ReloadAnswer,
  type RouteAnswer,
  type RouterEnforcing,
  type PublicRouterHealth,
  type RouterHealth,
  type RouterStats,
  type SettingsAnswer,
  type UnfenceAnswer,
  unfenceRequest,
} from './protocol.js';
import type { Upstreams } from './upstreams.js';

export interface AdminParts {
  adminToken: string;
  log: Logger;
  /** The limits in force (they change with a reload). */
  limits: () => Limits;
  mapping: MappingTable;
  upstreams: Upstreams;
  fences: FenceBook;
  metrics: RouterMetrics;
  link: ControlLink;
  confirmation: MappingConfirmation;
  frontDoor(): FrontDoorStats;
  enforcing(): RouterEnforcing;
  /** The router's id in the control plane's routers table. */
  id(): string;
  /** Re-reads cellctl.json and applies it; throws when the file is invalid (the router keeps its settings). */
  reloadSettings(): SettingsAnswer;
  /** Host names (besides addresses and localhost) the token-free scrape answers to: this host's, the advertised one. */
  scrapeHostNames: readonly string[];
}

/**
 * The public /health (see PublicRouterHealth): made from the control link and the confirmation alone,
 * nothing else is shown. 200 even while customers are refused: a supervisor that restarted a router
 * cut off from its control plane would only get one that cannot start.
 */
export function publicHealth(link: ControlLink, confirmation: MappingConfirmation): PublicRouterHealth {
  return { status: 'healthy', service: 'cell-router', controlPlane: { ok: !link.error }, mappingConfirmed: performance.now() <= confirmation.validUntil };
}

/** The router's health, for the admin API (the public /health shows publicHealth of it). */
export function routerHealth(mapping: MappingTable, link: ControlLink, upstreams: Upstreams, confirmation: MappingConfirmation): RouterHealth {
  return {
    status: 'healthy',
    service: 'cell-router',
    mappingVersion: mapping.mappingVersion,
    customersMapped: mapping.size,
    controlPlane: link.error ? { ok: false, error: link.error } : { ok: true },
    mapping: confirmation.state(),
    cells: Object.fromEntries(upstreams.all().map((upstream) => [upstream.cellId, { healthy: upstream.healthy, lastError: upstream.lastError }])),
  };
}

function routerStats({ mapping, upstreams, metrics, fences, frontDoor, enforcing, id }: AdminParts): RouterStats {
  return {
    id: id(),
    enforcing: enforcing(),
    pid: process.pid,
    uptimeSeconds: Math.round(process.uptime()),
    mappingVersion: mapping.mappingVersion,
    customersMapped: mapping.size,
    memoryRssBytes: process.memoryUsage().rss,
    ...frontDoor(),
    cells: Object.fromEntries(
      mapping.allCells().map((cell) => {
        const upstream = upstreams.get(cell.id);
        return [
          cell.id,
          {
            ...metrics.cellCounters(cell.id),
            healthy: upstream?.healthy ?? null,
            placing: cell.firstHealthyAt !== null,
            customers: mapping.customersIn(cell.id),
          },
        ];
      }),
    ),
    fences: fences.fencedCustomers(),
    fenceHolds: fences.holdSummary(),
  };
}

/** Where Prometheus scrapes the whole system (router and every cell) — no token needed. */
export const SCRAPE_PATH = '/metrics';

async function scrapeSystem({ metrics, mapping }: AdminParts): Promise<string> {
  const cells = mapping.allCells();
  const [router, ...texts] = await Promise.all([
    metrics.registry.metrics().then(spellNaN),
    ...cells.map((cell) => fetchCellPrometheus(cellAddress(cell).base, 1_000)),
  ]);
  return systemExposition(
    router,
    cells.map((cell, index) => ({ id: cell.id, text: texts[index] ?? null })),
  );
}

/** The admin routes that read or reload the router's state. */
function stateRoutes(parts: AdminParts): RouteDef[] {
  const { mapping, upstreams, fences, metrics, link, confirmation } = parts;
  const health = () => routerHealth(mapping, link, upstreams, confirmation);
  return [
    { method: 'GET', path: ADMIN_PATHS.health, handler: () => ({ status: 200, body: health() }) },
    {
      method: 'GET',
      path: ADMIN_PATHS.metrics,
      handler: async () => ({ status: 200, text: spellNaN(await metrics.registry.metrics()), headers: { 'content-type': metrics.registry.contentType } }),
    },
    {
      method: 'GET',
      path: ADMIN_PATHS.stats,
      handler: () => ({ status: 200, body: routerStats(parts) }),
    },
    {
      method: 'POST',
      path: ADMIN_PATHS.settings,
      handler: () => {
        try {
          return { status: 200, body: parts.reloadSettings() };
        } catch (error) {
          throw new HttpError('invalid_settings', error instanceof Error ? error.message : String(error));
        }
      },
    },
    {
      method: 'POST',
      path: ADMIN_PATHS.reload,
      handler: async () => {
        await link.refresh();
        if (link.error) throw new HttpError('control_plane_unavailable', `control plane unreachable: ${link.error}`);
        return { status: 200, body: { mappingVersion: mapping.mappingVersion, customersMapped: mapping.size } satisfies ReloadAnswer };
      },
    },
    {
      method: 'GET',
      path: ADMIN_PATHS.route,
      handler: ({ params }) => {
        const customerId = params.customerId!;
        return {
          status: 200,
          body: { customerId, route: mapping.lookup(customerId), fenced: fences.isFenced(customerId, Date.now()) } satisfies RouteAnswer,
        };
      },
    },
  ];
}

/** The admin routes a move uses to hold, confirm and release its customers' requests. */
function fenceRoutes(parts: AdminParts): RouteDef[] {
  const { limits, mapping, fences, link, upstreams } = parts;
  return [
    {
      method: 'POST',
      path: ADMIN_PATHS.fence,
      handler: async ({ body }) => {
        const input = parseWith(fenceRequest, await body());
        const startedAt = performance.now();
        const result = await fences.fence(
          input.customerIds,
          input.fenceId,
          input.leaseMs ?? limits().fenceLeaseMs,
          input.drainTimeoutMs ?? limits().upstreamTimeoutMs,
        );
        if (!result.drained) {
          for (const customerId of input.customerIds) fences.release(customerId, input.fenceId);
          throw new HttpError('not_drained', `${result.inFlight} request(s) still in flight after the drain timeout; fences lifted`);
        }
        return { status: 200, body: { fenceId: input.fenceId, waitedMs: performance.now() - startedAt } satisfies FenceAnswer };
      },
    },
    {
      method: 'POST',
      path: ADMIN_PATHS.confirmFence,
      handler: async ({ body }) => {
        const input = parseWith(confirmFenceRequest, await body());
        if (!fences.confirm(input.customerIds, input.fenceId, input.leaseMs ?? limits().fenceLeaseMs, Date.now())) {
          throw new HttpError('fence_lost', `fence ${input.fenceId} was not held without a break (lease lapsed or router restarted)`);
        }
        return { status: 200, body: { held: true } satisfies ConfirmFenceAnswer };
      },
    },
    {
      method: 'POST',
      path: ADMIN_PATHS.unfence,
      handler: async ({ body }) => {
        const input = parseWith(unfenceRequest, await body());
        // Held requests go to the customers' new cell: the one the mover switched them to (a cell this
        // router knows; the read that follows confirms it), else the mapping read first.
        const switchedTo = input.switchedTo;
        if (switchedTo !== undefined && upstreams.get(switchedTo)) {
          for (const customerId of input.customerIds) mapping.assign(customerId, switchedTo);
          void link.refresh();
        } else {
          await link.refresh();
        }
        const released = input.customerIds.reduce((sum, customerId) => sum + fences.release(customerId, input.fenceId), 0);
        return { status: 200, body: { released, mappingVersion: mapping.mappingVersion } satisfies UnfenceAnswer };
      },
    },
  ];
}

export function createAdminServer(parts: AdminParts): http.Server {
  const { log } = parts;
  const listener = createRequestListener([...stateRoutes(parts), ...fenceRoutes(parts)], {
    onError: (error) => log.error({ err: error }, 'admin request failed'),
    // Its routes read the control plane, which may be a busy control.db.
    store: sqliteRequests,
  });

  return http.createServer((req, res) => {
    // The scrape target: read-only figures, no token (Prometheus has none); only for requests that name
    // this machine, so a browser page of another site cannot read it through DNS rebinding.
    if (req.method === 'GET' && req.url?.split('?')[0] === SCRAPE_PATH) {
      if (!hostNamesThisMachine(req.headers.host, parts.scrapeHostNames)) {
        req.resume();
        return sendError(res, 'forbidden', 'Forbidden', {
          details: `${SCRAPE_PATH} answers requests addressed to an IP address, localhost or this router's host name; scrape it by one of those`,
        });
      }
      void scrapeSystem(parts).then(
        (text) => res.writeHead(200, { 'content-type': parts.metrics.registry.contentType }).end(text),
        (error: unknown) => {
          log.error({ err: error }, 'scrape failed');
          sendJson(res, 500, { error: 'scrape_failed', message: 'see the router log' });
        },
      );
      return;
    }
    if (!hasBearerToken(req.headers.authorization, parts.adminToken)) {
      req.resume();
      return sendError(res, 'unauthorized', 'Unauthorized', { details: 'the admin API needs "Authorization: Bearer <secrets/admin-token>"' });
    }
    listener(req, res);
  });
}
