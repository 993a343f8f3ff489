// cellctl repair: a control plane behind its cells, brought back in line with them.
import { defineCommand, on, output } from '../define.js';

export const repair = defineCommand({
  command: 'repair',
  summary: 'bring a control plane that is behind its cells (restored from a backup) back in line with them',
  flags: {
    dryRun: on('--dry-run', 'print the plan and change nothing'),
    yes: on('--yes', 'apply without asking (needed off a terminal)'),
    output: output(),
  },
  examples: ['cellctl repair --dry-run', 'cellctl repair --yes'],
  epilogue:
    'It advances the fencing sequence past every number a cell has seen, maps each customer to the one cell holding its rows,\nends interrupted moves of those customers, and lifts their barriers in the cell that serves them. It never deletes a row.',
  handler: () => import('../handlers/repair.js').then((m) => m.run),
});
