// cellctl context export: writes an operator's folder (workspace/context.ts).
import { exportContext } from '../../workspace/context.js';
import { requireWorkspace } from '../../workspace/workspace.js';
import { homeOf } from '../context.js';
import type { InputOf } from '../define.js';
import type { contextExport } from '../commands/context.js';
import { say, sayDone } from '../output.js';

export async function run(input: InputOf<typeof contextExport>): Promise<void> {
  const home = homeOf(input);
  requireWorkspace(home);
  const written = exportContext(home, input.args.dir);
  sayDone(`operator's folder written to ${written.dir}: ${written.files} files (settings, secrets, cells' descriptors), mode 0600 in folders of 0700`);
  say(`use it where the engine and the control plane are reachable: DOCKER_HOST=<the engine> cellctl --home ${written.dir} status`);
}
