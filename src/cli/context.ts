// The workspace a command works on: the one --home names (define.ts declares the flag).
import type { GlobalOptions } from './define.js';
import { openWorkspace, resolveHome, type Workspace } from '../workspace/workspace.js';

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
