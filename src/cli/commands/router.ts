// cellctl router serve: one more router in the foreground, in front of the workspace's cells, on its
// control plane (control.db, or PostgreSQL from secrets/control-url); it registers itself there, so
// moves fence it and `status` lists it. SIGTERM or Ctrl-C stops it and removes its registration.
import { usageError } from '../../shared/errors.js';
import { processLogger } from '../../shared/log.js';
import { startWorkspaceRouter, stopOnSignals } from '../../router/process.js';
import { type CommandInput, homeOf } from '../context.js';
import { commandOptions, type OptionsOf, tcpPort, text } from '../options.js';
import { say } from '../output.js';

export const serveOptions = commandOptions({
  // Required by the command table; optional here so the table's defaults alone still parse.
  port: tcpPort('--port').optional(),
  adminPort: tcpPort('--admin-port').optional(),
  host: text,
  adminHost: text,
  advertise: text,
});
type ServeInput = CommandInput<OptionsOf<typeof serveOptions>>;

export async function serve(input: ServeInput): Promise<void> {
  const { port, adminPort, host, adminHost, advertise } = input.opts;
  if (port === undefined || adminPort === undefined) throw usageError('router serve needs --port and --admin-port');
  if (port === adminPort) throw usageError('--port and --admin-port must differ: the public port and the admin API each need their own');
  if (advertise !== undefined && /[/\s]/.test(advertise)) throw usageError(`--advertise takes a host name or address (such as 10.0.0.5), not "${advertise}"`);
  const log = processLogger('router');
  const router = await startWorkspaceRouter(homeOf(input), log, { publicPort: port, adminPort, host, adminHost, advertise });
  say(`router ${router.id} serving on port ${router.publicPort}, admin API on port ${router.adminPort}, control plane ${router.control}; Ctrl-C stops it`);
  await new Promise<number>((resolve) => stopOnSignals(router, log, resolve)).then((code) => {
    if (code !== 0) process.exitCode = code;
  });
}
