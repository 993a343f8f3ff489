// cellctl stop: cells, or everything.
import { defineCommand, many, names, secondsAsMs } from '../define.js';

export const stop = defineCommand({
  command: 'stop',
  summary: 'stop cells, or everything (TERM, wait, KILL)',
  args: { name: names('process', many('cells (or "router") to stop (default: everything, supervisor included)')) },
  flags: { timeout: secondsAsMs('--timeout <seconds>', 'how long to wait after TERM before KILL', { default: '10' }) },
  examples: ['cellctl stop', 'cellctl stop cell-2'],
  handler: () => import('../handlers/stop.js').then((m) => m.run),
});
