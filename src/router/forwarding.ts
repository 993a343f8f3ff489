// Sends one request to a cell over its kept-alive connections and streams the cell's answer back to
// the client; a cell that fails before answering becomes the router's own answer, which says whether
// the request may have landed (below), and is marked down. Resolves with the status the client got.
import { routerError } from './errors.js';
import type { PublicExchange } from './exchange.js';
import type { RouterMetrics } from './metrics.js';
import type { FailReason } from './relay.js';
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
            else status = answerFailure(exchange, reason, detail, upstream, upstreams, upstreamTimeoutMs, unavailableText);
            settle();
          },
        },
      );
      responder.attach(sent);
    });
}

/**
 * The router's answer for a cell that failed before its answer began, and its status. Only a 503
 * (with Retry-After) says "not done": the connection failed before any byte of the request was
 * written. A connection lost after that is 502 `cell_connection_lost` and a timeout 504
 * `cell_timeout`: the request may have landed, so neither invites a blind retry.
 */
function answerFailure(
  exchange: PublicExchange,
  reason: Exclude<FailReason, 'aborted'>,
  detail: string,
  upstream: Upstream,
  upstreams: Upstreams,
  upstreamTimeoutMs: number,
  unavailableText: string,
): number {
  const cell = upstream.cellId;
  if (reason === 'timeout') {
    upstreams.markDown(upstream, `timed out after ${upstreamTimeoutMs} ms`, true);
    const answer = routerError('cell_timeout', { details: `cell ${cell} did not answer within ${upstreamTimeoutMs} ms`, cell });
    exchange.reply(answer.status, answer.body);
    return answer.status;
  }
  // The socket error (it names the cell's address) is kept for status and the admin API.
  upstreams.markDown(upstream, detail);
  if (reason === 'lost') {
    const answer = routerError('cell_connection_lost', {
      details: `cell ${cell} broke off the connection after the request was sent and before its answer: the request may have been applied; check before sending it again`,
      cell,
    });
    exchange.reply(answer.status, answer.body);
    return answer.status;
  }
  const answer = routerError('cell_unavailable', {
    error: unavailableText,
    details: `cell ${cell} is unavailable (the connection to it failed before the request was sent); only its customers are affected`,
    cell,
  });
  exchange.reply(answer.status, answer.body, { 'retry-after': '1' });
  return answer.status;
}
