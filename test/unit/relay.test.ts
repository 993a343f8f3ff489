// Cell connections against a local server that accepts and never answers (a stopped cell): the
// health check must not wait behind stuck requests for a connection.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CellLinks, fetchSmall } from '../../src/router/relay.js';

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
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
