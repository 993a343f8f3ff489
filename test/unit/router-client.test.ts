// The router admin client's reading of failures: only a refused connection means "no router". A
// router that does not answer in time is there, and a move must not go on as if it were not.
import axios from 'axios';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { isRouterDown } from '../../src/router/client.js';
import { freePort } from '../helpers.js';

const sockets: net.Socket[] = [];
const silent = net.createServer((socket) => sockets.push(socket));
afterAll(() => {
  for (const socket of sockets) socket.destroy();
  silent.close();
});

async function errorFrom(url: string): Promise<unknown> {
  try {
    await axios.get(url, { timeout: 200 });
  } catch (error) {
    return error;
  }
  throw new Error('expected the request to fail');
}

describe('isRouterDown', () => {
  it('is true when nothing listens on the admin port', async () => {
    expect(isRouterDown(await errorFrom(`http://127.0.0.1:${await freePort()}/admin/stats`))).toBe(true);
  });

  it('is false when a router accepts the connection but does not answer in time', async () => {
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    expect(isRouterDown(await errorFrom(`http://127.0.0.1:${port}/admin/stats`))).toBe(false);
  });
});
