// cellctl drain: move every customer out of a cell.
import { count, defineCommand, names, on, required } from '../define.js';

export const drain = defineCommand({
  command: 'drain',
  summary: 'move every customer out of a cell, in batches',
  args: { cell: names('cell', required('cell to empty')) },
  flags: {
    dryRun: on('--dry-run', 'print the plan and change nothing'),
    batchSize: count(10_000)('--batch-size <n>', 'customers per batch', { default: '100' }),
    json: on('--json', 'print JSON'),
  },
  examples: ['cellctl drain cell-3 --dry-run', 'cellctl drain cell-3'],
  handler: () => import('../handlers/drain.js').then((m) => m.run),
});
