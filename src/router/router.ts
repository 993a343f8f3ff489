// The router: one public port that sends each request to the cell owning its customer, and an admin
// API (127.0.0.1 unless told otherwise) for cellctl. This file wires the parts together — the control
// plane link (control-link.ts), its registration (registration.ts), the request policy (policy.ts), forwarding (forwarding.ts), the admin API
// (admin.ts) and the front door below — and owns their timers. Built apart from main.ts so tests
// can start one in-process.
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import type { Logger } from 'pino';
import type { ControlPlane, NewRouter } from '../control/plane.js';
import type { Limits, Settings } from '../workspace/settings.js';
import { listenOn } from '../shared/listen.js';
import { createAdminServer, publicHealth } from './admin.js';
import type { FrontDoorStats, PublicRouterHealth, RouterEnforcing } from './protocol.js';
import { TokenVerifier } from './auth.js';
import { routerError, unavailableText } from './errors.js';
import { InputBudget } from './budget.js';
import { MappingConfirmation } from './confirmation.js';
import { ControlLink } from './control-link.js';
import { NodeExchange, type PublicExchange } from './exchange.js';
import { FenceBook } from './fences.js';
import { createForwarder } from './forwarding.js';
import { type Connection, type ReadingStopped, serveConnection, turnAway } from './frontdoor.js';
import { MappingTable } from './mapping.js';
import { RouterMetrics } from './metrics.js';
import { createRequestPolicy } from './policy.js';
import { RateLimiter } from './ratelimit.js';
import { advertisedUrl, Registration, routerId } from './registration.js';
import { SettingsSwitch } from './settings-switch.js';
import { Upstreams } from './upstreams.js';

export interface RouterOptions {
  settings: Settings;
  /** Opens the control plane; called again after control.db failed a read, so a restored file is picked up. */
  openPlane: () => Promise<ControlPlane>;
  adminToken: string;
  jwtKey: Uint8Array;
  log: Logger;
  host?: string;
  publicPort?: number;
  adminPort?: number;
  /** Where the admin API binds (default: the routerAdminHost setting; loopback unless movers on other hosts must reach it). */
  adminHost?: string;
  /** The host name or address other processes reach this router at (default: the bind address, or the host's for 0.0.0.0). */
  advertise?: string;
  mappingPollMs?: number;
  cellHealthIntervalMs?: number;
  /** Reads cellctl.json again (admin call, or a change seen in `settingsFile`); throws when invalid. */
  loadSettings?: () => Settings;
  /** Watched for changes, so a hand edit applies without a call. */
  settingsFile?: string;
}

export interface RunningRouter {
  /** Its id in the control plane's routers table. */
  id: string;
  publicPort: number;
  adminPort: number;
  close(): Promise<void>;
}

/** Largest request head read on the fast path (Node's own limit is the same); larger ones go to Node's server, which answers 431. */
const MAX_HEAD_BYTES = 16 * 1024;
/** How long an idle client connection is kept open. */
const IDLE_TIMEOUT_MS = 65_000;
/** How often the journal is read while a fence learned from it is held. */
const JOURNAL_FENCE_POLL_MS = 100;
/** Kept-alive connections per cell, at most. */
const CONNECTIONS_PER_CELL = 64;

/** What one version of the settings builds (settings-switch.ts): the request policy and the rate limiter it counts with. */
interface Handler {
  route: (exchange: PublicExchange) => Promise<void>;
  limiter: RateLimiter;
}

/** The parts that live as long as the router, whatever the settings; each is told of a change by `build`. */
interface LongLived {
  mapping: MappingTable;
  upstreams: Upstreams;
  fences: FenceBook;
  metrics: RouterMetrics;
  /** The bound is routerStaleAfterMs itself: movers skip a router whose heartbeat is older. */
  confirmation: MappingConfirmation;
  link: ControlLink;
}

export async function startRouter(options: RouterOptions): Promise<RunningRouter> {
  const { log } = options;
  const startedWith = options.settings;
  const host = options.host ?? startedWith.routerHost;
  // The limits of the version in force; read by the long-lived parts only once the router runs.
  const limits = (): Limits => inForce.current.settings.limits;
  const parts = longLivedParts(options, limits);
  const { link, metrics, confirmation } = parts;
  const health = () => publicHealth(link, confirmation);
  const inForce = new SettingsSwitch<Handler>({
    startedWith,
    build: (settings, previous) => buildHandler(parts, settings, previous, options.jwtKey, health),
    load: options.loadSettings,
    file: options.settingsFile,
    log,
  });
  const enforcing = (): RouterEnforcing => {
    const { settings, change } = inForce.current;
    const { auth, jwtRequireExp, placement, placementTemplate } = settings;
    return { auth, jwtRequireExp, placement, placementTemplate, host, needsRestart: [...change.needsRestart] };
  };
  const handle = (exchange: PublicExchange): void => {
    const { settings, built } = inForce.current;
    // Timed from before the routing, as the setting stood when the request came.
    const started = settings.accessLog ? performance.now() : null;
    const routed = built.route(exchange).catch((error: unknown) => {
      log.error({ err: error }, 'request failed');
      exchange.fail('router error; see the router log');
    });
    if (started !== null) void routed.then(() => logAccess(log, exchange, started));
  };

  await link.refresh();
  if (link.error) {
    await link.close();
    throw new Error(`cannot read the control plane: ${link.error}`);
  }

  const frontDoor = openFrontDoor(limits, metrics, handle);
  const adminServer = createAdminServer({
    ...parts,
    adminToken: options.adminToken,
    log,
    limits,
    frontDoor: () => frontDoor.stats(),
    enforcing,
    id: () => routerId(os.hostname(), ports.publicPort),
    reloadSettings: () => ({ ...inForce.reload(), enforcing: enforcing() }),
    scrapeHostNames: [os.hostname(), ...(options.advertise ? [options.advertise] : [])],
  });
  const ports = await listenBoth(options, host, frontDoor, adminServer, link);
  const registration = new Registration(
    () => link.connect(),
    routerRecord(options, ports),
    startedWith.routerHeartbeatMs,
    log,
    (sentAt) => confirmation.heartbeatWritten(sentAt),
  );
  await registration.start();
  const timers = startTimers(options, parts, inForce);

  return {
    publicPort: ports.publicPort,
    adminPort: ports.adminPort,
    id: registration.record.id,
    async close() {
      for (const timer of timers) clearInterval(timer);
      await registration.stop();
      const adminClosed = new Promise<void>((resolve) => adminServer.close(() => resolve()));
      adminServer.closeIdleConnections();
      await Promise.all([frontDoor.close(), adminClosed]);
      parts.upstreams.close();
      await link.close();
    },
  };
}

/** How the control plane lists this router: its id (host and public port), the URLs others reach it at. */
function routerRecord(options: RouterOptions, ports: BoundAddresses): NewRouter {
  return {
    id: routerId(os.hostname(), ports.publicPort),
    adminUrl: advertisedUrl({ bindHost: ports.adminHost, port: ports.adminPort, advertise: options.advertise }),
    publicUrl: advertisedUrl({ bindHost: ports.host, port: ports.publicPort, advertise: options.advertise }),
    pid: process.pid,
    host: os.hostname(),
    startedAt: new Date().toISOString(),
  };
}

function longLivedParts(options: RouterOptions, limits: () => Limits): LongLived {
  const { settings } = options;
  const mapping = new MappingTable(settings.placement, settings.placementTemplate);
  const upstreams = new Upstreams(CONNECTIONS_PER_CELL);
  // Hold and queue are restart-only settings (live-settings.ts): read once.
  const fences = new FenceBook({ holdMs: settings.limits.fenceHoldMs, queueLimit: settings.limits.fenceQueueLimit });
  const confirmation = new MappingConfirmation(settings.routerStaleAfterMs);
  const link = new ControlLink({
    open: options.openPlane,
    mapping,
    upstreams,
    fences,
    fenceLeaseMs: () => limits().fenceLeaseMs,
    log: options.log,
    mappingConfirmed: (sentAt) => confirmation.mappingRead(sentAt),
  });
  return { mapping, upstreams, fences, metrics: new RouterMetrics(), confirmation, link };
}

/**
 * Builds what one version of the settings needs, and tells the long-lived parts of it: the mapping
 * its placement, the confirmation its bound. The rate limiter keeps its counts unless its own
 * setting changed.
 */
function buildHandler(parts: LongLived, settings: Settings, previous: Handler | null, jwtKey: Uint8Array, health: () => PublicRouterHealth): Handler {
  const { limits } = settings;
  const { mapping, upstreams, fences, confirmation, metrics, link } = parts;
  const unavailable = unavailableText(settings.auth);
  confirmation.setBound(settings.routerStaleAfterMs);
  mapping.configure(settings.placement, settings.placementTemplate);
  const limiter = previous?.limiter.sameWindow(limits.rateLimit.requests, limits.rateLimit.windowSeconds)
    ? previous.limiter
    : RateLimiter.perWindow(limits.rateLimit.requests, limits.rateLimit.windowSeconds);
  const route = createRequestPolicy({
    limits,
    mapping,
    upstreams,
    fences,
    confirmation,
    limiter,
    metrics,
    verifier: settings.auth === 'jwt' ? new TokenVerifier(jwtKey, { requireExp: settings.jwtRequireExp }) : null,
    unavailableText: unavailable,
    forward: createForwarder(upstreams, metrics, limits.upstreamTimeoutMs, unavailable),
    pin: (customerId, cellId) => link.pin(customerId, cellId),
    health,
  });
  return { route, limiter };
}

/** Where the router listens: its public host and port, and its admin API's. */
interface BoundAddresses {
  host: string;
  publicPort: number;
  adminHost: string;
  adminPort: number;
}

/** Takes both ports; one that cannot be taken ends the start with nothing left open (no timer, no connection). */
async function listenBoth(options: RouterOptions, host: string, frontDoor: FrontDoor, adminServer: http.Server, link: ControlLink): Promise<BoundAddresses> {
  const { settings } = options;
  const publicPort = await listenOn(frontDoor.server, options.publicPort ?? settings.routerPort, host, "the router's public port").catch(async (error) => {
    await link.close();
    throw error;
  });
  const adminHost = options.adminHost ?? settings.routerAdminHost;
  const adminPort = await listenOn(adminServer, options.adminPort ?? settings.routerAdminPort, adminHost, "the router's admin API").catch(async (error) => {
    frontDoor.server.close();
    await link.close();
    throw error;
  });
  return { host, publicPort, adminPort, adminHost };
}

/** The router's timers: the mapping read, the journal's fences, cell health, the settings watch, the rate limiter's sweep. */
function startTimers(options: RouterOptions, parts: LongLived, inForce: SettingsSwitch<Handler>): NodeJS.Timeout[] {
  const { link, upstreams, mapping } = parts;
  // Healthy cells are checked every second; cells marked down four times as often, so one that
  // comes back (a restart, a late start) is routed to again within a quarter of a second.
  const healthInterval = options.cellHealthIntervalMs ?? 1_000;
  const checkCells = () => {
    const now = Date.now();
    for (const upstream of upstreams.all()) {
      const cell = mapping.cell(upstream.cellId);
      if (!cell || (upstream.healthy && now - upstream.checkedAt < healthInterval)) continue;
      void upstreams.check(upstream, cell.healthPath).then((passed) => {
        // A cell enters placement once a check of it passed, whoever started it (the supervisor, the
        // CLI, an engine, a compose file): never on the health a new upstream is assumed to have.
        if (passed && cell.firstHealthyAt === null) void link.markCellHealthy(cell.id);
      });
    }
  };
  checkCells();
  return [
    // At least as often as the heartbeat: each read that finds the mapping current confirms it.
    setInterval(() => void link.refresh(), Math.min(options.mappingPollMs ?? 1_000, options.settings.routerHeartbeatMs)),
    // Journal steps bump no mapping version (no notice): while a fence learned from the journal is
    // held, read it ten times a second, so the fence lifts soon after the move moves on.
    setInterval(() => {
      if (link.holdsJournalFences) void link.refresh();
    }, JOURNAL_FENCE_POLL_MS),
    setInterval(checkCells, Math.max(50, Math.floor(healthInterval / 4))),
    // A hand edit of cellctl.json applies within a second; an invalid one is logged and ignored.
    setInterval(() => inForce.watch(), 1_000),
    setInterval(() => {
      inForce.current.built.limiter.sweep(Date.now());
      if (link.hasPendingPins) void link.flushPins();
    }, 5_000),
  ];
}

interface FrontDoor {
  server: net.Server;
  stats(): FrontDoorStats;
  /** Stops accepting; idle connections close now, busy ones once their answer is out. */
  close(): Promise<void>;
}

/**
 * The public port: each connection is read by the byte-level front door (frontdoor.ts), within the
 * caps on connections and buffered bytes; requests outside the fast path (chunked bodies, HTTP/1.0,
 * Expect, odd heads) are read by Node's HTTP server, which gets those connections from the front
 * door and never listens itself.
 */
function openFrontDoor(current: () => Limits, metrics: RouterMetrics, handle: (exchange: PublicExchange) => void): FrontDoor {
  // Buffered bytes and the request timeout are restart-only settings (live-settings.ts): read once.
  const { maxBufferedBytes, requestTimeoutMs } = current();
  const budget = new InputBudget(maxBufferedBytes);
  const fallback = http.createServer(
    {
      keepAliveTimeout: IDLE_TIMEOUT_MS,
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(requestTimeoutMs, 60_000),
      connectionsCheckingInterval: Math.max(50, Math.min(requestTimeoutMs / 4, 30_000)),
    },
    (req, res) => handle(new NodeExchange(req, res, current().maxBodyBytes, budget)),
  );
  // Node tracks its connections' request and header deadlines (and closeAllConnections) only from a
  // 'listening' event; this server never listens, so it is told.
  fallback.emit('listening');
  const connections = new Set<Connection>();
  /** Times a connection stopped being read for sending more than limits.pipelining ahead of its answers. */
  let pipelinePauses = 0;
  const stoppedFor = (reason: ReadingStopped) => [...connections].filter((connection) => connection.stoppedFor() === reason).length;
  const server = net.createServer((socket) => {
    const limits = current();
    if (connections.size >= limits.maxClientConnections) {
      metrics.recordRejected('too_many_connections');
      const answer = routerError('too_many_connections', {
        details: `the router serves ${limits.maxClientConnections} client connections at most; retry shortly`,
      });
      return turnAway(socket, answer.status, answer.body, { 'retry-after': '1' });
    }
    const connection = serveConnection(socket, {
      dispatch: handle,
      fallback,
      maxHeadBytes: MAX_HEAD_BYTES,
      // Read at each request, so a lowered limit (config set, applied live) reaches open connections too.
      get maxBodyBytes() {
        return current().maxBodyBytes;
      },
      get pipelining() {
        return current().pipelining;
      },
      onPipelineLimited: () => (pipelinePauses += 1),
      idleTimeoutMs: IDLE_TIMEOUT_MS,
      requestTimeoutMs: requestTimeoutMs,
      budget,
    });
    connections.add(connection);
    socket.once('close', () => connections.delete(connection));
  });
  return {
    server,
    stats: () => ({
      clientConnections: connections.size,
      bufferedBytes: budget.used,
      unreadConnections: stoppedFor('answers unread'),
      pipelineLimitedConnections: stoppedFor('pipelining'),
      pipelinePauses,
    }),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of connections) connection.shutdown();
      fallback.closeIdleConnections();
      // Connections handed to Node's server get a moment to finish their answer, then are cut.
      const cut = setTimeout(() => fallback.closeAllConnections(), 2_000);
      await closed;
      clearTimeout(cut);
      fallback.close(() => undefined); // stops its connection-deadline timer
    },
  };
}

/** One access log line: the request, what answered it (a cell, or the router itself), how long it took; 499 when the client left first, as nginx says. */
function logAccess(log: Logger, exchange: PublicExchange, started: number): void {
  log.info(
    {
      method: exchange.method,
      url: exchange.url,
      status: exchange.status || 499,
      cell: exchange.cell ?? 'router',
      ms: Math.round((performance.now() - started) * 100) / 100,
      client: exchange.client,
    },
    'request',
  );
}
