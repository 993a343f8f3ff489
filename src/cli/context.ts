// What every command receives from the command table: its positional arguments and its options
// (global ones included), still untyped; each command parses them into its own typed input.
import type { Command } from 'commander';
import { openWorkspace, resolveHome, type Workspace } from '../workspace/workspace.js';

export interface CommandInput {
  args: string[];
  opts: Record<string, unknown>;
  /** The whole command table (for commands about the CLI itself, such as completion). */
  program?: Command;
}

export function homeOf(input: CommandInput): string {
  return resolveHome(input.opts.home as string | undefined);
}

/** Opens (and validates) the workspace the command names; the caller closes it with `withWorkspace`. */
export async function withWorkspace<T>(input: CommandInput, work: (ws: Workspace) => Promise<T> | T): Promise<T> {
  const ws = openWorkspace(homeOf(input));
  try {
    return await work(ws);
  } finally {
    ws.store.close();
  }
}

export const flag = {
  string(opts: Record<string, unknown>, name: string): string | undefined {
    const value = opts[name];
    return typeof value === 'string' ? value : undefined;
  },
  bool(opts: Record<string, unknown>, name: string): boolean {
    return opts[name] === true;
  },
};
