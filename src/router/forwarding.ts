// Sends one request to a cell over its kept-alive connections and streams the cell's answer back to
// the client; a cell that fails before answering becomes the router's own answer (504 for a timeout,
// 503 naming the cell) and is marked down. Resolves with the status the client got.
import { routerError } from './errors.js';
import type { PublicExchange } from './exchange.js';
import type { RouterMetrics } from './metrics.js';
import type { Upstream, Upstreams } from './upstreams.js';

export type Forward = (upstream: Upstream, exchange: PublicExchange, body: Buffer | null, started: number) => Promise<number>;

/** `unavailableText`: the 503 text of the example the router stands in for (errors.ts). */
export function createForwarder(upstreams: Upstreams, metrics: RouterMetrics, upstreamTimeoutMs: number, unavailableText: string): Forward {
  return (upstream, exchange, body, started) =>
    new Promise<number>((resolve) => {
      const responder = exchange.responder(upstream.cellId);
      let status = 0;
      const settle = () => {
        metrics.recordForwarded(upstream.cellId, status, (performance.now() - started) / 1000);
        resolve(status);
      };
      const sent = upstream.links.exchange(
        { method: exchange.method, head: exchange.upstreamHead(body), body, timeoutMs: upstreamTimeoutMs },
        {
          start: (head) => {
            status = head.status;
            if (!upstream.healthy) upstreams.markUp(upstream);
            responder.start(head);
          },
          data: (raw, payload) => responder.data(raw, payload),
          end: () => {
            responder.end();
            settle();
          },
          fail: (reason, detail, begun) => {
            if (reason === 'aborted')
              status = 499; // the client went away first (nginx's code for it)
            else if (begun) responder.broken();
            else if (reason === 'timeout') {
              status = 504;
              upstreams.markDown(upstream, `timed out after ${upstreamTimeoutMs} ms`, true);
              const answer = routerError('cell_timeout', {
                details: `cell ${upstream.cellId} did not answer within ${upstreamTimeoutMs} ms`,
                cell: upstream.cellId,
              });
              exchange.reply(answer.status, answer.body);
            } else {
              status = 503;
              upstreams.markDown(upstream, detail);
              const answer = routerError('cell_unavailable', {
                error: unavailableText,
                // The socket error (it names the cell's address) is kept for status and the admin API.
                details: `cell ${upstream.cellId} is unavailable (the connection to it failed); only its customers are affected`,
                cell: upstream.cellId,
              });
              exchange.reply(answer.status, answer.body, { 'retry-after': '1' });
            }
            settle();
          },
        },
      );
      responder.attach(sent);
    });
}
