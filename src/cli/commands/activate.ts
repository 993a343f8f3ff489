// cellctl activate: re-open a drained cell.
import { defineCommand, names, required } from '../define.js';

export const activate = defineCommand({
  command: 'activate',
  summary: 're-open a drained cell to new customers',
  args: { cell: names('cell', required('cell name')) },
  examples: ['cellctl activate cell-3'],
  handler: () => import('../handlers/activate.js').then((m) => m.run),
});
