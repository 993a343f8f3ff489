// The router: one public port that sends each request to the cell owning its customer, and an admin
// API on 127.0.0.1 for cellctl (reload, fence, unfence, stats, metrics). Built apart from main.ts
// so tests can start one in-process.
import http from 'node:http';
import net from 'node:net';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ControlStore } from '../control/store.js';
import { createRequestListener, HttpError, parseWith, sendJson } from '../shared/http.js';
import type { Settings } from '../workspace/settings.js';
import { TokenVerifier } from './auth.js';
import { InputBudget } from './budget.js';
import { BodyTooLarge, NodeExchange, type PublicExchange, RouterOverloaded } from './exchange.js';
import { FenceBook } from './fences.js';
import { type Connection, serveConnection, turnAway } from './frontdoor.js';
import { MappingTable } from './mapping.js';
import { RouterMetrics } from './metrics.js';
import { classifyPath } from './paths.js';
import { RateLimiter } from './ratelimit.js';
import { type Upstream, Upstreams } from './upstreams.js';

export interface RouterOptions {
  settings: Settings;
  /** Opens control.db; called again after a read fails, so a restored file is picked up. */
  openStore: () => ControlStore;
  adminToken: string;
  jwtKey: Uint8Array;
  log: Logger;
  host?: string;
  publicPort?: number;
  adminPort?: number;
  mappingPollMs?: number;
  cellHealthIntervalMs?: number;
}

export interface RunningRouter {
  publicPort: number;
  adminPort: number;
  close(): Promise<void>;
}

/** Largest request head read on the fast path (Node's own limit is the same); larger ones go to Node's server, which answers 431. */
const MAX_HEAD_BYTES = 16 * 1024;
/** How long an idle client connection is kept open. */
const IDLE_TIMEOUT_MS = 65_000;

export async function startRouter(options: RouterOptions): Promise<RunningRouter> {
  const { settings, log } = options;
  let store: ControlStore | null = options.openStore();
  const limits = settings.limits;
  const mapping = new MappingTable(settings.placement);
  const upstreams = new Upstreams(64);
  const fences = new FenceBook({ holdMs: limits.fenceHoldMs, queueLimit: limits.fenceQueueLimit });
  const limiter = new RateLimiter(limits.rateLimitPerSecond, limits.rateLimitBurst);
  const metrics = new RouterMetrics();
  const verifier = settings.auth === 'jwt' ? new TokenVerifier(options.jwtKey, { requireExp: settings.jwtRequireExp }) : null;
  let controlPlaneError: string | null = null;
  let pendingPins: { customerId: string; cellId: string }[] = [];
  let pinFlushQueued = false;
  let referenceTurn = 0;

  const refreshMapping = (): void => {
    try {
      store ??= options.openStore();
      if (mapping.refresh(store)) upstreams.sync(mapping.allCells());
      if (controlPlaneError) log.info('control.db readable again');
      controlPlaneError = null;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (controlPlaneError === null) log.warn({ err: error }, 'control.db unreadable; serving from the mapping in memory');
      controlPlaneError = message;
      // Reopen on the next attempt: the file may be replaced or restored meanwhile.
      store?.close();
      store = null;
    }
  };

  const flushPins = (): void => {
    pinFlushQueued = false;
    if (pendingPins.length === 0) return;
    const batch = pendingPins;
    pendingPins = [];
    try {
      if (!store) throw new Error('control.db is unavailable');
      store.pinCustomers(batch);
    } catch (error) {
      // Keep them in memory and try again later: the mapping row is written once the store is back.
      log.warn({ err: error, count: batch.length }, 'could not pin customers; will retry');
      pendingPins = batch.concat(pendingPins);
    }
  };

  const pin = (customerId: string, cellId: string): void => {
    mapping.assign(customerId, cellId);
    pendingPins.push({ customerId, cellId });
    if (!pinFlushQueued) {
      pinFlushQueued = true;
      setImmediate(flushPins);
    }
  };

  const forward = (upstream: Upstream, exchange: PublicExchange, body: Buffer | null, started: number): Promise<number> =>
    new Promise<number>((resolve) => {
      const responder = exchange.responder(upstream.cellId);
      let status = 0;
      const settle = () => {
        metrics.recordForwarded(upstream.cellId, status, (performance.now() - started) / 1000);
        resolve(status);
      };
      const sent = upstream.links.exchange(
        { method: exchange.method, head: exchange.upstreamHead(body), body, timeoutMs: limits.upstreamTimeoutMs },
        {
          start: (head) => {
            status = head.status;
            if (!upstream.healthy) upstreams.markUp(upstream);
            responder.start(head);
          },
          data: (raw, payload) => responder.data(raw, payload),
          end: () => {
            responder.end();
            settle();
          },
          fail: (reason, detail, begun) => {
            if (reason === 'aborted') status = 499; // the client went away first (nginx's code for it)
            else if (begun) responder.broken();
            else if (reason === 'timeout') {
              status = 504;
              upstreams.markDown(upstream, `timed out after ${limits.upstreamTimeoutMs} ms`, true);
              exchange.reply(504, { error: 'cell_timeout', message: `cell ${upstream.cellId} did not answer within ${limits.upstreamTimeoutMs} ms`, cell: upstream.cellId });
            } else {
              status = 503;
              upstreams.markDown(upstream, detail);
              exchange.reply(503, { error: 'cell_unavailable', message: `cell ${upstream.cellId} is unavailable; only its customers are affected`, cell: upstream.cellId }, { 'retry-after': '1' });
            }
            settle();
          },
        },
      );
      responder.attach(sent);
    });

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

  const handlePublic = async (exchange: PublicExchange): Promise<void> => {
    const started = performance.now();
    const target = classifyPath(exchange.method, exchange.url);
    if (target.kind === 'bad-path') {
      // Refused, never normalised: the cell's URL parser would resolve it to another path than the one routed.
      metrics.recordRejected('bad_path');
      return reject(exchange, 400, 'bad_path', `the request target is refused: ${target.reason}; send a plain path such as /api/customers/<id>/...`);
    }
    if (target.kind === 'health') return exchange.reply(200, routerHealth());
    if (target.kind === 'not-found') {
      metrics.recordRejected('not_found');
      return reject(exchange, 404, 'not_found', `the router has no route for ${exchange.method} ${exchange.url}; customer requests go to /api/customers/<id>/...`);
    }
    if (target.kind === 'bad-customer-id') {
      metrics.recordRejected('bad_customer_id');
      return reject(exchange, 400, 'bad_customer_id', 'customer ids are 1-64 characters from A-Z, a-z, 0-9, "_" and "-"');
    }
    if (verifier) {
      const auth = await verifier.verify(exchange.authorization, Date.now());
      if (!auth.ok) {
        metrics.recordRejected('unauthorized');
        return reject(exchange, 401, 'unauthorized', auth.message, {}, { 'www-authenticate': 'Bearer' });
      }
      if (target.kind === 'customer' && auth.customerId !== target.customerId) {
        metrics.recordRejected('forbidden');
        return reject(exchange, 403, 'forbidden', 'this token is for another customer');
      }
    }
    let body: Buffer | null;
    try {
      body = await exchange.body();
    } catch (error) {
      if (error instanceof RouterOverloaded) {
        metrics.recordRejected('overloaded');
        return reject(exchange, 503, 'overloaded', 'the router holds too many unfinished requests; retry shortly', {}, { connection: 'close', 'retry-after': '1' });
      }
      if (!(error instanceof BodyTooLarge)) throw error;
      metrics.recordRejected('body_too_large');
      return reject(exchange, 413, 'body_too_large', `request body is larger than ${limits.maxBodyBytes} bytes`, {}, { connection: 'close' });
    }
    if (target.kind === 'reference') return handleReference(exchange, body, started);
    return handleCustomer(target.customerId, target.isCreate, exchange, body, started);
  };

  const routerHealth = () => ({
    status: 'ok',
    mappingVersion: mapping.mappingVersion,
    customersMapped: mapping.size,
    controlPlane: controlPlaneError ? { ok: false, error: controlPlaneError } : { ok: true },
    cells: Object.fromEntries(upstreams.all().map((upstream) => [upstream.cellId, { healthy: upstream.healthy, lastError: upstream.lastError }])),
  });

  const customerIds = z.array(z.string().min(1)).min(1);
  const fenceBody = z.strictObject({
    customerIds,
    fenceId: z.string().min(1),
    leaseMs: z.number().int().positive().optional(),
    drainTimeoutMs: z.number().int().positive().optional(),
  });
  const confirmBody = z.strictObject({ customerIds, fenceId: z.string().min(1), leaseMs: z.number().int().positive().optional() });
  const unfenceBody = z.strictObject({ customerIds });

  const adminListener = createRequestListener(
    [
      { method: 'GET', path: '/admin/health', handler: () => ({ status: 200, body: routerHealth() }) },
      {
        method: 'GET',
        path: '/admin/metrics',
        handler: async () => ({ status: 200, text: await metrics.registry.metrics(), headers: { 'content-type': metrics.registry.contentType } }),
      },
      {
        method: 'GET',
        path: '/admin/stats',
        handler: () => ({
          status: 200,
          body: {
            pid: process.pid,
            uptimeSeconds: Math.round(process.uptime()),
            mappingVersion: mapping.mappingVersion,
            customersMapped: mapping.size,
            memoryRssBytes: process.memoryUsage().rss,
            cells: Object.fromEntries(
              mapping.allCells().map((cell) => {
                const upstream = upstreams.get(cell.id);
                return [cell.id, { ...metrics.cellCounters(cell.id), healthy: upstream?.healthy ?? null, customers: mapping.customersIn(cell.id) }];
              }),
            ),
            fences: fences.fencedCustomers(),
            fenceHolds: fences.holdSummary(),
          },
        }),
      },
      {
        method: 'POST',
        path: '/admin/reload',
        handler: () => {
          refreshMapping();
          if (controlPlaneError) throw new HttpError(503, `control.db unreadable: ${controlPlaneError}`, 'control_plane_unavailable');
          return { status: 200, body: { mappingVersion: mapping.mappingVersion, customersMapped: mapping.size } };
        },
      },
      {
        method: 'GET',
        path: '/admin/route/:customerId',
        handler: ({ params }) => {
          const customerId = params.customerId!;
          return { status: 200, body: { customerId, route: mapping.lookup(customerId), fenced: fences.isFenced(customerId, Date.now()) } };
        },
      },
      {
        method: 'POST',
        path: '/admin/fence',
        handler: async ({ body }) => {
          const input = parseWith(fenceBody, await body());
          const startedAt = performance.now();
          const result = await fences.fence(input.customerIds, input.fenceId, input.leaseMs ?? limits.fenceLeaseMs, input.drainTimeoutMs ?? limits.upstreamTimeoutMs);
          if (!result.drained) {
            for (const customerId of input.customerIds) fences.release(customerId);
            throw new HttpError(409, `${result.inFlight} request(s) still in flight after the drain timeout; fences lifted`, 'not_drained');
          }
          return { status: 200, body: { fenceId: input.fenceId, waitedMs: performance.now() - startedAt } };
        },
      },
      {
        method: 'POST',
        path: '/admin/fence/confirm',
        handler: async ({ body }) => {
          const input = parseWith(confirmBody, await body());
          if (!fences.confirm(input.customerIds, input.fenceId, input.leaseMs ?? limits.fenceLeaseMs, Date.now())) {
            throw new HttpError(409, `fence ${input.fenceId} was not held without a break (lease lapsed or router restarted)`, 'fence_lost');
          }
          return { status: 200, body: { held: true } };
        },
      },
      {
        method: 'POST',
        path: '/admin/unfence',
        handler: async ({ body }) => {
          const input = parseWith(unfenceBody, await body());
          // Read the new mapping first, so held requests go to the customer's new cell.
          refreshMapping();
          const released = input.customerIds.reduce((sum, customerId) => sum + fences.release(customerId), 0);
          return { status: 200, body: { released, mappingVersion: mapping.mappingVersion } };
        },
      },
    ],
    (error) => log.error({ err: error }, 'admin request failed'),
  );

  refreshMapping();
  if (controlPlaneError) throw new Error(`cannot read control.db: ${controlPlaneError}`);

  const budget = new InputBudget(limits.maxBufferedBytes);
  // Requests outside the fast path (chunked bodies, HTTP/1.0, Expect, odd heads) are read by Node's
  // HTTP server, which gets those connections from the front door; it never listens itself.
  const fallbackServer = http.createServer(
    {
      keepAliveTimeout: IDLE_TIMEOUT_MS,
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: Math.min(limits.requestTimeoutMs, 60_000),
      connectionsCheckingInterval: Math.max(50, Math.min(limits.requestTimeoutMs / 4, 30_000)),
    },
    (req, res) => handle(new NodeExchange(req, res, limits.maxBodyBytes, budget)),
  );
  // Node tracks its connections' request and header deadlines (and closeAllConnections) only from a
  // 'listening' event; this server never listens, so it is told.
  fallbackServer.emit('listening');
  const handle = (exchange: PublicExchange): void => {
    handlePublic(exchange).catch((error: unknown) => {
      log.error({ err: error }, 'request failed');
      exchange.fail('router error; see the router log');
    });
  };
  const connections = new Set<Connection>();
  const publicServer = net.createServer((socket) => {
    if (connections.size >= limits.maxClientConnections) {
      metrics.recordRejected('too_many_connections');
      return turnAway(socket, 503, { error: 'too_many_connections', message: `the router serves ${limits.maxClientConnections} client connections at most; retry shortly` }, { 'retry-after': '1' });
    }
    const connection = serveConnection(socket, {
      dispatch: handle,
      fallback: fallbackServer,
      maxHeadBytes: MAX_HEAD_BYTES,
      maxBodyBytes: limits.maxBodyBytes,
      idleTimeoutMs: IDLE_TIMEOUT_MS,
      requestTimeoutMs: limits.requestTimeoutMs,
      budget,
    });
    connections.add(connection);
    socket.once('close', () => connections.delete(connection));
  });
  const adminServer = http.createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${options.adminToken}`) {
      req.resume();
      return sendJson(res, 401, { error: 'unauthorized', message: 'admin API needs "Authorization: Bearer <secrets/admin-token>"' });
    }
    adminListener(req, res);
  });

  const listen = (server: net.Server, port: number, host: string) =>
    new Promise<number>((resolve, rejectListen) => {
      server.once('error', rejectListen);
      server.listen(port, host, () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  const publicPort = await listen(publicServer, options.publicPort ?? settings.routerPort, options.host ?? '0.0.0.0');
  const adminPort = await listen(adminServer, options.adminPort ?? settings.routerAdminPort, '127.0.0.1').catch(async (error) => {
    publicServer.close();
    throw error;
  });

  // Healthy cells are checked every second; cells marked down four times as often, so one that
  // comes back (a restart, a late start) is routed to again within a quarter of a second.
  const healthInterval = options.cellHealthIntervalMs ?? 1_000;
  const checkCells = () => {
    const now = Date.now();
    for (const upstream of upstreams.all()) {
      const cell = mapping.cell(upstream.cellId);
      if (cell && (!upstream.healthy || now - upstream.checkedAt >= healthInterval)) void upstreams.check(upstream, cell.healthPath);
    }
  };
  const timers = [
    setInterval(refreshMapping, options.mappingPollMs ?? 1_000),
    setInterval(checkCells, Math.max(50, Math.floor(healthInterval / 4))),
    setInterval(() => {
      limiter.sweep(Date.now());
      if (pendingPins.length > 0) flushPins();
    }, 5_000),
  ];
  checkCells();

  return {
    publicPort,
    adminPort,
    async close() {
      for (const timer of timers) clearInterval(timer);
      flushPins();
      // Stop accepting; idle connections close now, busy ones once their answer is out.
      const closed = Promise.all([publicServer, adminServer].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
      for (const connection of connections) connection.shutdown();
      fallbackServer.closeIdleConnections();
      adminServer.closeIdleConnections();
      // Connections handed to Node's server get a moment to finish their answer, then are cut.
      const cut = setTimeout(() => fallbackServer.closeAllConnections(), 2_000);
      await closed;
      clearTimeout(cut);
      fallbackServer.close(() => undefined); // stops its connection-deadline timer
      upstreams.close();
      store?.close();
    },
  };
}
