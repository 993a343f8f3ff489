// The one way a cellctl server starts listening: the port it got, or an error that says which address
// and port could not be taken and how to fix it (a port in use, an address this machine lacks).
import type net from 'node:net';
import { failure } from './errors.js';

/** Listens on host:port (0: any free port); resolves the port. `what` names the server in a failure ("the router's public port"). */
export function listenOn(server: net.Server, port: number, host: string, what: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => reject(explainListen(error, port, host, what));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** A listen error in the user's words; anything else as it came. */
export function explainListen(error: NodeJS.ErrnoException, port: number, host: string, what: string): Error {
  switch (error.code) {
    case 'EADDRINUSE':
      return failure(`${what} cannot listen on ${host}:${port}: the port is already in use by another program; stop it, or choose another port`);
    case 'EADDRNOTAVAIL':
      return failure(
        `${what} cannot listen on ${host}:${port}: ${host} is not an address of this machine; choose one it has (ip -brief address), or 0.0.0.0 for all`,
      );
    case 'EACCES':
      return failure(`${what} cannot listen on ${host}:${port}: this user may not use that port; choose one above 1023`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return failure(`${what} cannot listen on ${host}:${port}: no address is known for the name ${host}; give an IP address`);
    default:
      return error;
  }
}
