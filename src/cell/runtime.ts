// The cell runtime: opens the cell's database, mounts a built-in app, adds /health and /metrics,
// listens, and on TERM stops taking requests, finishes the ones in flight, and closes the database.
// Given `data`, it also serves the cell's data API (src/data) on its own port, started first so the
// barrier triggers are in place before the app takes a write.
import type Database from 'better-sqlite3';
import http from 'node:http';
import type { Logger } from 'pino';
import { listenOn } from '../shared/listen.js';
import { Gauge, Registry } from 'prom-client';
import type { BuiltinApp } from './apps/builtin.js';
import type { CellApp } from './apps/app.js';
import { createBasicApp } from './apps/basic.js';
import { createEcommerceApp } from './apps/ecommerce.js';
import { openCellDatabase } from './datadb.js';
import { createRequestListener, type RouteDef } from '../shared/http.js';
import { sqliteRequests } from '../shared/sqlite-requests.js';
import { spellNaN } from '../shared/prometheus.js';
import { WRITES_CHECK } from '../shared/health.js';
import { type RunningDataApi, startDataApi } from '../data/server.js';
import type { DataTable } from '../data/tables.js';

/** Where and how the cell serves its data API. */
export interface CellDataApi {
  host: string;
  port: number;
  token: string;
  /** The template's customer tables, parents first (parseDataTables). */
  tables: DataTable[];
}

export interface CellOptions {
  cellId: string;
  port: number;
  host: string;
  dbFile: string;
  app: BuiltinApp;
  schemaVersion: number | null;
  log: Logger;
  env: NodeJS.ProcessEnv;
  /** Null: no data API (a cell started by hand for a quick look). */
  data?: CellDataApi | null;
}

export interface RunningCell {
  server: http.Server;
  port: number;
  /** The data API's port, when it serves one. */
  dataPort: number | null;
  close(): Promise<void>;
}

const APPS: Record<BuiltinApp, (ctx: Parameters<typeof createBasicApp>[0]) => CellApp> = {
  basic: createBasicApp,
  ecommerce: createEcommerceApp,
};

/**
 * GET /health: the app's own answer (the examples' shapes), 503 when unhealthy. With a data API, its
 * write probe joins in: a database that refuses writes makes the cell unhealthy, under the app's
 * checks (or beside the beginner's `database` field).
 */
function healthRoute(app: CellApp, data: RunningDataApi | null): RouteDef {
  return {
    method: 'GET',
    path: '/health',
    handler: async () => {
      const { healthy, body } = app.health();
      const refusal = data ? await data.service.probeWrites() : null;
      if (refusal === null) return { status: healthy ? 200 : 503, body };
      const check = `unhealthy: ${refusal}`;
      const checks = body.checks && typeof body.checks === 'object' ? { checks: { ...body.checks, [WRITES_CHECK]: check } } : { [WRITES_CHECK]: check };
      return { status: 503, body: { ...body, status: 'unhealthy', ...checks } };
    },
  };
}

function metricsRoute(cellId: string, app: CellApp): RouteDef {
  const registry = new Registry();
  registry.setDefaultLabels({ cell: cellId });
  const names = Object.keys(app.metrics());
  let latest: Record<string, number> = {};
  for (const name of names) {
    new Gauge({
      name: `cell_${name}`,
      help: `${name.replace(/_/g, ' ')} in this cell`,
      registers: [registry],
      collect() {
        this.set(latest[name] ?? 0);
      },
    });
  }
  return {
    method: 'GET',
    path: '/metrics',
    handler: async ({ req, query }) => {
      latest = app.metrics();
      // Prometheus scrapers ask for text/plain or OpenMetrics; clients that also accept JSON get JSON.
      const accept = req.headers.accept ?? '';
      const wantsText = query.get('format') === 'prometheus' || (/text\/plain|openmetrics/.test(accept) && !accept.includes('application/json'));
      if (!wantsText) return { status: 200, body: { cell_id: cellId, ...latest, timestamp: new Date().toISOString() } };
      return { status: 200, text: spellNaN(await registry.metrics()), headers: { 'content-type': registry.contentType } };
    },
  };
}

export async function startCell(options: CellOptions): Promise<RunningCell> {
  const db: Database.Database = openCellDatabase(options.dbFile, options.schemaVersion);
  let data: RunningDataApi | null = null;
  if (options.data) {
    try {
      data = await startDataApi({
        ...options.data,
        dbFile: options.dbFile,
        cellId: options.cellId,
        onError: (error) => options.log.error({ err: error }, 'data API request failed'),
      });
    } catch (error) {
      db.close();
      throw error;
    }
  }
  const app = APPS[options.app]({ db, cellId: options.cellId, log: options.log, env: options.env });
  const listener = createRequestListener([healthRoute(app, data), metricsRoute(options.cellId, app), ...app.routes], {
    onError: (error) => options.log.error({ err: error }, 'request failed'),
    onBusy: (req) => options.log.info({ method: req.method, url: req.url }, 'database busy: the request waits for the write lock'),
    store: sqliteRequests,
  });
  const server = http.createServer({ keepAliveTimeout: 65_000 }, listener);
  server.headersTimeout = 30_000;
  try {
    await listenOn(server, options.port, options.host, `cell ${options.cellId}`);
  } catch (error) {
    await data?.close();
    await app.close();
    db.close();
    throw error;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await data?.close();
      await app.close();
      db.close();
    })();
    return closing;
  };
  return { server, port, dataPort: data?.port ?? null, close };
}
