// The command table. Each command's code is imported only when it runs, so `cellctl --version` and
// `cellctl status` load only what they use.
import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { describeError, ExitCode, isCellctlError } from '../shared/errors.js';
import type { CommandInput } from './context.js';
import { sayError } from './output.js';

type CommandModule = { run(input: CommandInput): Promise<void> | void };

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function lazy(load: () => Promise<CommandModule>) {
  return async (...received: unknown[]): Promise<void> => {
    const command = received.at(-1) as Command;
    const args = received.slice(0, -2).flatMap((value) => (Array.isArray(value) ? value : value === undefined ? [] : [value])) as string[];
    const module = await load();
    await module.run({ args, opts: command.optsWithGlobals() });
  };
}

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
}

export function buildProgram(): Command {
  const program = new Command('cellctl')
    .description('Run a cell-based architecture on one machine: cells, a router, customers, and safe moves between cells.')
    .version(pkg.version, '-V, --version')
    .addOption(new Option('--home <dir>', 'workspace folder (default: $CELLCTL_HOME or ./cells)'))
    .option('--debug', 'show stack traces for unexpected errors')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 failed, 2 bad usage, 3 unhealthy (health), 4 inconsistent data found (audit).
Output: data on stdout (--json for scripts), messages on stderr; colour only on a terminal, never with NO_COLOR.
${examples('cellctl up --cells 3 --customers 20', 'cellctl status', 'cellctl migrate customer c-0001 --to cell-2', 'cellctl stop')}`,
    );

  program
    .command('init')
    .summary('create a workspace (settings, control.db, secrets)')
    .description('Create a workspace: cellctl.json, control.db and secrets/. Running it again changes nothing.')
    .option('--router-port <port>', 'router port (its admin API uses port + 1)', '8000')
    .addHelpText('after', examples('cellctl init', 'cellctl --home /tmp/demo init --router-port 9000'))
    .action(lazy(() => import('./commands/init.js')));

  program
    .command('templates')
    .summary('list the cell templates')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('cellctl templates', 'cellctl templates --json'))
    .action(lazy(() => import('./commands/templates.js')));

  program
    .command('create')
    .summary('create a cell from a template')
    .argument('[cell]', 'cell name: lower-case letters, digits and "-"')
    .option('-t, --template <name>', 'template (see "cellctl templates")')
    .option('--port <port>', 'port for the cell (default: the next free one)')
    .option('--capacity <n>', "customers the cell may hold (default: the template's)")
    .option('--json', 'print the new cell as JSON')
    .addHelpText('after', examples('cellctl create cell-1 --template basic', 'cellctl create shop-eu --template ecommerce --port 8200 --capacity 500'))
    .action(lazy(() => import('./commands/create.js')));

  program
    .command('list')
    .alias('ls')
    .summary('list cells')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('cellctl list', 'cellctl list --json'))
    .action(lazy(() => import('./commands/list.js')));

  program
    .command('delete')
    .summary('delete a cell (refuses while it holds customers)')
    .argument('<cell>', 'cell name')
    .option('--force', 'delete even if customers are mapped to it (their rows are lost)')
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText('after', examples('cellctl delete cell-3 --yes', 'cellctl delete cell-3 --force --yes'))
    .action(lazy(() => import('./commands/delete.js')));

  program
    .command('serve')
    .summary('run one cell in the foreground, configured by CELL_* variables')
    .description(
      'Run a built-in cell app in the foreground. Reads CELL_ID, PORT, CELL_DB and CELL_HOME; creates CELL_DB from the template if it does not exist.',
    )
    .requiredOption('-t, --template <name>', 'template whose app to run (basic or ecommerce)')
    .addHelpText('after', examples('CELL_ID=dev PORT=9100 CELL_DB=/tmp/dev.db CELL_HOME=/tmp cellctl serve --template ecommerce'))
    .action(lazy(() => import('./commands/serve.js')));

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  program.configureOutput({ writeErr: (text) => process.stderr.write(text) });
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? ExitCode.ok : Number(process.exitCode);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end with exit 0; every other commander error is a usage error.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (isCellctlError(error)) {
      sayError(error.message);
      if (debug && error.stack) process.stderr.write(error.stack + '\n');
      return error.exitCode;
    }
    if (error instanceof Error && error.name === 'ExitPromptError') {
      sayError('cancelled');
      return ExitCode.failure;
    }
    sayError(`unexpected: ${describeError(error)}${debug ? '' : ' (run with --debug for the stack trace; this is a bug, please report it)'}`);
    if (debug && error instanceof Error && error.stack) process.stderr.write(error.stack + '\n');
    return ExitCode.failure;
  }
}
