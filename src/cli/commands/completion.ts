// cellctl completion bash|zsh: a completion script built from the command table itself, so it
// never lists a command or option that does not exist.
import type { Command } from 'commander';
import { usageError } from '../../shared/errors.js';
import type { CommandInput } from '../context.js';

function commandWords(program: Command): Map<string, string[]> {
  const words = new Map<string, string[]>();
  for (const command of program.commands) {
    const flags = command.options.map((option) => option.long).filter((long): long is string => Boolean(long));
    const subcommands = command.commands.map((sub) => sub.name());
    words.set(command.name(), [...subcommands, ...flags, '--help']);
  }
  return words;
}

export function bashScript(words: Map<string, string[]>): string {
  const cases = [...words].map(([name, list]) => `    ${name}) opts="${list.join(' ')}" ;;`).join('\n');
  return `# cellctl completion for bash: source <(cellctl completion bash)
_cellctl() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in --home) ((i++)) ;; -*) ;; *) cmd=\${COMP_WORDS[i]}; break ;; esac
  done
  local opts
  case $cmd in
    "") opts="${[...words.keys()].join(' ')} --home --help --version" ;;
${cases}
    *) opts="" ;;
  esac
  COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
}
complete -o default -F _cellctl cellctl
`;
}

export function zshScript(words: Map<string, string[]>): string {
  return `#compdef cellctl
# cellctl completion for zsh: cellctl completion zsh > "\${fpath[1]}/_cellctl"
autoload -U bashcompinit && bashcompinit
${bashScript(words)}`;
}

export function run(input: CommandInput): void {
  const shell = input.args[0];
  const words = commandWords(input.program!);
  if (shell === 'bash') return void process.stdout.write(bashScript(words));
  if (shell === 'zsh') return void process.stdout.write(zshScript(words));
  throw usageError(`completion scripts exist for bash and zsh, not "${shell}"`);
}
