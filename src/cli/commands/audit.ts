// cellctl audit: customers whose rows are misplaced, duplicated or missing.
import { defineCommand, output } from '../define.js';

export const audit = defineCommand({
  command: 'audit',
  summary: 'find customers whose rows are misplaced, duplicated or missing (exit 4 if any)',
  flags: { output: output() },
  examples: ['cellctl audit', 'cellctl audit --json'],
  handler: () => import('../handlers/audit.js').then((m) => m.run),
});
