// cellctl status: one table of the supervisor, the router and every cell.
import { defineCommand, on, output } from '../define.js';

export const status = defineCommand({
  command: 'status',
  summary: 'one table: supervisor, router and every cell',
  flags: {
    output: output('every column: port, uptime, restarts, requests; the default fits 80 columns'),
    watch: on('-w, --watch', 'refresh every 2 seconds'),
  },
  examples: ['cellctl status', 'cellctl status -o wide', 'cellctl status --json | jq .cells'],
  handler: () => import('../handlers/status.js').then((m) => m.run),
});
