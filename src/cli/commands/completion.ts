// cellctl completion bash|zsh|fish: a completion script made from the command definitions.
import { usageError } from '../../shared/errors.js';
import { defineCommand, required } from '../define.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export const completion = defineCommand({
  command: 'completion',
  summary: 'print a shell completion script: completion bash|zsh|fish',
  args: {
    shell: required('bash, zsh or fish', (raw): Shell => {
      if ((SHELLS as readonly string[]).includes(raw)) return raw as Shell;
      throw usageError(`completion scripts exist for bash, zsh and fish, not "${raw}"`);
    }),
  },
  examples: [
    'source <(cellctl completion bash)',
    'cellctl completion zsh > "${fpath[1]}/_cellctl"',
    'cellctl completion fish > ~/.config/fish/completions/cellctl.fish',
  ],
  handler: () => import('../handlers/completion.js').then((m) => m.run),
});
