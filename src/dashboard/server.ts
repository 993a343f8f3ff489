// The dashboard's HTTP server on 127.0.0.1: the page and its assets (uPlot from the package, never
// a CDN), the live view as Server-Sent Events, and the customer search; all behind the access token.
import fs from 'node:fs';
import http from 'node:http';
import { listenOn } from '../shared/listen.js';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeError } from '../shared/errors.js';
import { CUSTOMER_ID } from '../shared/names.js';
import type { Workspace } from '../workspace/workspace.js';
import { accessCookie, tokenShown } from './access.js';
import { lookUpCustomer } from './customer.js';
import type { DashboardView } from './protocol.js';
import { Sampler } from './sampler.js';
import { PAGE_CSS, PAGE_HTML } from './shell.js';

const UPLOT_DIST = path.dirname(createRequire(import.meta.url).resolve('uplot'));
const PAGE_SCRIPT = fileURLToPath(new URL('./page/app.js', import.meta.url));

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  // The first URL carries the token: no page it links to may see it.
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
};

const STATIC: Record<string, { type: string; body: () => string | Buffer }> = {
  '/': { type: 'text/html; charset=utf-8', body: () => PAGE_HTML },
  '/style.css': { type: 'text/css; charset=utf-8', body: () => PAGE_CSS },
  '/app.js': { type: 'text/javascript; charset=utf-8', body: () => fs.readFileSync(PAGE_SCRIPT) },
  '/vendor/uPlot.iife.min.js': { type: 'text/javascript; charset=utf-8', body: () => fs.readFileSync(path.join(UPLOT_DIST, 'uPlot.iife.min.js')) },
  '/vendor/uPlot.min.css': { type: 'text/css; charset=utf-8', body: () => fs.readFileSync(path.join(UPLOT_DIST, 'uPlot.min.css')) },
};

export interface DashboardOptions {
  ws: Workspace;
  token: string;
  intervalMs: number;
}

export class DashboardServer {
  private readonly server: http.Server;
  private readonly sampler: Sampler;
  private readonly streams = new Set<http.ServerResponse>();
  private port = 0;

  constructor(private readonly options: DashboardOptions) {
    this.sampler = new Sampler(options.ws, options.intervalMs, (view) => this.broadcast(view));
    this.server = http.createServer((request, response) => this.handle(request, response));
  }

  /** Listens on 127.0.0.1:`port` (0: any free one) and starts sampling; resolves the port. */
  async listen(port: number): Promise<number> {
    this.port = await listenOn(this.server, port, '127.0.0.1', 'the dashboard');
    this.sampler.start();
    return this.port;
  }

  async close(): Promise<void> {
    this.sampler.stop();
    for (const stream of this.streams) stream.end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private broadcast(view: DashboardView): void {
    const message = `data: ${JSON.stringify(view)}\n\n`;
    for (const stream of this.streams) stream.write(message);
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const shown = tokenShown({ url, authorization: request.headers.authorization, cookie: request.headers.cookie, port: this.port }, this.options.token);
    if (shown === null)
      return this.answer(response, 401, 'text/plain; charset=utf-8', 'this dashboard needs the token in the URL "cellctl dashboard" printed\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') return this.answer(response, 405, 'text/plain; charset=utf-8', 'the dashboard is read-only\n');
    const extra: Record<string, string> = shown === 'query' ? { 'set-cookie': accessCookie(this.port, this.options.token) } : {};
    if (url.pathname === '/events') return this.stream(response);
    if (url.pathname === '/favicon.ico') return this.answer(response, 204, 'image/x-icon', '');
    if (url.pathname.startsWith('/api/customers/')) return this.customer(response, url.pathname.slice('/api/customers/'.length));
    const asset = STATIC[url.pathname];
    if (!asset) return this.answer(response, 404, 'text/plain; charset=utf-8', 'not found\n');
    try {
      this.answer(response, 200, asset.type, asset.body(), extra);
    } catch (error) {
      this.answer(response, 500, 'text/plain; charset=utf-8', `the dashboard page is not built (${describeError(error)}): run "npm run build"\n`);
    }
  }

  private answer(response: http.ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
    response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, ...headers });
    response.end(body);
  }

  private stream(response: http.ServerResponse): void {
    response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream', connection: 'keep-alive' });
    // A page that opens while the sampler waits gets the last view at once.
    if (this.sampler.latest) response.write(`data: ${JSON.stringify(this.sampler.latest)}\n\n`);
    this.streams.add(response);
    response.on('close', () => this.streams.delete(response));
  }

  private customer(response: http.ServerResponse, encoded: string): void {
    let id = encoded;
    try {
      id = decodeURIComponent(encoded);
    } catch {
      // left encoded: the id check below refuses it
    }
    if (!CUSTOMER_ID.test(id)) return this.answer(response, 400, 'application/json', JSON.stringify({ error: `"${id}" is not a customer id` }));
    lookUpCustomer(this.options.ws, id).then(
      (found) => this.answer(response, 200, 'application/json', JSON.stringify(found)),
      (error: unknown) => this.answer(response, 500, 'application/json', JSON.stringify({ error: describeError(error) })),
    );
  }
}
