// cellctl up: the newcomer's one command — init if needed, create N cells, start everything, create
// sample customers through the router, and show the status and what to try next.
import { routerPublicUrl } from '../../router/client.js';
import { ExitCode, failure } from '../../shared/errors.js';
import { collectStatus } from '../../status/collect.js';
import { createCell, loadCellTemplate } from '../../workspace/cells.js';
import { controlLocation, readJwtKey } from '../../workspace/secrets.js';
import { chosenControlUrl, DEFAULT_ROUTER_PORT, initWorkspace, keptRouterPort, openWorkspace } from '../../workspace/workspace.js';
import { refuseOtherRuntime, runtimeChoice } from '../runtime.js';
import { printableLocation } from '../../control/open.js';
import { CustomerClient, createSampleCustomers } from '../../workload/customers.js';
import { homeOf } from '../context.js';
import { processNames, startProcesses } from '../lifecycle.js';
import { cellctlCommand, printJson, printLine, say, sayDone } from '../output.js';
import { renderStatus } from '../views/status.js';
import type { InputOf } from '../define.js';
import type { up } from '../commands/up.js';

export async function run(input: InputOf<typeof up>): Promise<void> {
  const home = homeOf(input);
  const { cells: cellCount, customers: customerCount, template: templateFlag, timeout: timeoutMs, json } = input.opts;
  const routerPort = input.opts.routerPort ?? DEFAULT_ROUTER_PORT;

  // As init: the control plane in PostgreSQL when --control (else CELLCTL_CONTROL_URL) names one, else control.db.
  const controlUrl = chosenControlUrl(input.opts.control);
  const runtime = runtimeChoice(input.opts.runtime, input.opts.image);
  if (await initWorkspace(home, { routerPort, placementTemplate: templateFlag ?? 'ecommerce', controlUrl, runtime })) say(`workspace created at ${home}`);
  else sayWhatIsKept(home, input.opts.routerPort, input.opts.runtime, controlUrl);
  say(`control plane: ${printableLocation(controlLocation(home))}`);
  const ws = await openWorkspace(home);
  try {
    // An existing workspace keeps its kind: its placement template, unless --template names another.
    const template = loadCellTemplate(ws, templateFlag ?? ws.settings.placementTemplate ?? 'ecommerce');
    if (templateFlag !== undefined && ws.settings.placementTemplate !== template.name) {
      say(
        `note: new customers are placed in ${ws.settings.placementTemplate ?? 'any'} cells; "cellctl config set placementTemplate ${template.name}" changes that`,
      );
    }
    const existing = new Set((await ws.plane.listCells()).map((cell) => cell.id));
    for (let index = 1; index <= cellCount; index += 1) {
      const name = `cell-${index}`;
      if (existing.has(name)) continue;
      const cell = await createCell(ws, { name, template: template.name });
      say(`created ${cell.id} (${cell.template}) on port ${cell.port}`);
    }
    await startProcesses(ws, await processNames(ws, []), timeoutMs, json);
    const client = new CustomerClient({ routerUrl: routerPublicUrl(ws.settings), jwtKey: ws.settings.auth === 'jwt' ? readJwtKey(home) : null });
    const seeded = await createSampleCustomers(client, customerCount, template.name === 'ecommerce').finally(() => client.close());
    if (seeded.failed.length > 0) {
      const first = seeded.failed[0]!;
      throw failure(`${seeded.failed.length} customer(s) could not be created through the router; first: ${first.id} got ${first.status} ${first.message}`);
    }
    sayDone(`customers through the router: ${seeded.created.length} created, ${seeded.existing.length} already there`);
    const report = await collectStatus(ws);
    if (json) return printJson(report);
    printLine(renderStatus(report));
    const run = `${cellctlCommand()}${input.opts.home ? ` --home ${home}` : ''}`;
    // The suggested move goes to a cell the sample customer is not in.
    const current = (await ws.plane.getCustomer('c-0001'))?.cellId;
    const target = report.cells.find((cell) => cell.id !== current && cell.template === template.name)?.id;
    say(`
Try next:
  curl ${routerPublicUrl(ws.settings)}/api/customers/c-0001
  ${run} route c-0001${target ? `\n  ${run} migrate customer c-0001 --to ${target}` : ''}
  ${run} drill kill ${current ?? 'cell-1'} --duration 5
  ${run} stop`);
    if (report.cells.some((cell) => cell.state !== 'running')) process.exitCode = ExitCode.failure;
  } finally {
    await ws.plane.close();
  }
}

/** On an existing workspace, `up` changes none of what makes it: what its flags asked for otherwise is said (or, for a runtime, refused). */
function sayWhatIsKept(home: string, routerPort: number | undefined, runtime: string | undefined, controlUrl: string | null): void {
  refuseOtherRuntime(home, runtime);
  const kept = keptRouterPort(home, routerPort);
  if (kept) say(kept);
  if (controlUrl !== null && controlLocation(home) !== controlUrl) {
    say(
      `note: CELLCTL_CONTROL_URL is set, but this workspace keeps its control plane in ${printableLocation(controlLocation(home))}; "cellctl control migrate-to <url>" moves it`,
    );
  }
}
