// The command table: every command's definition, in the order `cellctl --help` lists them. A new
// command is one file in this folder and one line here.
import type { Definition } from '../define.js';
import { activate } from './activate.js';
import { assign } from './assign.js';
import { audit } from './audit.js';
import { cellAgent } from './cell-agent.js';
import { cells } from './cells.js';
import { completion } from './completion.js';
import { completeNames } from './complete-names.js';
import { config } from './config.js';
import { context } from './context.js';
import { control } from './control.js';
import { create } from './create.js';
import { customers } from './customers.js';
import { dashboard } from './dashboard.js';
import { remove } from './delete.js';
import { drain } from './drain.js';
import { drill } from './drill.js';
import { events } from './events.js';
import { exportFiles } from './export.js';
import { health } from './health.js';
import { image } from './image.js';
import { init } from './init.js';
import { list } from './list.js';
import { logs } from './logs.js';
import { metrics } from './metrics.js';
import { migrate } from './migrate.js';
import { rebalance } from './rebalance.js';
import { repair } from './repair.js';
import { restart } from './restart.js';
import { route } from './route.js';
import { router } from './router.js';
import { serve } from './serve.js';
import { start } from './start.js';
import { status } from './status.js';
import { stop } from './stop.js';
import { templates } from './templates.js';
import { token } from './token.js';
import { unassign } from './unassign.js';
import { up } from './up.js';
import { version } from './version.js';

export const definitions: readonly Definition[] = [
  version,
  completion,
  completeNames,
  init,
  templates,
  // the cells this workspace makes
  create,
  list,
  remove,
  // cells run elsewhere or by hand
  cells,
  serve,
  cellAgent,
  router,
  image,
  // the processes
  up,
  start,
  stop,
  restart,
  // looking at the running system
  status,
  health,
  metrics,
  dashboard,
  logs,
  events,
  // tokens and settings
  token,
  config,
  context,
  exportFiles,
  // the mapping of customers to cells
  customers,
  assign,
  unassign,
  route,
  // migrations, fleet moves, checks and drills
  migrate,
  control,
  drain,
  activate,
  rebalance,
  audit,
  repair,
  drill,
];
