// cellctl list: the cells.
import { defineCommand, output } from '../define.js';

export const list = defineCommand({
  command: 'list',
  aliases: ['ls'],
  summary: 'list cells',
  flags: { output: output() },
  examples: ['cellctl list', 'cellctl list --json', 'cellctl list -o yaml'],
  handler: () => import('../handlers/list.js').then((m) => m.run),
});
