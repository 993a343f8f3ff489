// cellctl init: create a workspace (its control plane in control.db, or in PostgreSQL with --control), or say that one is already there.
import { printableLocation } from '../../control/open.js';
import { controlLocation } from '../../workspace/secrets.js';
import { chosenControlUrl, DEFAULT_ROUTER_PORT, initWorkspace, keptRouterPort } from '../../workspace/workspace.js';
import { refuseOtherRuntime, runtimeChoice } from '../runtime.js';
import { homeOf } from '../context.js';
import { cellctlCommand, say, sayDone } from '../output.js';
import type { InputOf } from '../define.js';
import type { init } from '../commands/init.js';

export async function run(input: InputOf<typeof init>): Promise<void> {
  const home = homeOf(input);
  const routerPort = input.opts.routerPort ?? DEFAULT_ROUTER_PORT;
  const template = input.opts.template ?? null;
  const controlUrl = chosenControlUrl(input.opts.control);
  const runtime = runtimeChoice(input.opts.runtime, input.opts.image);
  if (
    await initWorkspace(home, {
      routerPort,
      placementTemplate: template,
      controlUrl,
      runtime,
      templatePaths: input.opts.templatePath === undefined ? [] : [input.opts.templatePath],
    })
  ) {
    sayDone(
      `workspace created at ${home} (router port ${routerPort}, admin port ${routerPort + 1}${template ? `, new customers placed in ${template} cells` : ''}${runtime.kind !== 'local' ? `, runtime ${runtime.kind} with image ${runtime.image}` : ''})`,
    );
    say(`control plane: ${printableLocation(controlLocation(home))}`);
    say(`next: ${cellctlCommand()}${input.opts.home ? ` --home ${home}` : ''} create cell-1 --template ${template ?? 'basic'}`);
  } else {
    refuseOtherRuntime(home, input.opts.runtime);
    say(`workspace already exists at ${home} (control plane: ${printableLocation(controlLocation(home))}); nothing changed`);
    const kept = keptRouterPort(home, input.opts.routerPort);
    if (kept) say(kept);
    if (controlUrl !== null) say(`to move its control plane to PostgreSQL: ${cellctlCommand()} control migrate-to <url>`);
  }
}
