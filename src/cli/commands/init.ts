// cellctl init: create a workspace, or say that one is already there.
import { parsePort } from '../../shared/names.js';
import { initWorkspace } from '../../workspace/workspace.js';
import { type CommandInput, flag, homeOf } from '../context.js';
import { cellctlCommand, say, sayDone } from '../output.js';

export function run(input: CommandInput): void {
  const home = homeOf(input);
  const routerPort = parsePort(flag.string(input.opts, 'routerPort') ?? '8000', '--router-port');
  const template = flag.string(input.opts, 'template') ?? null;
  if (initWorkspace(home, routerPort, template)) {
    sayDone(
      `workspace created at ${home} (router port ${routerPort}, admin port ${routerPort + 1}${template ? `, new customers placed in ${template} cells` : ''})`,
    );
    say(`next: ${cellctlCommand()}${input.opts.home ? ` --home ${home}` : ''} create cell-1 --template ${template ?? 'basic'}`);
  } else {
    say(`workspace already exists at ${home}; nothing changed`);
  }
}
