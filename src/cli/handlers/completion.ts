// cellctl completion bash|zsh|fish: a completion script made from the command definitions, so a new
// command, subcommand or flag appears in it by itself, and it never offers one that does not exist.
import type { completion } from '../commands/completion.js';
import { type Definition, type Flag, type InputOf, globalFlags } from '../define.js';

/** A command path ("migrate list") and the words that may follow it: subcommands, then flags. */
export interface CompletionEntry {
  path: string[];
  subcommands: string[];
  flags: string[];
}

const longFlags = (flags: Record<string, Flag<unknown>>): string[] =>
  Object.values(flags).flatMap((flag) =>
    [flag.flags, ...(flag.aliases ?? []).map((alias) => alias.flags)].flatMap((text) => text.match(/--[a-z][\w-]*/g) ?? []),
  );

/** Every command and group, depth first, with what may follow it. */
export function completionEntries(definitions: readonly Definition[], prefix: string[] = []): CompletionEntry[] {
  return definitions.flatMap((definition) => {
    const path = [...prefix, definition.command];
    if (definition.kind === 'command') return [{ path, subcommands: [], flags: [...longFlags(definition.flags), '--help'] }];
    const subcommands = definition.subcommands.map((sub) => sub.command);
    return [{ path, subcommands, flags: ['--help'] }, ...completionEntries(definition.subcommands, path)];
  });
}

const topWords = (entries: CompletionEntry[]) => [
  ...entries.filter((e) => e.path.length === 1).map((e) => e.path[0]!),
  ...longFlags(globalFlags),
  '--help',
  '--version',
];

export function bashScript(entries: CompletionEntry[]): string {
  const cases = entries.map((e) => `    "${e.path.join(' ')}") opts="${[...e.subcommands, ...e.flags].join(' ')}" ;;`).join('\n');
  return `# cellctl completion for bash: source <(cellctl completion bash)
_cellctl() {
  local cur=\${COMP_WORDS[COMP_CWORD]} path="" i word
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    case $word in
      --home) ((i++)) ;;
      -*) ;;
      *) case " $(_cellctl_subcommands "$path") " in *" $word "*) path=\${path:+$path }$word ;; esac ;;
    esac
  done
  local opts
  case $path in
    "") opts="${topWords(entries).join(' ')}" ;;
${cases}
    *) opts="" ;;
  esac
  COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
}
_cellctl_subcommands() {
  case $1 in
    "") echo "${entries
      .filter((e) => e.path.length === 1)
      .map((e) => e.path[0])
      .join(' ')}" ;;
${entries
  .filter((e) => e.subcommands.length > 0)
  .map((e) => `    "${e.path.join(' ')}") echo "${e.subcommands.join(' ')}" ;;`)
  .join('\n')}
  esac
}
complete -o default -F _cellctl cellctl
`;
}

export function zshScript(entries: CompletionEntry[]): string {
  return `#compdef cellctl
# cellctl completion for zsh: cellctl completion zsh > "\${fpath[1]}/_cellctl"
autoload -U bashcompinit && bashcompinit
${bashScript(entries)}`;
}

export function fishScript(entries: CompletionEntry[]): string {
  const lines = ['# cellctl completion for fish: cellctl completion fish > ~/.config/fish/completions/cellctl.fish', 'complete -c cellctl -f'];
  for (const flag of longFlags(globalFlags)) lines.push(`complete -c cellctl -l ${flag.slice(2)}`);
  for (const entry of entries) {
    // After the path's words (and before any of its subcommands), offer its subcommands and flags.
    const parents = entry.path.slice(0, -1);
    const seen = [...parents.map((word) => `__fish_seen_subcommand_from ${word}`)];
    const siblings = entries
      .filter((e) => e.path.length === entry.path.length && e.path.slice(0, -1).join(' ') === parents.join(' '))
      .map((e) => e.path.at(-1));
    const condition = [...seen, `not __fish_seen_subcommand_from ${siblings.join(' ')}`].join('; and ');
    lines.push(`complete -c cellctl -n '${condition}' -a ${entry.path.at(-1)}`);
    const here = [...entry.path.map((word) => `__fish_seen_subcommand_from ${word}`)].join('; and ');
    for (const flag of entry.flags) lines.push(`complete -c cellctl -n '${here}' -l ${flag.slice(2)}`);
  }
  return `${lines.join('\n')}\n`;
}

const SCRIPTS = { bash: bashScript, zsh: zshScript, fish: fishScript };

export function run(input: InputOf<typeof completion>): void {
  process.stdout.write(SCRIPTS[input.args.shell](completionEntries(input.definitions)));
}
