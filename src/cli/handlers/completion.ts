// cellctl completion bash|zsh|fish: a completion script made from the command definitions, so a new
// command, subcommand or flag appears in it by itself, and it never offers one that does not exist.
// Values that name something (a cell, a customer, a migration, a template, a setting) are offered
// from the workspace when Tab is pressed: the script asks `cellctl __complete KIND PREFIX`.
import type { completion } from '../commands/completion.js';
import { type Arg, type Definition, type Flag, type InputOf, type NameKind, globalFlags } from '../define.js';

/** A command path ("migrate list") and the words that may follow it: subcommands, flags, and the names its values take. */
export interface CompletionEntry {
  path: string[];
  subcommands: string[];
  flags: string[];
  /** Every spelling of each flag that takes a value, with the names its value is one of (null: none to offer). */
  valueFlags: { flag: string; kind: NameKind | null }[];
  /** The names each positional is one of, in order (null: none); the last repeats when it is variadic. */
  args: (NameKind | null)[];
  variadic: boolean;
}

const spellings = (flag: Flag<unknown>): string[] => flag.flags.match(/--?[a-zA-Z][\w-]*/g) ?? [];

const longFlags = (flags: Record<string, Flag<unknown>>): string[] =>
  Object.values(flags).flatMap((flag) =>
    [flag.flags, ...(flag.aliases ?? []).map((alias) => alias.flags)].flatMap((text) => text.match(/--[a-z][\w-]*/g) ?? []),
  );

const valueFlags = (flags: Record<string, Flag<unknown>>): CompletionEntry['valueFlags'] =>
  Object.values(flags)
    .filter((flag) => /[<[]/.test(flag.flags))
    .flatMap((flag) => spellings(flag).map((spelling) => ({ flag: spelling, kind: flag.complete ?? null })));

/** Every command and group, depth first, with what may follow it (hidden commands left out). */
export function completionEntries(definitions: readonly Definition[], prefix: string[] = []): CompletionEntry[] {
  return definitions.flatMap((definition): CompletionEntry[] => {
    const path = [...prefix, definition.command];
    if (definition.kind === 'command') {
      if (definition.hidden) return [];
      const args = Object.values(definition.args as Record<string, Arg<unknown>>);
      return [
        {
          path,
          subcommands: [],
          flags: [...longFlags(definition.flags), '--help'],
          valueFlags: valueFlags(definition.flags),
          args: args.map((arg) => arg.complete ?? null),
          variadic: args.at(-1)?.variadic === true,
        },
      ];
    }
    const subcommands = definition.subcommands.filter((sub) => sub.kind === 'group' || !sub.hidden).map((sub) => sub.command);
    // A group called alone runs its default subcommand (`customers --cell c1` lists): its flags' values complete there too.
    const fallback = definition.subcommands.find((sub) => sub.kind === 'command' && sub.isDefault);
    const values = fallback?.kind === 'command' ? valueFlags(fallback.flags) : [];
    return [{ path, subcommands, flags: ['--help'], valueFlags: values, args: [], variadic: false }, ...completionEntries(definition.subcommands, path)];
  });
}

const topWords = (entries: CompletionEntry[]) => [
  ...entries.filter((e) => e.path.length === 1).map((e) => e.path[0]!),
  ...longFlags(globalFlags),
  '--help',
  '--version',
];

/** The case arms saying which names a positional takes, by "path|index" (a variadic last one by any index from its own). */
function argKindCases(entries: CompletionEntry[]): string[] {
  return entries.flatMap((e) =>
    e.args.flatMap((kind, index) => {
      if (kind === null) return [];
      if (!(e.variadic && index === e.args.length - 1)) return [`    "${e.path.join(' ')}|${index}") echo ${kind} ;;`];
      return [`    "${e.path.join(' ')}|"*) ${index === 0 ? '' : `[ "$2" -ge ${index} ] && `}echo ${kind} ;;`];
    }),
  );
}

export function bashScript(entries: CompletionEntry[]): string {
  const cases = entries.map((e) => `    "${e.path.join(' ')}") opts="${[...e.subcommands, ...e.flags].join(' ')}" ;;`).join('\n');
  const valued = entries
    .filter((e) => e.valueFlags.length > 0)
    .map((e) => `    "${e.path.join(' ')}") echo "${e.valueFlags.map((v) => v.flag).join(' ')}" ;;`)
    .join('\n');
  const flagKinds = entries
    .flatMap((e) => e.valueFlags.filter((v) => v.kind !== null).map((v) => `    "${e.path.join(' ')}|${v.flag}") echo ${v.kind} ;;`))
    .join('\n');
  return `# cellctl completion for bash: source <(cellctl completion bash)
_cellctl() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} path="" home="" i word n=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    case $word in
      --home) home=\${COMP_WORDS[i+1]}; ((i++)) ;;
      -*) case " $(_cellctl_valued "$path") " in *" $word "*) ((i++)) ;; esac ;;
      *) case " $(_cellctl_subcommands "$path") " in
           *" $word "*) path=\${path:+$path }$word; n=0 ;;
           *) ((n++)) ;;
         esac ;;
    esac
  done
  local opts kind=""
  case $path in
    "") opts="${topWords(entries).join(' ')}" ;;
${cases}
    *) opts="" ;;
  esac
  # A flag's value: the names it is one of, else nothing (files, by -o default); a positional: its names.
  case " $(_cellctl_valued "$path") --home " in
    *" $prev "*) kind=$(_cellctl_flag_kind "$path|$prev"); opts="" ;;
    *) [[ $cur == -* ]] || kind=$(_cellctl_arg_kind "$path" "$n") ;;
  esac
  [[ -n $kind ]] && opts=$("\${COMP_WORDS[0]}" \${home:+--home "$home"} __complete "$kind" "$cur" 2>/dev/null)
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
_cellctl_valued() {
  case $1 in
${valued}
  esac
}
_cellctl_flag_kind() {
  case $1 in
${flagKinds}
  esac
}
_cellctl_arg_kind() {
  case "$1|$2" in
${argKindCases(entries).join('\n')}
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
  const lines = [
    '# cellctl completion for fish: cellctl completion fish > ~/.config/fish/completions/cellctl.fish',
    'complete -c cellctl -f',
    '# The names a value may take, read from the workspace (--home as typed) when Tab is pressed.',
    'function __cellctl_names',
    '  set -l words (commandline -opc)',
    '  set -l home',
    '  set -l at (contains -i -- --home $words); and set home --home $words[(math $at + 1)]',
    '  $words[1] $home __complete $argv[1] (commandline -ct) 2>/dev/null',
    'end',
  ];
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
    for (const flag of entry.flags) {
      const kind = entry.valueFlags.find((value) => value.flag === flag)?.kind;
      lines.push(`complete -c cellctl -n '${here}' -l ${flag.slice(2)}${kind ? ` -x -a '(__cellctl_names ${kind})'` : ''}`);
    }
    const named = [...new Set(entry.args.filter((kind): kind is NameKind => kind !== null))];
    for (const kind of named) lines.push(`complete -c cellctl -n '${here}' -a '(__cellctl_names ${kind})'`);
  }
  return `${lines.join('\n')}\n`;
}

const SCRIPTS = { bash: bashScript, zsh: zshScript, fish: fishScript };

export function run(input: InputOf<typeof completion>): void {
  process.stdout.write(SCRIPTS[input.args.shell](completionEntries(input.definitions)));
}
