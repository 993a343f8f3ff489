// cellctl start: the router and cells.
import { defineCommand, many, names, secondsAsMs } from '../define.js';

export const start = defineCommand({
  command: 'start',
  summary: 'start the router and cells (all, or the ones named) and wait until healthy',
  args: { cell: names('process', many('cells to start (default: all)')) },
  flags: { timeout: secondsAsMs('--timeout <seconds>', 'how long to wait for health', { default: '30' }) },
  examples: ['cellctl start', 'cellctl start cell-2 --timeout 10'],
  handler: () => import('../handlers/start.js').then((m) => m.run),
});
