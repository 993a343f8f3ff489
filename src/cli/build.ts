// Makes commander commands of the definitions (define.ts): the only place a flag, a positional or
// a subcommand becomes commander's. A command's handler is imported only when that command runs.
import { usageError } from '../shared/errors.js';
import { type Command, Option } from 'commander';
import { type Arg, type CommandDefinition, type Definition, type Flag, globalFlags } from './define.js';

export function examples(lines: readonly string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
}

function commanderOption(flag: Flag<unknown>): Option {
  const option = new Option(flag.flags, flag.help);
  if (flag.default !== undefined) option.default(flag.default);
  if (flag.required) option.makeOptionMandatory();
  return option;
}

/** The flag's option and its aliases' options, named as commander names them. */
export function commanderOptions(key: string, flag: Flag<unknown>): Option[] {
  const option = commanderOption(flag);
  // The definition's key is the option's name in code; a mismatch would leave the flag unread.
  if (option.attributeName() !== key) throw new Error(`flag "${flag.flags}" is read as "${option.attributeName()}", not "${key}"`);
  return [option, ...(flag.aliases ?? []).map((alias) => new Option(alias.flags, alias.help))];
}

export function addGlobalFlags(program: Command): void {
  for (const [key, flag] of Object.entries(globalFlags)) for (const option of commanderOptions(key, flag)) program.addOption(option);
}

function argumentSyntax(name: string, arg: Arg<unknown>): string {
  const word = arg.variadic ? `${name}...` : name;
  return arg.required ? `<${word}>` : `[${word}]`;
}

/** Parses positionals and options, runs the definition's check, then loads and runs the handler. */
function runner(definition: CommandDefinition, definitions: readonly Definition[]) {
  return async (...received: unknown[]): Promise<void> => {
    const command = received.at(-1) as Command;
    const rawArgs = received.slice(0, -2);
    const rawOpts = command.optsWithGlobals();
    const args = Object.fromEntries(Object.entries(definition.args).map(([key, arg], index) => [key, arg.parse(rawArgs[index])]));
    const specs = { ...globalFlags, ...definition.flags } as Record<string, Flag<unknown>>;
    const opts = Object.fromEntries(Object.entries(specs).map(([key, flag]) => [key, flag.parse(rawOpts[key], rawOpts)]));
    const input = { args, opts, definitions } as never;
    definition.validate?.(input);
    const handler = (await definition.handler()) as (input: never) => Promise<void> | void;
    await handler(input);
  };
}

function addLeaf(parent: Command, definition: CommandDefinition, definitions: readonly Definition[]): void {
  const command = parent.command(definition.command, { isDefault: definition.isDefault, hidden: definition.hidden }).summary(definition.summary);
  if (definition.description) command.description(definition.description);
  for (const alias of definition.aliases ?? []) command.alias(alias);
  for (const [name, arg] of Object.entries(definition.args)) command.argument(argumentSyntax(name, arg), arg.help, arg.default);
  for (const [key, flag] of Object.entries(definition.flags)) for (const option of commanderOptions(key, flag)) command.addOption(option);
  command.addHelpText('after', examples(definition.examples) + (definition.epilogue ? `\n${definition.epilogue}\n` : ''));
  if (definition.isDefault && Object.keys(definition.args).length === 0) refuseUnknownSubcommand(parent, command);
  command.action(runner(definition, definitions));
}

/** A group's default subcommand (customers → list) takes no operands: one given is a subcommand that does not exist. */
function refuseUnknownSubcommand(group: Command, command: Command): void {
  command.allowExcessArguments(true).hook('preAction', (_hook, action) => {
    const [unknown] = action.args;
    if (unknown === undefined) return;
    const names = group.commands.map((sub) => sub.name()).join(', ');
    throw usageError(`unknown ${group.name()} command "${unknown}": use one of ${names} ("cellctl ${group.name()} --help" lists them)`);
  });
}

/** Adds each definition (and a group's subcommands) to `parent`. */
export function addDefinitions(parent: Command, list: readonly Definition[], definitions: readonly Definition[] = list): void {
  for (const definition of list) {
    if (definition.kind === 'command') {
      addLeaf(parent, definition, definitions);
      continue;
    }
    const group = parent.command(definition.command).summary(definition.summary);
    if (definition.description) group.description(definition.description);
    group.addHelpText('after', examples(definition.examples));
    addDefinitions(group, definition.subcommands, definitions);
  }
}
