// cellctl logs: a process's log, or all of them by time.
import { count, defineCommand, names, on, optional, text } from '../define.js';

export const logs = defineCommand({
  command: 'logs',
  summary: 'show a log: a cell, "router" or "supervisor", or --all of them by time',
  args: { name: names('process', optional('cell name, router or supervisor')) },
  flags: {
    lines: count(100_000)('-n, --lines <n>', 'lines to show', { default: '50' }),
    follow: on('-f, --follow', 'keep printing new lines'),
    all: on('--all', 'every process, interleaved by time'),
    since: text('--since <when>', 'only lines since a duration ago (10m, 2h) or a time (ISO)'),
    json: on('--json', 'the raw JSON lines'),
  },
  examples: ['cellctl logs router -n 100', 'cellctl logs cell-1 -f', 'cellctl logs --all --since 10m', 'cellctl logs router --json | jq .msg'],
  handler: () => import('../handlers/logs.js').then((m) => m.run),
});
