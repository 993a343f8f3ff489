// Entry point of the router process (started by the supervisor with CELLCTL_HOME set).
import { ControlStore } from '../control/store.js';
import { processLogger } from '../shared/log.js';
import { readAdminToken, readJwtKey } from '../workspace/secrets.js';
import { openWorkspace, readSettings } from '../workspace/workspace.js';
import { startRouter } from './router.js';

const home = process.env.CELLCTL_HOME;
if (!home) {
  process.stderr.write('router: CELLCTL_HOME is not set; start it with "cellctl start"\n');
  process.exit(2);
}
const log = processLogger('router');
try {
  const ws = await openWorkspace(home);
  await ws.plane.close();
  const router = await startRouter({
    settings: ws.settings,
    // A short lock wait: the router's reads and pins run on its event loop and must never stall it.
    openStore: () => ControlStore.open(ws.paths.controlDb, { busyTimeoutMs: 20 }),
    adminToken: readAdminToken(home),
    jwtKey: readJwtKey(home),
    log,
    loadSettings: () => readSettings(home),
    settingsFile: ws.paths.settings,
  });
  log.info({ port: router.publicPort, adminPort: router.adminPort, auth: ws.settings.auth }, 'router listening');
  const stop = (signal: string) => {
    log.info({ signal }, 'router stopping');
    setTimeout(() => process.exit(1), 10_000).unref();
    router.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
} catch (error) {
  log.fatal({ err: error }, 'router failed to start');
  process.stderr.write(`router: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
