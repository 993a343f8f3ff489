// cellctl health: exit 0 only when no customer would be refused (router, control store, every cell
// holding customers or started, no interrupted move that still fences its customer); otherwise exit 3,
// with who is hit and what helps. A move interrupted after its fence was lifted is a note, not a failure.
import { isPostgresUrl } from '../../control/open.js';
import { RouterAdmin } from '../../router/client.js';
import { ExitCode, isCellctlError } from '../../shared/errors.js';
import { collectStatus } from '../../status/collect.js';
import { type HealthVerdict, judgeHealth, judgeUnreadableControl, runsNothingHere } from '../../status/model.js';
import { controlLocation } from '../../workspace/secrets.js';
import { openWorkspace, readSettings, type Workspace } from '../../workspace/workspace.js';
import { homeOf } from '../context.js';
import { planeBehindCells } from '../../workspace/cell-data.js';
import { isMachineFormat, printData } from '../formats.js';
import { say, sayDone, sayError } from '../output.js';
import type { InputOf, OutputFormat } from '../define.js';
import type { health } from '../commands/health.js';

export async function run(input: InputOf<typeof health>): Promise<void> {
  const home = homeOf(input);
  const { output } = input.opts;
  let ws: Workspace;
  try {
    ws = await openWorkspace(home);
  } catch (error) {
    // A workspace whose settings read but whose control.db does not is unhealthy, not a failed command.
    if (!isCellctlError(error) || !settingsReadable(home)) throw error;
    return report(await unreadableControl(home, error.message), output);
  }
  try {
    const status = await collectStatus(ws);
    const running = status.cells.filter((cell) => cell.state === 'running' || cell.state === 'registered').length;
    const routers = runsNothingHere(status) ? `${status.routers.filter((router) => router.live).length} live router(s)` : 'router';
    const behind = await planeBehindCells(ws).catch(() => null);
    report({ ...judgeHealth(status, behind), report: status }, output, `healthy: ${routers} and ${running} cell(s)`);
  } finally {
    await ws.plane.close();
  }
}

function report(verdict: HealthVerdict & Record<string, unknown>, output: OutputFormat, healthyLine = 'healthy'): void {
  if (printData(output, verdict)) {
    // the verdict is the data
  } else if (verdict.healthy) sayDone(healthyLine);
  else {
    sayError(`unhealthy: ${verdict.customersAffected} customer(s) refused`);
    for (const problem of verdict.problems) say(`  - ${problem}`);
  }
  if (!isMachineFormat(output)) for (const note of verdict.notes) say(`note: ${note}`);
  if (!verdict.healthy) process.exitCode = ExitCode.unhealthy;
}

function settingsReadable(home: string): boolean {
  try {
    readSettings(home);
    return true;
  } catch {
    return false;
  }
}

/** The verdict when control.db cannot be read: what the router says of it, and whether it still answers for customers. */
async function unreadableControl(home: string, reason: string): Promise<HealthVerdict & Record<string, unknown>> {
  const router = await Promise.resolve()
    .then(() => RouterAdmin.forWorkspace(home, readSettings(home), 2_000).health())
    .catch(() => null);
  const routerControlPlane = router?.controlPlane ?? null;
  const routerMapping = router?.mapping ?? null;
  return {
    ...judgeUnreadableControl(reason, routerControlPlane, routerMapping, isPostgresUrl(controlLocation(home)) ? 'postgres' : 'sqlite'),
    report: null,
    controlDb: { ok: false, error: reason },
    routerControlPlane,
    routerMapping,
  };
}
