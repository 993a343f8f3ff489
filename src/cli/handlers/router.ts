// cellctl router serve: one more router in the foreground, in front of the workspace's cells, on its
// control plane (control.db, or PostgreSQL from secrets/control-url); it registers itself there, so
// moves fence it and `status` lists it. SIGTERM or Ctrl-C stops it and removes its registration.
import { usageError } from '../../shared/errors.js';
import { processLogger } from '../../shared/log.js';
import { privateHome } from '../../router/from-secrets.js';
import { startWorkspaceRouter, stopOnSignals } from '../../router/process.js';
import { requireWorkspace } from '../../workspace/workspace.js';
import { homeOf } from '../context.js';
import type { InputOf } from '../define.js';
import type { routerServe } from '../commands/router.js';
import { say } from '../output.js';

export async function serve(input: InputOf<typeof routerServe>): Promise<void> {
  const { port, adminPort, host, adminHost, fromSecrets } = input.opts;
  let { advertise } = input.opts;
  if (port === adminPort) throw usageError('--port and --admin-port must differ: the public port and the admin API each need their own');
  if (advertise !== undefined && /[/\s]/.test(advertise)) throw usageError(`--advertise takes a host name or address (such as 10.0.0.5), not "${advertise}"`);
  const log = processLogger('router');
  // With --from-secrets the router makes a private folder from its secrets and the control plane's settings.
  const detached = fromSecrets === undefined ? null : await privateHome(fromSecrets, log);
  const home = detached?.home ?? homeOf(input);
  advertise ??= detached?.advertise;
  requireWorkspace(home);
  const router = await startWorkspaceRouter(home, log, { publicPort: port, adminPort, host, adminHost, advertise }).catch(async (error: unknown) => {
    await detached?.close();
    throw error;
  });
  say(`router ${router.id} serving on port ${router.publicPort}, admin API on port ${router.adminPort}, control plane ${router.control}; Ctrl-C stops it`);
  const code = await new Promise<number>((resolve) => stopOnSignals(router, log, resolve));
  await detached?.close();
  if (code !== 0) process.exitCode = code;
}
