// The one error family for expected failures: a message that tells the user what to do, and the
// process exit code the CLI ends with. Anything that is not a CellctlError is a bug.

export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  unhealthy: 3,
  inconsistent: 4,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class CellctlError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.failure,
    readonly code: string = 'E_FAILED',
  ) {
    super(message);
    this.name = 'CellctlError';
  }
}

/** A flag or argument is wrong: the user can fix it by changing the command line. Exit 2. */
export function usageError(message: string): CellctlError {
  return new CellctlError(message, ExitCode.usage, 'E_USAGE');
}

/** The command was right but the system refused it (state, files, processes). Exit 1. */
export function failure(message: string, code = 'E_FAILED'): CellctlError {
  return new CellctlError(message, ExitCode.failure, code);
}

export function isCellctlError(error: unknown): error is CellctlError {
  return error instanceof CellctlError;
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
