// cellctl start: start the supervisor (if needed), the router and the cells, and wait until healthy.
import { routerPublicUrl } from '../../router/client.js';
import { failure } from '../../shared/errors.js';
import { findSupervisor } from '../../supervisor/client.js';
import type { Workspace } from '../../workspace/workspace.js';
import { withWorkspace } from '../context.js';
import { processNames, startProcesses } from '../lifecycle.js';
import { say } from '../output.js';
import type { InputOf } from '../define.js';
import type { start } from '../commands/start.js';

export async function run(input: InputOf<typeof start>): Promise<void> {
  const timeoutMs = input.opts.timeout;
  await withWorkspace(input, async (ws) => {
    await refuseOperatorsFolder(ws);
    const names = await processNames(ws, input.args.cell);
    const result = await startProcesses(ws, names, timeoutMs);
    if (result.alreadyRunning.length > 0) say(`already running: ${result.alreadyRunning.join(', ')}`);
    say(`router on ${routerPublicUrl(ws.settings)} — "cellctl status" shows everything`);
  });
}

/**
 * A local workspace folder that runs no cell of its own while routers elsewhere are live on its
 * control plane is an operator's folder: a supervisor started here would run a second router whose
 * failures land in the real system's events. It is for status, moves and health; its processes are
 * started where they run (one more router: "cellctl router serve").
 */
async function refuseOperatorsFolder(ws: Workspace): Promise<void> {
  if (ws.settings.runtime !== 'local' || findSupervisor(ws.home)) return;
  if ((await ws.plane.listCells()).some((cell) => cell.managed)) return;
  const live = (await ws.plane.listRouters(ws.settings.routerStaleAfterMs)).filter((router) => router.live);
  if (live.length === 0) return;
  throw failure(
    `this folder runs no cell of its own, and ${live.length} router(s) elsewhere are live on its control plane (${live.map((router) => router.id).join(', ')}): it is an operator's folder, for status, moves and health; start processes where they run, or run one more router here with "cellctl router serve --port N --admin-port N"`,
  );
}
