// The one error family for expected failures: a message that tells the user what to do, and the
// process exit code the CLI ends with. Anything that is not a CellctlError is a bug.

import { CLI_ERRORS, type CliErrorCode, ExitCode, type ExitCodeValue } from './error-codes.js';

export { type CliErrorCode, ExitCode, type ExitCodeValue } from './error-codes.js';

export class CellctlError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.failure,
    readonly code: CliErrorCode = 'E_FAILED',
  ) {
    super(message);
    this.name = 'CellctlError';
  }
}

/** A flag or argument is wrong: the user can fix it by changing the command line. Exit 2. */
export function usageError(message: string): CellctlError {
  return new CellctlError(message, CLI_ERRORS.E_USAGE.exit, 'E_USAGE');
}

/** The command was right but the system refused it (state, files, processes). Exit 1. */
export function failure(message: string, code: CliErrorCode = 'E_FAILED'): CellctlError {
  return new CellctlError(message, CLI_ERRORS[code].exit, code);
}

export function isCellctlError(error: unknown): error is CellctlError {
  return error instanceof CellctlError;
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
