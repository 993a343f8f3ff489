// cellctl init: create a workspace, or say that one is already there.
import { initWorkspace } from '../../workspace/workspace.js';
import { type CommandInput, homeOf } from '../context.js';
import { cellctlCommand, say, sayDone } from '../output.js';
import { commandOptions, type OptionsOf, tcpPort, text } from '../options.js';

export const options = commandOptions({ routerPort: tcpPort('--router-port'), template: text });

export async function run(input: CommandInput<OptionsOf<typeof options>>): Promise<void> {
  const home = homeOf(input);
  const { routerPort } = input.opts;
  const template = input.opts.template ?? null;
  if (await initWorkspace(home, routerPort, template)) {
    sayDone(
      `workspace created at ${home} (router port ${routerPort}, admin port ${routerPort + 1}${template ? `, new customers placed in ${template} cells` : ''})`,
    );
    say(`next: ${cellctlCommand()}${input.opts.home ? ` --home ${home}` : ''} create cell-1 --template ${template ?? 'basic'}`);
  } else {
    say(`workspace already exists at ${home}; nothing changed`);
  }
}
