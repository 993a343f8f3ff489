// What every command receives from the command table: its positional arguments and its options
// (global ones included), typed and checked when the command module declares them (options.ts).
import type { Command } from 'commander';
import { openWorkspace, resolveHome, type Workspace } from '../workspace/workspace.js';

/** The options the program itself takes, which every command sees. */
export interface GlobalOptions {
  home?: string;
}

export interface CommandInput<Options extends GlobalOptions = Record<string, unknown>> {
  args: string[];
  /** Typed when the command module exports `options` (a schema from options.ts); else commander's raw values. */
  opts: Options;
  /** The whole command table (for commands about the CLI itself, such as completion). */
  program?: Command;
}

export function homeOf(input: { opts: GlobalOptions }): string {
  return resolveHome(input.opts.home);
}

/** Opens (and validates) the workspace the command names; the caller closes it with `withWorkspace`. */
export async function withWorkspace<T>(input: { opts: GlobalOptions }, work: (ws: Workspace) => Promise<T> | T): Promise<T> {
  const ws = await openWorkspace(homeOf(input));
  try {
    return await work(ws);
  } finally {
    await ws.plane.close();
  }
}
