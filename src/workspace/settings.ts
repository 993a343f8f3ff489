// cellctl.json: the workspace's settings. Parsed once, at the edge, into a typed value.
import { z } from 'zod';
import { isLoopbackHost } from '../shared/urls.js';

export const SETTINGS_FORMAT = 'cellctl-workspace/1';

/** The fields limits.rateLimit replaced: an old cellctl.json that has them is told what to write instead. */
const REPLACED_RATE_FIELDS = ['rateLimitPerSecond', 'rateLimitBurst'];

const limitsSchema = z.strictObject(
  {
    /**
     * Requests per customer per window at the router, the intermediate example's 100 per 60 s by
     * default: a bucket of `requests` that refills over `windowSeconds`.
     */
    rateLimit: z.strictObject({ requests: z.number().int().positive(), windowSeconds: z.number().positive() }).default({ requests: 100, windowSeconds: 60 }),
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    upstreamTimeoutMs: z.number().int().positive().default(10_000),
    /** How long the router holds a fenced customer's request before answering 503. */
    fenceHoldMs: z.number().int().positive().default(5_000),
    /** How many requests per fenced customer the router holds before answering 503. */
    fenceQueueLimit: z.number().int().positive().default(1_000),
    /** How long a fence lives without renewal: a dead CLI cannot hold a customer for ever. */
    fenceLeaseMs: z.number().int().positive().default(10_000),
    /**
     * How long a running migration stays its owner's without renewal (renewed every third of it):
     * resume/abort from another process wait this long for a silent owner before taking over.
     */
    migrationLeaseMs: z.number().int().min(200).default(15_000),
    /**
     * How long a move keeps retrying its source purge (after the switch) while the source's database
     * is locked by another writer, before it stops and says so; `migrate resume` finishes it later.
     */
    purgeBusyRetryMs: z.number().int().min(0).default(60_000),
    /** A move of customers with more rows than this copies online (the fence holds only the cutover); up to it, a fenced copy. */
    onlineMoveRows: z.number().int().min(0).default(200),
    /** Changes an online move may leave for the cutover (under the fence); --max-lag overrides it for one move. */
    maxLag: z.number().int().min(0).max(100_000).default(500),
    /** How long an online move's catch-up may take to get under maxLag before --cutover decides (abort, or force the cutover). */
    catchUpMs: z.number().int().min(0).default(30_000),
    /** After each page of an online copy or a purge, the move waits this many times as long as the page took: the cells keep that share of their time for their other customers (0: no wait). */
    onlineCopyPace: z.number().min(0).max(10).default(1),
    // The router's front door: a slow or greedy client cannot take the router's time or memory.
    /** How long a client may take to send one whole request (head and body); 408 after it. */
    requestTimeoutMs: z.number().int().positive().default(30_000),
    /** Open client connections the router serves at once; one more is answered 503 and closed. */
    maxClientConnections: z.number().int().positive().default(4_096),
    /** Bytes held for unfinished requests over all client connections; past it the largest holder gets 503. */
    maxBufferedBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024 * 1024),
    /**
     * How far one client connection is read ahead of the answer it waits for: whole requests waiting
     * their turn, and the bytes held for them. Past either, the router stops reading it until its
     * answers catch up, so a pipelining client that keeps sending cannot fill the router's memory.
     */
    pipelining: z.strictObject({ requests: z.number().int().positive(), bytes: z.number().int().min(1024) }).default({ requests: 16, bytes: 1024 * 1024 }),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys' && issue.keys.some((key) => REPLACED_RATE_FIELDS.includes(key))
        ? `${issue.keys.join(', ')} ${issue.keys.length === 1 ? 'is' : 'are'} no longer read: the rate limit is now limits.rateLimit, requests per customer per window, e.g. "rateLimit": {"requests": 100, "windowSeconds": 60}; replace the old fields with it`
        : undefined,
  },
);

const supervisorSchema = z.strictObject({
  backoffInitialMs: z.number().int().positive().default(250),
  backoffMaxMs: z.number().int().positive().default(15_000),
  /** A process that stays up this long has its backoff reset. */
  stableAfterMs: z.number().int().positive().default(10_000),
  /** This many crashes within crashLoopWindowMs leaves the process in the crash-loop state. */
  crashLoopLimit: z.number().int().positive().default(5),
  crashLoopWindowMs: z.number().int().positive().default(60_000),
  stopTimeoutMs: z.number().int().positive().default(5_000),
  healthIntervalMs: z.number().int().positive().default(2_000),
  /** A process alive but failing its health check this long is hung: it is killed and restarted. */
  unhealthyRestartMs: z.number().int().positive().default(30_000),
});

/**
 * Where an engine runtime runs the workspace's processes: the image every container runs, and the
 * network joining them (a subnet of its own, so each cell keeps its address across restarts).
 */
const engineSchema = z.strictObject({
  image: z.string().min(1),
  network: z.string().min(1),
  /** The docker runtime's bridge subnet (fixed cell addresses); a swarm's overlay needs none. */
  subnet: z
    .string()
    .regex(/^\d+\.\d+\.\d+\.\d+\/\d+$/, 'an IPv4 subnet such as 10.213.7.0/24')
    .optional(),
});

export const RUNTIMES = ['local', 'docker', 'swarm'] as const;
export type RuntimeKind = (typeof RUNTIMES)[number];

export const settingsSchema = z.strictObject({
  format: z.literal(SETTINGS_FORMAT),
  /**
   * Who runs the processes: `local`, the embedded supervisor (the default, and a workspace without the
   * field); `docker`, one Docker Engine (a container per cell and one for the router); `swarm`, a
   * Docker Swarm (a service per cell pinned to a node, the routers a global service). Set at init.
   */
  runtime: z.enum(RUNTIMES).default('local'),
  /** The workspace's id, made at init: the `cellctl.workspace` label of its containers. */
  workspaceId: z
    .string()
    .regex(/^[a-z0-9]{6,32}$/, '6 to 32 lowercase letters and digits')
    .optional(),
  /** The engine runtime's image and network (runtimes docker and swarm). */
  engine: engineSchema.optional(),
  routerPort: z.number().int().min(1024).max(65535),
  routerAdminPort: z.number().int().min(1024).max(65535),
  /** Address the router's public port binds: loopback by default; "0.0.0.0" exposes it (use auth "jwt"). */
  routerHost: z.string().min(1).default('127.0.0.1'),
  /**
   * Address the supervised router's admin API binds (bearer admin token): loopback by default; an
   * address other hosts reach (or "0.0.0.0") lets cellctl on those hosts fence it for moves.
   */
  routerAdminHost: z.string().min(1).default('127.0.0.1'),
  /** How often each router writes its heartbeat to the control plane (one silent for routerStaleAfterMs is not live). */
  routerHeartbeatMs: z.number().int().min(50).max(60_000).default(1_000),
  /** The first port tried for a new cell when `create` is not given --port. */
  cellPortBase: z.number().int().min(1024).max(65535),
  auth: z.enum(['none', 'jwt']).default('none'),
  /** JWT mode refuses tokens without an `exp` claim; false accepts them (issue 10). */
  jwtRequireExp: z.boolean().default(true),
  placement: z.enum(['hash', 'least-loaded']).default('hash'),
  /**
   * Each router logs one line per request it answers (method, path, status, the cell that answered,
   * milliseconds, the client's address), so `cellctl logs router` says whether a request arrived.
   */
  accessLog: z.boolean().default(false),
  /**
   * New customers are placed only in cells of this template (a client speaks one app's API); other
   * cells get customers by assign or a move. Set at init/up, or by the first cell created.
   */
  placementTemplate: z.string().min(1).nullable().default(null),
  /**
   * A router whose last heartbeat in the control plane is older than this is no longer live: moves
   * neither fence it nor wait for it (3 × the router's 1 s heartbeat).
   */
  routerStaleAfterMs: z.number().int().positive().default(3_000),
  /** Extra folders searched for templates, before the built-in ones. */
  templatePaths: z.array(z.string()).default([]),
  limits: limitsSchema.default(limitsSchema.parse({})),
  supervisor: supervisorSchema.default(supervisorSchema.parse({})),
});

export type Settings = z.infer<typeof settingsSchema>;
export type Limits = Settings['limits'];
export type SupervisorSettings = Settings['supervisor'];

export function defaultSettings(routerPort: number): Settings {
  return settingsSchema.parse({
    format: SETTINGS_FORMAT,
    routerPort,
    routerAdminPort: routerPort + 1,
    cellPortBase: routerPort + 100,
  });
}

/** A warning when the router's public port is reachable from other machines with no authentication. */
export function exposureWarning(settings: Pick<Settings, 'routerHost' | 'auth'>): string | null {
  if (isLoopbackHost(settings.routerHost) || settings.auth !== 'none') return null;
  return `the router listens on ${settings.routerHost} with auth "none": anyone who reaches this machine can read and change every customer's data; set "cellctl config set auth jwt" or "cellctl config set routerHost 127.0.0.1"`;
}
