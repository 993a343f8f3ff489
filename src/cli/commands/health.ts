// cellctl health: exit 0 only when everything started is healthy.
import { defineCommand, output } from '../define.js';

export const health = defineCommand({
  command: 'health',
  summary: 'exit 0 only when the router and every started cell are healthy',
  flags: { output: output() },
  examples: ['cellctl health && echo ok', 'cellctl health -o yaml'],
  handler: () => import('../handlers/health.js').then((m) => m.run),
});
