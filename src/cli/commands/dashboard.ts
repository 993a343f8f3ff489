// cellctl dashboard: a live page of the whole system.
import { defineCommand, on, tcpPort } from '../define.js';

export const dashboard = defineCommand({
  command: 'dashboard',
  summary: 'a live page of the whole system: cells, router, moves, events, customer search',
  description: 'Serve a read-only live dashboard on 127.0.0.1; its URL (printed) carries a random access token. Ctrl-C stops it.',
  flags: {
    port: tcpPort('--port <port>', 'port to serve on (default: any free one)'),
    open: on('--open', 'open the page in the default browser'),
  },
  examples: ['cellctl dashboard', 'cellctl dashboard --port 8080 --open'],
  handler: () => import('../handlers/dashboard.js').then((m) => m.run),
});
