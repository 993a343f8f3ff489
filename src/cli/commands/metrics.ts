// cellctl metrics: per-cell and router figures.
import { usageError } from '../../shared/errors.js';
import { defineCommand, names, on, optional, output } from '../define.js';

export const metrics = defineCommand({
  command: 'metrics',
  summary: 'per-cell and router figures',
  args: { cell: names('cell', optional('one cell (default: all)')) },
  flags: { output: output(), prometheus: on('--prometheus', 'print Prometheus text') },
  validate: ({ opts }) => {
    if (opts.prometheus && opts.output !== 'table') throw usageError('choose one of --json (-o) and --prometheus');
  },
  examples: ['cellctl metrics', 'cellctl metrics cell-1 --json', 'cellctl metrics --prometheus'],
  handler: () => import('../handlers/metrics.js').then((m) => m.run),
});
