// cellctl export compose: the workspace as files a user applies.
import { defineCommand, defineGroup, text } from '../define.js';

export const exportCompose = defineCommand({
  command: 'compose',
  summary: 'a compose file for a docker workspace: the router and a service and named volume per cell, exactly the containers cellctl start makes',
  flags: { file: text('-f, --file <file>', 'write it to FILE (mode 0644) instead of stdout') },
  examples: [
    'cellctl export compose > docker-compose.yml && docker-compose up -d',
    'cellctl export compose --file compose.yml && docker compose -f compose.yml up -d',
  ],
  handler: () => import('../handlers/export.js').then((m) => m.compose),
});

export const exportFiles = defineGroup({
  command: 'export',
  summary: 'the workspace as files a user applies (compose)',
  subcommands: [exportCompose],
  examples: ['cellctl export compose > docker-compose.yml'],
});
