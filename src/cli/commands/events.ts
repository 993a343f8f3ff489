// cellctl events: what happened (restarts, crashes, moves).
import { count, defineCommand, on, output, text } from '../define.js';

export const events = defineCommand({
  command: 'events',
  summary: 'what happened: restarts, crashes, moves (from control.db)',
  flags: {
    subject: text('--subject <name>', 'only events about this cell, customer or process'),
    lines: count(100_000)('-n, --lines <n>', 'how many of the latest events', { default: '50' }),
    watch: on('-w, --watch', 'keep printing new events until Ctrl-C (JSON lines with --json)'),
    output: output(),
  },
  examples: ['cellctl events', 'cellctl events --subject cell-1 --json', 'cellctl events --watch'],
  handler: () => import('../handlers/events.js').then((m) => m.run),
});
