// cellctl restart: cells, or everything.
import { defineCommand, many, names, secondsAsMs } from '../define.js';

export const restart = defineCommand({
  command: 'restart',
  summary: 'restart cells (or everything) and wait until healthy',
  args: { name: names('process', many('cells (or "router") to restart (default: everything)')) },
  flags: { timeout: secondsAsMs('--timeout <seconds>', 'how long to wait for each step', { default: '30' }) },
  examples: ['cellctl restart', 'cellctl restart cell-1'],
  handler: () => import('../handlers/restart.js').then((m) => m.run),
});
