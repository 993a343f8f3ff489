// cellctl delete: a cell.
import { defineCommand, names, on, required } from '../define.js';

export const remove = defineCommand({
  command: 'delete',
  summary: 'delete a cell (refuses while it holds customers)',
  args: { cell: names('cell', required('cell name')) },
  flags: {
    force: on('--force', 'delete even if customers are mapped to it (their rows are lost)'),
    yes: on('-y, --yes', 'do not ask for confirmation'),
  },
  examples: ['cellctl delete cell-3 --yes', 'cellctl delete cell-3 --force --yes'],
  handler: () => import('../handlers/delete.js').then((m) => m.run),
});
