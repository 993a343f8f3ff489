// cellctl rebalance: even out load against capacity.
import { count, defineCommand, on } from '../define.js';

export const rebalance = defineCommand({
  command: 'rebalance',
  summary: 'even out load against capacity by moving customers',
  flags: {
    dryRun: on('--dry-run', 'print the plan and change nothing'),
    maxMoves: count(10_000_000)('--max-moves <n>', 'at most this many moves', { default: '1000' }),
    batchSize: count(10_000)('--batch-size <n>', 'customers per batch', { default: '100' }),
    json: on('--json', 'print JSON'),
  },
  examples: ['cellctl rebalance --dry-run', 'cellctl rebalance --max-moves 200'],
  handler: () => import('../handlers/rebalance.js').then((m) => m.run),
});
