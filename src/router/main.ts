// Entry point of the router process (started by the supervisor with CELLCTL_HOME set).
import { processLogger } from '../shared/log.js';
import { startWorkspaceRouter, stopOnSignals } from './process.js';

const home = process.env.CELLCTL_HOME;
if (!home) {
  process.stderr.write('router: CELLCTL_HOME is not set; start it with "cellctl start"\n');
  process.exit(2);
}
const log = processLogger('router');
try {
  const router = await startWorkspaceRouter(home, log);
  stopOnSignals(router, log, (code) => process.exit(code));
} catch (error) {
  log.fatal({ err: error }, 'router failed to start');
  process.stderr.write(`router: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
