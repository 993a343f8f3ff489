// cellctl __complete KIND [PREFIX]: the names the completion scripts offer for a value, read from the
// workspace when the user presses Tab. Hidden: only the scripts call it.
import { usageError } from '../../shared/errors.js';
import { defineCommand, NAME_KINDS, type NameKind, optional, required } from '../define.js';

export const completeNames = defineCommand({
  command: '__complete',
  hidden: true,
  summary: 'print the names completion offers (for the completion scripts)',
  args: {
    kind: required(NAME_KINDS.join(', '), (raw): NameKind => {
      if ((NAME_KINDS as readonly string[]).includes(raw)) return raw as NameKind;
      throw usageError(`names to complete are ${NAME_KINDS.join(', ')}, not "${raw}"`);
    }),
    prefix: optional('only names that start with this', { default: '' }),
  },
  examples: ['cellctl __complete cell', 'cellctl __complete customer c-00'],
  handler: () => import('../handlers/complete-names.js').then((m) => m.run),
});
