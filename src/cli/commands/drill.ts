// cellctl drill kill: a failure drill.
import { usageError } from '../../shared/errors.js';
import { defineCommand, names, on, required, secondsAsMs } from '../define.js';

export const drill = defineCommand({
  command: 'drill',
  summary: 'failure drill: kill a cell under load and measure the blast radius and recovery',
  args: {
    kind: required('the drill: "kill"', (raw) => {
      if (raw !== 'kill') throw usageError('usage: cellctl drill kill <cell> [--duration S]');
      return raw;
    }),
    cell: names('cell', required('cell to kill')),
  },
  flags: {
    duration: secondsAsMs('--duration <seconds>', 'how long to watch after the kill', { default: '5' }),
    json: on('--json', 'print JSON'),
  },
  examples: ['cellctl drill kill cell-1', 'cellctl drill kill cell-2 --duration 10 --json'],
  handler: () => import('../handlers/drill.js').then((m) => m.run),
});
