// Entry point of a built-in cell process. Configured only by its environment, as DESIGN.md's
// template contract says: CELL_ID, PORT, CELL_DB, CELL_HOME, and CELL_APP (which built-in app); with
// DATA_PORT also the cell's data API (data-config.ts).
import { processLogger } from '../shared/log.js';
import { keepFilesPrivate } from '../shared/modes.js';
import { BUILTIN_APPS, type BuiltinApp } from './apps/builtin.js';
import { dataApiFromEnv } from './data-config.js';
import { startCell } from './runtime.js';

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`cell: ${name} is not set; a cell needs CELL_ID, PORT, CELL_DB, CELL_HOME and CELL_APP\n`);
    process.exit(2);
  }
  return value;
}

keepFilesPrivate();
const cellId = requireEnv('CELL_ID');
const port = Number(requireEnv('PORT'));
const app = requireEnv('CELL_APP') as BuiltinApp;
if (!BUILTIN_APPS.includes(app)) {
  process.stderr.write(`cell: CELL_APP must be one of ${BUILTIN_APPS.join(', ')}, got "${app}"\n`);
  process.exit(2);
}
const log = processLogger('cell', { cell: cellId });
const schemaVersion = process.env.CELL_SCHEMA_VERSION ? Number(process.env.CELL_SCHEMA_VERSION) : null;

try {
  const cell = await startCell({
    cellId,
    port,
    host: process.env.CELL_HOST ?? '127.0.0.1',
    dbFile: requireEnv('CELL_DB'),
    app,
    schemaVersion,
    log,
    env: process.env,
    data: dataApiFromEnv(process.env),
  });
  log.info({ port: cell.port, dataPort: cell.dataPort, app }, 'cell listening');
  const stop = (signal: string) => {
    log.info({ signal }, 'cell stopping');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    cell.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'cell did not close cleanly');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
} catch (error) {
  log.fatal({ err: error }, 'cell failed to start');
  process.stderr.write(`cell ${cellId}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
