// The command definitions: flags typed and checked, declared nowhere else, the same in --help as in
// the definition, and in the completion scripts.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { definitions } from '../../src/cli/commands/index.js';
import { type CommandDefinition, type Definition, count, longOf, on, output, secondsAsMs, tcpPort, text } from '../../src/cli/define.js';
import { bashScript, completionEntries, fishScript, zshScript } from '../../src/cli/handlers/completion.js';
import { buildProgram } from '../../src/cli/main.js';
import { CellctlError } from '../../src/shared/errors.js';
import { errorThrownBy, ROOT } from '../helpers.js';

/** Every command definition (not groups), by its path: "migrate list". */
function leaves(list: readonly Definition[], prefix: string[] = []): [string, CommandDefinition][] {
  return list.flatMap((definition) => {
    const path = [...prefix, definition.command];
    return definition.kind === 'command' ? [[path.join(' '), definition] as [string, CommandDefinition]] : leaves(definition.subcommands, path);
  });
}

function commandAt(program: Command, words: string[]): Command {
  return words.reduce((parent, word) => parent.commands.find((sub) => sub.name() === word)!, program);
}

/** What `cellctl <path> --help` prints. */
function helpOf(words: string[]): string {
  const program = buildProgram();
  let text = '';
  program.configureOutput({ writeOut: (chunk) => (text += chunk) });
  const command = commandAt(program, words);
  command.configureOutput({ writeOut: (chunk) => (text += chunk) });
  command.outputHelp();
  return text;
}

describe('flag values', () => {
  it('become typed values', () => {
    expect(on('--json', '').parse(true, {})).toBe(true);
    expect(on('--json', '').parse(undefined, {})).toBe(false);
    expect(count(100)('-n, --lines <n>', '', { default: '50' }).parse('50', {})).toBe(50);
    expect(secondsAsMs('--timeout <s>', '').parse('0.5', {})).toBe(500);
    expect(tcpPort('--port <port>', '').parse('9000', {})).toBe(9000);
    expect(tcpPort('--port <port>', '').parse(undefined, {})).toBeUndefined();
    expect(text('--cell <cell>', '').parse('c1', {})).toBe('c1');
  });

  it('refuse a bad value with a usage error (exit 2) that names the flag', () => {
    for (const [flag, raw] of [
      [count(100)('-n, --lines <n>', ''), '0'],
      [secondsAsMs('--timeout <s>', ''), 'soon'],
      [tcpPort('--port <port>', ''), '80'],
    ] as const) {
      const error = errorThrownBy(() => flag.parse(raw, {}));
      expect(error).toBeInstanceOf(CellctlError);
      expect(error!.exitCode).toBe(2);
      expect(error!.message).toContain(longOf(flag.flags));
    }
  });

  it('-o is json, yaml, wide or the table; --json is -o json; both at once must agree', () => {
    const o = output();
    expect(o.parse(undefined, {})).toBe('table');
    expect(o.parse('yaml', {})).toBe('yaml');
    expect(o.parse('wide', {})).toBe('wide');
    expect(o.parse(undefined, { json: true })).toBe('json');
    expect(o.parse('json', { json: true })).toBe('json');
    expect(errorThrownBy(() => o.parse('xml', {}))?.exitCode).toBe(2);
    expect(errorThrownBy(() => o.parse('yaml', { json: true }))?.exitCode).toBe(2);
  });
});

describe('the command definitions', () => {
  const all = leaves(definitions);

  it('every default parses', () => {
    for (const [name, definition] of all)
      for (const [key, flag] of Object.entries(definition.flags))
        if (typeof flag.default === 'string') expect(() => flag.parse(flag.default, {}), `${name} --${key}`).not.toThrow();
  });

  it('every flag, positional and example of a definition is in its --help, and every command has examples', () => {
    expect(all.length).toBeGreaterThan(40);
    for (const [name, definition] of all) {
      const help = helpOf(name.split(' '));
      expect(definition.examples.length, name).toBeGreaterThan(0);
      for (const example of definition.examples) expect(help, name).toContain(`$ ${example}`);
      for (const flag of Object.values(definition.flags)) {
        for (const syntax of [flag.flags, ...(flag.aliases ?? []).map((alias) => alias.flags)]) expect(help, name).toContain(syntax);
        expect(help.replace(/\s+/g, ' '), name).toContain(flag.help.split(' ').slice(0, 4).join(' '));
      }
      for (const key of Object.keys(definition.args)) expect(help, name).toMatch(new RegExp(`[<\\[]${key}(\\.\\.\\.)?[>\\]]`));
    }
  });

  it('every command group lists its subcommands in its --help, and has examples', () => {
    for (const group of definitions.filter((definition) => definition.kind === 'group')) {
      const help = helpOf([group.command]);
      expect(help).toContain('Examples:');
      for (const sub of group.subcommands) expect(help, group.command).toMatch(new RegExp(`^  ${sub.command}\\b`, 'm'));
    }
  });

  it("a group's default subcommand refuses an operand as an unknown subcommand, naming the ones there are", async () => {
    for (const [group, names] of [
      ['customers', /list, show, unassign, purge/],
      ['config', /view, get, set/],
    ] as const) {
      const program = buildProgram();
      const refused = await program.parseAsync(['node', 'cellctl', group, 'nonsense']).then(
        () => null,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(CellctlError);
      expect((refused as CellctlError).exitCode).toBe(2);
      expect((refused as CellctlError).message).toMatch(new RegExp(`unknown ${group} command "nonsense": use one of ${names.source}`));
    }
  });

  it('the command table holds exactly the definitions: commander has no command, flag or argument they lack', () => {
    const program = buildProgram();
    const paths = new Set(all.map(([name]) => name));
    const walk = (command: Command, prefix: string[]): void => {
      for (const sub of command.commands) {
        const words = [...prefix, sub.name()];
        if (sub.commands.length > 0) walk(sub, words);
        else {
          expect(paths.has(words.join(' ')), words.join(' ')).toBe(true);
          const definition = all.find(([name]) => name === words.join(' '))![1];
          const declared = Object.values(definition.flags).flatMap((flag) => [flag.flags, ...(flag.aliases ?? []).map((alias) => alias.flags)]);
          expect(sub.options.map((option) => option.flags).sort(), words.join(' ')).toEqual(declared.sort());
          expect(sub.registeredArguments.length, words.join(' ')).toBe(Object.keys(definition.args).length);
        }
      }
    };
    walk(program, []);
  });
});

describe('flags are declared only in the definitions', () => {
  /** Files of src/cli that may call commander's declaring methods: the builder, and nothing else. */
  const BUILDER = new Set(['build.ts']);
  const DECLARING = /\.(option|requiredOption|addOption|argument|addArgument|command|addCommand)\(|new Option\(|new Argument\(|commandOptions\(/;

  function sources(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? sources(full) : entry.name.endsWith('.ts') ? [full] : [];
    });
  }

  it('no file of src/cli but the builder declares a command, flag or argument to commander', () => {
    const cli = path.join(ROOT, 'src', 'cli');
    const offenders = sources(cli)
      .filter((file) => !BUILDER.has(path.relative(cli, file)))
      .flatMap((file) =>
        fs
          .readFileSync(file, 'utf8')
          .split('\n')
          .map((line, index) => ({ line, where: `${path.relative(ROOT, file)}:${index + 1}` }))
          .filter(({ line }) => DECLARING.test(line))
          .map(({ where, line }) => `${where}: ${line.trim()}`),
      );
    expect(offenders).toEqual([]);
  });

  it('the check itself finds a flag declared in main.ts', () => {
    expect(DECLARING.test(`program.command('status').option('--json', 'print JSON')`)).toBe(true);
    expect(DECLARING.test(`export const options = commandOptions({ json: on });`)).toBe(true);
  });
});

describe('completion from the definitions', () => {
  const entries = completionEntries(definitions);

  it('bash and zsh offer each command’s flags and each group’s subcommands', () => {
    for (const script of [bashScript(entries), zshScript(entries)]) {
      expect(script).toContain('"drain") opts="--dry-run --batch-size --json --help"');
      expect(script).toContain('"migrate list") opts="--state --lines --output --json --help"');
      expect(script).toMatch(/"migrate"\) opts="customer list show resume abort purge --help"/);
      expect(script).toMatch(/"customers"\) echo "list show unassign purge"/);
    }
  });

  it('fish offers them too', () => {
    const script = fishScript(entries);
    expect(script).toContain("__fish_seen_subcommand_from drain' -l batch-size");
    expect(script).toContain("__fish_seen_subcommand_from cells; and __fish_seen_subcommand_from register' -l data-url");
  });

  it('the names a value takes are asked of the workspace: bash by position and flag, fish by flag and after the path', () => {
    const bash = bashScript(entries);
    expect(bash).toContain('"migrate show|0") echo migration ;;');
    expect(bash).toContain('"migrate customer|--to") echo cell ;;');
    expect(bash).toContain('"restart|"*) echo process ;;');
    expect(bash).toContain('"create|-t") echo template ;;');
    expect(bash).not.toContain('__complete|');
    const fish = fishScript(entries);
    expect(fish).toContain("__fish_seen_subcommand_from migrate; and __fish_seen_subcommand_from customer' -l to -x -a '(__cellctl_names cell)'");
    expect(fish).toContain("__fish_seen_subcommand_from route' -a '(__cellctl_names customer)'");
  });

  it('a new definition appears by itself', () => {
    const extra = { ...definitions.find((d) => d.command === 'list')!, command: 'gadgets' } as Definition;
    expect(bashScript(completionEntries([...definitions, extra]))).toContain('"gadgets") opts="--output --json --help"');
  });
});
