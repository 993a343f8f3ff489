// The cell data API over HTTP (protocol.ts): the route table, the bearer-token check and body
// validation in front of DataService. Served by the cell runtime for built-in apps, and by
// `cellctl cell-agent` beside a user's app.
import fs from 'node:fs';
import http from 'node:http';
import { listenOn } from '../shared/listen.js';
import { describeError, failure } from '../shared/errors.js';
import type { z } from 'zod';
import { hasBearerToken } from '../shared/bearer.js';
import { createRequestListener, HttpError, type RequestContext, type RequestListener, type RouteDef } from '../shared/http.js';
import { sqliteRequests } from '../shared/sqlite-requests.js';
import { formatIssues } from '../shared/validation.js';
import { DATA_API_PREFIX, dataTokenProblem, MAX_DATA_BODY_BYTES, requests } from './protocol.js';
import { DataService, type DataServiceOptions } from './service.js';

export interface DataApiOptions extends DataServiceOptions {
  token: string;
  onError?: (error: unknown) => void;
}

/** The body as the request schema reads it; anything else is 400 bad_request listing each problem. */
async function parseBody<T>(ctx: RequestContext, schema: z.ZodType<T>): Promise<T> {
  let raw: unknown;
  try {
    raw = await ctx.body();
  } catch (error) {
    if (error instanceof HttpError && error.status === 400) throw new HttpError('bad_request', error.message);
    throw error;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new HttpError('bad_request', formatIssues(parsed.error));
  return parsed.data;
}

export function dataRoutes(service: DataService, token: string): RouteDef[] {
  const guard = (ctx: RequestContext): void => {
    if (!hasBearerToken(ctx.req.headers.authorization, token)) {
      throw new HttpError('unauthorized', 'send the cell\'s data API token as "Authorization: Bearer <token>"');
    }
  };
  const get = (name: string, answer: () => unknown): RouteDef => ({
    method: 'GET',
    path: `${DATA_API_PREFIX}/${name}`,
    handler: (ctx) => {
      guard(ctx);
      return { status: 200, body: answer() };
    },
  });
  const post = <T>(name: string, schema: z.ZodType<T>, answer: (request: T) => unknown): RouteDef => ({
    method: 'POST',
    path: `${DATA_API_PREFIX}/${name}`,
    handler: async (ctx) => {
      guard(ctx);
      return { status: 200, body: answer(await parseBody(ctx, schema)) };
    },
  });
  return [
    // Without a token, as every cellctl process answers its supervisor: up, its database readable and taking writes.
    { method: 'GET', path: '/health', handler: () => service.health() },
    get('info', () => service.info()),
    get('barriers', () => service.barriers()),
    post('summary', requests.summary, (request) => service.summary(request)),
    post('customers', requests.customers, (request) => service.customers(request)),
    post('export', requests.export, (request) => service.export(request)),
    post('import', requests.import, (request) => service.import(request)),
    post('purge', requests.purge, (request) => service.purge(request)),
    post('barrier', requests.barrier, (request) => service.barrier(request)),
    post('unbar', requests.unbar, (request) => service.unbar(request)),
    post('capture', requests.capture, (request) => service.capture(request)),
    post('capture/stop', requests.captureStop, (request) => service.captureStop(request)),
    post('changes', requests.changes, (request) => service.changes(request)),
    post('apply', requests.apply, (request) => service.apply(request)),
  ];
}

/** A request listener serving the data API of one database (opened here, with its barrier installed). */
export function createDataApi(options: DataApiOptions): { listener: RequestListener; service: DataService } {
  const service = new DataService(options);
  const listener = createRequestListener(dataRoutes(service, options.token), {
    onError: options.onError ?? (() => {}),
    maxBodyBytes: MAX_DATA_BODY_BYTES,
    store: sqliteRequests,
  });
  return { listener, service };
}

export interface RunningDataApi {
  server: http.Server;
  port: number;
  service: DataService;
  close(): Promise<void>;
}

/** Serves the data API on host:port until closed. */
export async function startDataApi(options: DataApiOptions & { host: string; port: number }): Promise<RunningDataApi> {
  const { listener, service } = createDataApi(options);
  const server = http.createServer({ keepAliveTimeout: 65_000 }, listener);
  server.headersTimeout = 30_000;
  try {
    await listenOn(server, options.port, options.host, `cell ${options.cellId}'s data API`);
  } catch (error) {
    service.close();
    throw error;
  }
  const address = server.address();
  let closing: Promise<void> | null = null;
  return {
    server,
    port: typeof address === 'object' && address ? address.port : options.port,
    service,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }).then(() => service.close())),
  };
}

/** A data API token from its file (one line; mode 0600 is the writer's business). */
export function readDataToken(file: string): string {
  let token: string;
  try {
    token = fs.readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw failure(`cannot read the data API token file ${file}: ${describeError(error)}; pass the file the workspace made (secrets/cells/<cell>.token)`);
  }
  const problem = dataTokenProblem(token);
  if (problem) throw failure(`the data API token in ${file} ${problem}`);
  return token;
}
