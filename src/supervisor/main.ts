// Entry point of the supervisor process (started detached by `cellctl start`). It holds the
// supervisor pid file as a lock, serves its control API on 127.0.0.1 (bearer admin token), and on
// TERM stops everything it started before it exits.
import { hasBearerToken } from '../shared/bearer.js';
import fs from 'node:fs';
import http from 'node:http';
import { z } from 'zod';
import { createRequestListener, parseWith, sendError } from '../shared/http.js';
import { sqliteRequests } from '../shared/sqlite-requests.js';
import { processLogger } from '../shared/log.js';
import { keepFilesPrivate, tightenModes } from '../shared/modes.js';
import { processPaths, workspacePaths } from '../workspace/paths.js';
import { controlLocation, readAdminToken } from '../workspace/secrets.js';
import { openControlPlane } from '../control/open.js';
import { readSettings } from '../workspace/workspace.js';
import { livePid } from '../shared/procfs.js';
import type { SupervisorEndpoint, SupervisorStatus } from './protocol.js';
import { Supervisor } from './supervisor.js';

// Before anything is written; the router and the cells inherit the mask.
keepFilesPrivate();
const home = process.env.CELLCTL_HOME;
if (!home) {
  process.stderr.write('supervisor: CELLCTL_HOME is not set; start it with "cellctl start"\n');
  process.exit(2);
}
const log = processLogger('supervisor');
const paths = workspacePaths(home);
const pidFile = processPaths(home, 'supervisor').pidFile;

function takeLock(): boolean {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      fs.writeFileSync(pidFile, `${process.pid}\n`, { flag: 'wx' });
      return true;
    } catch {
      // livePid removes a stale file, so the second attempt can take it.
      if (livePid(pidFile, home!, 'supervisor') !== null) return false;
    }
  }
  return false;
}

fs.mkdirSync(paths.supervisorDir, { recursive: true });
if (!takeLock()) {
  log.info('another supervisor already runs for this workspace; exiting');
  process.exit(0);
}

tightenModes(home);
const settings = readSettings(home);
const token = readAdminToken(home);
// The control plane is opened by the supervisor itself, again after any failure (a restored control.db is read).
const supervisor = new Supervisor(home, settings, () => openControlPlane(controlLocation(home)), log);
const startedAt = new Date().toISOString();
const namesBody = z.strictObject({ names: z.array(z.string().min(1)).min(1) });
const stopBody = z.strictObject({ names: z.array(z.string().min(1)).min(1), timeoutMs: z.number().int().positive().optional() });

let shuttingDown: Promise<void> | null = null;
function shutdown(reason: string): Promise<void> {
  shuttingDown ??= (async () => {
    log.info({ reason }, 'supervisor stopping everything');
    await supervisor.stopAll();
    supervisor.event('supervisor.stopped', 'supervisor', reason);
    await supervisor.close();
    fs.rmSync(paths.supervisorState, { force: true });
    fs.rmSync(pidFile, { force: true });
    server.close();
    process.exit(0);
  })();
  return shuttingDown;
}

const listener = createRequestListener(
  [
    {
      method: 'GET',
      path: '/status',
      handler: () => ({ status: 200, body: { pid: process.pid, startedAt, processes: supervisor.status() } satisfies SupervisorStatus }),
    },
    { method: 'POST', path: '/start', handler: async ({ body }) => ({ status: 200, body: await supervisor.start(parseWith(namesBody, await body()).names) }) },
    {
      method: 'POST',
      path: '/stop',
      handler: async ({ body }) => {
        const input = parseWith(stopBody, await body());
        return { status: 200, body: { stopped: await supervisor.stop(input.names, input.timeoutMs) } };
      },
    },
    {
      method: 'POST',
      path: '/shutdown',
      handler: () => {
        setImmediate(() => void shutdown('shutdown requested'));
        return { status: 202, body: { stopping: true } };
      },
    },
  ],
  // Its answers come from control.db too, which may be busy.
  { onError: (error) => log.error({ err: error }, 'control request failed'), store: sqliteRequests },
);

const server = http.createServer((req, res) => {
  if (!hasBearerToken(req.headers.authorization, token)) {
    req.resume();
    return sendError(res, 'unauthorized', 'unauthorized', { details: 'the supervisor API needs "Authorization: Bearer <its token>"' });
  }
  listener(req, res);
});

process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

await supervisor.begin();
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const endpoint: SupervisorEndpoint = { pid: process.pid, port: typeof address === 'object' && address ? address.port : 0, startedAt };
  const temp = `${paths.supervisorState}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(endpoint) + '\n');
  fs.renameSync(temp, paths.supervisorState);
  supervisor.event('supervisor.started', 'supervisor', `pid ${process.pid}`);
  log.info({ port: endpoint.port }, 'supervisor listening');
});
