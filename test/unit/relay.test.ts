// Cell connections against local servers: one that accepts and never answers (a stopped cell), where
// the health check must not wait behind stuck requests for a connection; one that reads a request
// and drops the connection before answering (a cell killed after its commit); and a port where
// nothing listens.
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type FailReason, CellLinks, fetchSmall } from '../../src/router/relay.js';

const servers: (net.Server | http.Server)[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers) if (server instanceof http.Server) server.closeAllConnections();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A listening port whose connections are accepted, and read, but never answered. */
async function silentCell(): Promise<number> {
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.resume();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

describe('health checks of a cell whose connections are all stuck', () => {
  it('time out on their own connection instead of queueing behind the stuck requests', async () => {
    const links = new CellLinks({ host: '127.0.0.1', port: await silentCell() }, 1);
    let stuckFailed = false;
    const stuck = new Promise<void>((resolve) =>
      links.exchange(
        { method: 'GET', head: 'GET /slow HTTP/1.1\r\nhost: c\r\n\r\n', body: null, timeoutMs: 3_000 },
        { start: () => undefined, data: () => true, end: () => resolve(), fail: () => ((stuckFailed = true), resolve()) },
      ),
    );
    const check = await fetchSmall(links, '/health', 200).then(
      () => 'answered',
      (error: { reason?: string }) => error.reason,
    );
    expect(check).toBe('timeout');
    expect(stuckFailed).toBe(false); // the check did not have to wait for the stuck request's connection
    links.close();
    void stuck;
  });
});

/**
 * A cell that answers the first request on each connection and reads every later one whole, records
 * it, then destroys the connection without answering: to the router, a cell that died after it
 * committed. `fresh`: it dies on the first request of a connection already.
 */
async function cellThatDies(fresh: boolean): Promise<{ port: number; seen: string[] }> {
  const seen: string[] = [];
  const served = new WeakMap<net.Socket, number>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const count = served.get(req.socket) ?? 0;
      served.set(req.socket, count + 1);
      seen.push(`${req.method} ${req.url}`);
      if (fresh || count > 0) req.socket.destroy();
      else res.end('ok');
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, seen };
}

type Outcome = { status: number } | { failed: FailReason; started: boolean };

function send(links: CellLinks, method: string, path: string, body: string | null = null): Promise<Outcome> {
  const length = body === null ? '' : `content-length: ${Buffer.byteLength(body)}\r\n`;
  return new Promise((resolve) => {
    let status = 0;
    links.exchange(
      { method, head: `${method} ${path} HTTP/1.1\r\nhost: c\r\n${length}\r\n`, body: body === null ? null : Buffer.from(body), timeoutMs: 5_000 },
      {
        start: (head) => (status = head.status),
        data: () => true,
        end: () => resolve({ status }),
        fail: (reason, _detail, started) => resolve({ failed: reason, started }),
      },
    );
  });
}

describe('a connection that fails during an exchange', () => {
  it('is "unavailable" when nothing listens: the cell cannot have received the request', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const links = new CellLinks({ host: '127.0.0.1', port }, 2);
    expect(await send(links, 'POST', '/orders', '{}')).toEqual({ failed: 'unavailable', started: false });
    links.close();
  });

  it('is "lost" once the request was written: the cell read it and died before answering, and it is not sent again', async () => {
    const cell = await cellThatDies(true);
    const links = new CellLinks({ host: '127.0.0.1', port: cell.port }, 2);
    expect(await send(links, 'POST', '/orders', '{"items":[1]}')).toEqual({ failed: 'lost', started: false });
    expect(cell.seen).toEqual(['POST /orders']);
    // A GET on a new connection is not sent again either: only a reused connection's is.
    expect(await send(links, 'GET', '/orders')).toEqual({ failed: 'lost', started: false });
    expect(cell.seen).toEqual(['POST /orders', 'GET /orders']);
    links.close();
  });

  it('is "lost" for a POST on a reused connection, sent once', async () => {
    const cell = await cellThatDies(false);
    const links = new CellLinks({ host: '127.0.0.1', port: cell.port }, 1);
    expect(await send(links, 'GET', '/first')).toEqual({ status: 200 });
    expect(await send(links, 'POST', '/orders', '{}')).toEqual({ failed: 'lost', started: false });
    expect(cell.seen).toEqual(['GET /first', 'POST /orders']);
    links.close();
  });

  it('sends a GET that failed on a reused connection once more, on a new one', async () => {
    const cell = await cellThatDies(false);
    const links = new CellLinks({ host: '127.0.0.1', port: cell.port }, 1);
    expect(await send(links, 'GET', '/first')).toEqual({ status: 200 });
    expect(await send(links, 'GET', '/again')).toEqual({ status: 200 });
    expect(cell.seen).toEqual(['GET /first', 'GET /again', 'GET /again']);
    links.close();
  });
});
