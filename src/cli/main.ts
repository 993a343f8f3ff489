// The program: its global flags and help, and the command table (commands/index.ts) made into
// commander commands. A command's handler is imported only when it runs, so `cellctl --version` and
// `cellctl status` load only what they use.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { describeError, ExitCode, isCellctlError } from '../shared/errors.js';
import { keepFilesPrivate } from '../shared/modes.js';
import { addDefinitions, addGlobalFlags, examples } from './build.js';
import { definitions } from './commands/index.js';
import { sayError } from './output.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('cellctl')
    .description('Run a cell-based architecture on one machine: cells, a router, customers, and safe moves between cells.')
    .version(pkg.version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    // Set before any subcommand is added, so every subcommand inherits them.
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 failed, 2 bad usage, 3 unhealthy (health), 4 inconsistent data found (audit), 130 interrupted (Ctrl-C).
Output: data on stdout (-o json|yaml for scripts), messages on stderr; colour only on a terminal, never with NO_COLOR.
${examples(['cellctl up --cells 3 --customers 20', 'cellctl status', 'cellctl migrate customer c-0001 --to cell-2', 'cellctl stop'])}`,
    );
  addGlobalFlags(program);
  addDefinitions(program, definitions);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  keepFilesPrivate();
  // A closed pipe on stdout (e.g. `cellctl customers | head`) is the reader's choice, not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  const program = buildProgram();
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
    if (error instanceof Error && (error.name === 'DataApiError' || error.name === 'DataApiUnreachable')) {
      // A cell's data API failed or did not answer (data/client.ts; by name, so axios is not loaded
      // for every command): the message names the cell; a failed command, not a bug here.
      sayError(error.message);
      return ExitCode.failure;
    }
    if (error instanceof Error && error.name === 'ExitPromptError') {
      sayError('cancelled');
      return ExitCode.interrupted; // Ctrl-C at a prompt
    }
    sayError(`unexpected: ${describeError(error)}${debug ? '' : ' (run with --debug for the stack trace; this is a bug, please report it)'}`);
    if (debug && error instanceof Error && error.stack) process.stderr.write(error.stack + '\n');
    return ExitCode.failure;
  }
}
