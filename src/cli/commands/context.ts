// cellctl context export: the folder that drives an engine workspace from another machine.
import { defineCommand, defineGroup, required } from '../define.js';

export const contextExport = defineCommand({
  command: 'export',
  summary:
    "write an operator's folder for this workspace: its settings and secrets, to drive it from any machine that reaches the engine and the control plane",
  args: { dir: required('the folder to write (new or empty); it holds secrets: keep it yours (mode 0700)') },
  examples: ['cellctl context export /tmp/ops && scp -r /tmp/ops ops-host:ws', 'DOCKER_HOST=ssh://manager cellctl --home ws status'],
  handler: () => import('../handlers/context.js').then((m) => m.run),
});

export const context = defineGroup({
  command: 'context',
  summary: "an operator's folder for an engine workspace (docker or swarm, control plane in PostgreSQL)",
  subcommands: [contextExport],
  examples: ['cellctl context export /tmp/ops'],
});
