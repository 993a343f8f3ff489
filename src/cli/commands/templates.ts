// cellctl templates: the cell templates.
import { defineCommand, output } from '../define.js';

export const templates = defineCommand({
  command: 'templates',
  summary: 'list the cell templates',
  flags: { output: output() },
  examples: ['cellctl templates', 'cellctl templates --json', 'cellctl templates -o yaml'],
  handler: () => import('../handlers/templates.js').then((m) => m.run),
});
