// What a command is: one definition (name, help, typed positionals and flags with their defaults,
// examples, a check run before any side effect, and its handler, loaded only when it runs). The
// command table (commands/index.ts) lists them; build.ts makes commander commands of them. Kept light:
// main.ts loads every definition at startup.
import { usageError } from '../shared/errors.js';
import { parseDuration, parsePort, parsePositiveInt, parseSeconds } from '../shared/names.js';

/** The names shell completion offers for a value: read from the workspace when the user presses Tab (`cellctl __complete KIND`). */
export const NAME_KINDS = ['cell', 'process', 'customer', 'migration', 'template', 'setting'] as const;
export type NameKind = (typeof NAME_KINDS)[number];

/** A flag: commander's syntax, its help, its default as typed, and how its raw value becomes typed. */
export interface Flag<T> {
  /** commander's syntax: "-n, --lines <n>", "--force", "--no-check", "--keep-source [duration]" */
  flags: string;
  help: string;
  /** As typed on the command line; shown in --help. */
  default?: string | boolean;
  /** commander refuses the command without it. */
  required?: boolean;
  /** The value this flag takes: a word from a fixed list (shown in --help, offered by completion). */
  choices?: readonly string[];
  /** The names its value is one of, offered by completion (a cell for `--to`). */
  complete?: NameKind;
  /** Switches that are another way to write this flag (`--json` for `-o json`), declared here only. */
  aliases?: { flags: string; help: string }[];
  /** The typed value from commander's raw one (and the raw values of the aliases), or a usage error. */
  parse(raw: unknown, all: Record<string, unknown>): T;
}

/** A positional argument, in the order of the definition's `args`. */
export interface Arg<T> {
  help: string;
  required: boolean;
  variadic?: boolean;
  default?: string;
  /** The names it is one of, offered by completion (a cell, a customer…). */
  complete?: NameKind;
  parse(raw: unknown): T;
}

export type Flags = Record<string, Flag<unknown>>;
export type Args = Record<string, Arg<unknown>>;
type Values<Specs> = { [K in keyof Specs]: Specs[K] extends Flag<infer T> | Arg<infer T> ? T : never };

/** The options every command accepts, declared once on the program. */
export const globalFlags = {
  home: text('--home <dir>', 'workspace folder (default: $CELLCTL_HOME or ./cells)'),
  debug: on('--debug', 'show stack traces for unexpected errors'),
};
export type GlobalOptions = Values<typeof globalFlags>;

/** What a handler receives: its positionals and options, typed and checked. */
export interface Input<F extends Flags = Flags, A extends Args = Args> {
  args: Values<A>;
  opts: Values<F> & GlobalOptions;
  /** The command table, for commands about the CLI itself (completion). */
  definitions: readonly Definition[];
}

export interface CommandDefinition<F extends Flags = Flags, A extends Args = Args> {
  kind: 'command';
  command: string;
  aliases?: string[];
  summary: string;
  /** The longer text of `--help` (default: the summary). */
  description?: string;
  args: A;
  flags: F;
  /** Shown under "Examples:" in `--help`; every command has at least one. */
  examples: string[];
  /** More help, after the examples. */
  epilogue?: string;
  /** The subcommand a group runs when called alone (`cellctl customers` lists them). */
  isDefault?: boolean;
  /** Left out of --help and of completion (a command for the completion scripts themselves). */
  hidden?: boolean;
  /** Checks that span flags, run after parsing and before the handler loads. */
  validate?(input: Input<F, A>): void;
  /** Loads the handler: `(input: InputOf<typeof this>) => Promise<void> | void`. Loaded only when the command runs. */
  handler(): Promise<unknown>;
}

/** A command made of subcommands (`cellctl migrate list`), each its own definition. */
export interface GroupDefinition {
  kind: 'group';
  command: string;
  summary: string;
  description?: string;
  subcommands: readonly Definition[];
  examples: string[];
}

export type Definition = CommandDefinition<any, any> | GroupDefinition;
export type InputOf<D> = D extends CommandDefinition<infer F, infer A> ? Input<F, A> : never;

export function defineCommand<F extends Flags = {}, A extends Args = {}>(
  definition: Omit<CommandDefinition<F, A>, 'kind' | 'args' | 'flags'> & { args?: A; flags?: F },
): CommandDefinition<F, A> {
  return { ...definition, kind: 'command', args: definition.args ?? ({} as A), flags: definition.flags ?? ({} as F) };
}

export function defineGroup(definition: Omit<GroupDefinition, 'kind'>): GroupDefinition {
  return { ...definition, kind: 'group' };
}

/** The long name of a flag ("--lines"), for messages. */
export const longOf = (flags: string): string => /--[a-z][\w-]*/.exec(flags)?.[0] ?? flags;

/** The same flag or positional, whose value completion offers from the workspace's `kind` names. */
export function names<S extends Flag<any> | Arg<any>>(kind: NameKind, spec: S): S {
  return { ...spec, complete: kind };
}

// Flags.

/** A switch (--force): true, or false when absent. */
export function on(flags: string, help: string): Flag<boolean> {
  return { flags, help, parse: (raw) => raw === true };
}

/** A switch that is on unless negated (--no-check). */
export function onUnless(flags: string, help: string): Flag<boolean> {
  return { flags, help, parse: (raw) => raw !== false };
}

type ValueOptions = { default?: string; required?: boolean };
type Given<O, T> = O extends { default: string } | { required: true } ? T : T | undefined;

/** A value given as is (--template basic). */
export function text<O extends ValueOptions = {}>(flags: string, help: string, options?: O): Flag<Given<O, string>> {
  return { flags, help, ...options, parse: (raw) => raw as Given<O, string> };
}

function valueFlag<T>(convert: (raw: string, flag: string) => T) {
  return <O extends ValueOptions = {}>(flags: string, help: string, options?: O): Flag<Given<O, T>> => ({
    flags,
    help,
    ...options,
    parse: (raw) => (raw === undefined ? undefined : convert(String(raw), longOf(flags))) as Given<O, T>,
  });
}

/** A whole number from 1 to `max`. */
export const count = (max: number) => valueFlag((raw, flag) => parsePositiveInt(raw, flag, max));
/** A whole number from 0 to `max`. */
export const countFromZero = (max: number) =>
  valueFlag((raw, flag) => {
    if (!/^\d+$/.test(raw) || Number(raw) > max) throw usageError(`${flag} must be a whole number from 0 to ${max}, got "${raw}"`);
    return Number(raw);
  });
/** A number of seconds, as milliseconds. */
export const secondsAsMs = valueFlag((raw, flag) => parseSeconds(raw, flag) * 1000);
export const tcpPort = valueFlag(parsePort);
/** A duration such as 30m or 24h, as milliseconds. */
export const duration = valueFlag(parseDuration);

/** A word from a fixed list. */
export function oneOf<const W extends string>(flags: string, help: string, words: readonly W[]): Flag<W | undefined> {
  return {
    flags,
    help,
    choices: words,
    parse: (raw) => {
      if (raw === undefined || words.includes(raw as W)) return raw as W | undefined;
      throw usageError(`${longOf(flags)} must be one of ${words.join(', ')}, not "${String(raw)}"`);
    },
  };
}

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml';

/**
 * The one output option of every command that lists or reports something: -o json|yaml|wide, the
 * table by default, and --json as another way to write -o json. `wideHelp` says what wide adds.
 */
export function output(wideHelp = 'the table without shortening'): Flag<OutputFormat> {
  return {
    flags: '-o, --output <format>',
    help: `json, yaml or wide (${wideHelp}); default: a table`,
    choices: ['json', 'yaml', 'wide'],
    aliases: [{ flags: '--json', help: 'print JSON (the same as -o json)' }],
    parse: (raw, all) => {
      if (raw !== undefined && raw !== 'json' && raw !== 'yaml' && raw !== 'wide') throw usageError(`-o takes json, yaml or wide, not "${String(raw)}"`);
      if (all.json === true && raw !== undefined && raw !== 'json') throw usageError(`--json and -o ${raw} ask for two formats: give one`);
      return all.json === true ? 'json' : (raw ?? 'table');
    },
  };
}

// Positionals.

/** A positional that must be given, typed by `parse` (default: as typed). */
export function required(help: string): Arg<string>;
export function required<T>(help: string, parse: (raw: string) => T): Arg<T>;
export function required(help: string, parse: (raw: string) => unknown = (raw) => raw): Arg<unknown> {
  return { help, required: true, parse: (raw) => parse(raw as string) };
}

/** A positional that may be left out (then its default, or undefined), typed by `parse` when given. */
export function optional(help: string, options?: { default?: string }): Arg<string | undefined>;
export function optional<T>(help: string, options: { parse: (raw: string) => T }): Arg<T | undefined>;
export function optional(help: string, options: { default?: string; parse?: (raw: string) => unknown } = {}): Arg<unknown> {
  const { parse = (raw: string) => raw, ...rest } = options;
  return { help, required: false, ...rest, parse: (raw) => (raw === undefined ? undefined : parse(raw as string)) };
}

/** Any number of positionals, at the end. */
export function many(help: string): Arg<string[]> {
  return { help, required: false, variadic: true, parse: (raw) => (raw as string[] | undefined) ?? [] };
}
