// cellctl stop: stop named processes, or (no names) everything: cells, router and supervisor. A
// damaged workspace (unreadable cellctl.json or control.db) is stopped too, from its pid files.
import { isCellctlError } from '../../shared/errors.js';
import { stopEverything, stopNamed } from '../../supervisor/client.js';
import { isWorkspace, openWorkspace, type Workspace } from '../../workspace/workspace.js';
import { homeOf } from '../context.js';
import { checkLocalProcess, stopProcesses } from '../lifecycle.js';
import { say, sayDone, sayWarning } from '../output.js';
import type { InputOf } from '../define.js';
import type { stop } from '../commands/stop.js';

export async function run(input: InputOf<typeof stop>): Promise<void> {
  const timeoutMs = input.opts.timeout;
  const home = homeOf(input);
  let ws: Workspace;
  try {
    ws = await openWorkspace(home);
  } catch (error) {
    if (!isCellctlError(error) || !isWorkspace(home)) throw error;
    return stopDamaged(home, input.args.name, timeoutMs, error.message);
  }
  try {
    if (input.args.name.length === 0) {
      await stopProcesses(ws, null, timeoutMs);
      return;
    }
    const names: string[] = [];
    for (const name of input.args.name) names.push(await checkLocalProcess(ws, name));
    reportNamed(names, await stopProcesses(ws, names, timeoutMs));
  } finally {
    await ws.plane.close();
  }
}

/** Stopping needs neither settings nor control.db: only pid files, checked against each process. */
async function stopDamaged(home: string, names: string[], timeoutMs: number, damage: string): Promise<void> {
  sayWarning(`the workspace at ${home} is damaged (${damage}); stopping its processes from their pid files`);
  if (names.length > 0) return reportNamed(names, await stopNamed(home, names, timeoutMs));
  const stopped = await stopEverything(home, timeoutMs);
  if (stopped.length === 0) return say('nothing was running');
  sayDone(`stopped ${stopped.map((proc) => `${proc.name} (pid ${proc.pid})`).join(', ')}`);
}

function reportNamed(names: string[], stopped: string[]): void {
  if (stopped.length > 0) sayDone(`stopped ${stopped.join(', ')}`);
  const already = names.filter((name) => !stopped.includes(name));
  if (already.length > 0) say(`not running: ${already.join(', ')}`);
}
