// Port checks: is a TCP port free on this machine, and which is the next free one.
import net from 'node:net';
import { failure } from './errors.js';

export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The first port from `start` that no cell has claimed and nothing listens on. */
export async function nextFreePort(start: number, claimed: ReadonlySet<number>): Promise<number> {
  for (let port = start; port <= 65535; port += 1) {
    if (!claimed.has(port) && (await isPortFree(port))) return port;
  }
  throw failure(
    start > 65535
      ? `no port above ${start - 1} (the last TCP port is 65535; a cell's data API takes the first free port after the cell's own): choose a lower --port`
      : `no free port from ${start} to 65535 (a cell's data API takes the first free port after the cell's own): choose a lower --port, or a lower cellPortBase`,
  );
}
