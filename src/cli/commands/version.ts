// cellctl version: the cellctl and Node.js versions.
import { defineCommand, output } from '../define.js';

export const version = defineCommand({
  command: 'version',
  summary: 'print the cellctl version (and Node.js)',
  flags: { output: output() },
  examples: ['cellctl version', 'cellctl version -o json'],
  handler: () => import('../handlers/version.js').then((m) => m.run),
});
