// The command table. Each command's code is imported only when it runs, so `cellctl --version` and
// `cellctl status` load only what they use.
import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { describeError, ExitCode, isCellctlError } from '../shared/errors.js';
import { keepFilesPrivate } from '../shared/modes.js';
import type { CommandInput } from './context.js';
import { sayError } from './output.js';

/** A command's code: `run`, and the schema of its options when it declares one (options.ts). */
type CommandModule = {
  // The input's options are whatever the module's own schema makes of them: checked at run time, below.
  run(input: CommandInput<any>): Promise<void> | void;
  options?: import('zod').ZodType;
};

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function lazy(load: () => Promise<CommandModule>) {
  return async (...received: unknown[]): Promise<void> => {
    const command = received.at(-1) as Command;
    const args = received.slice(0, -2).flatMap((value) => (Array.isArray(value) ? value : value === undefined ? [] : [value])) as string[];
    const module = await load();
    let program = command;
    while (program.parent) program = program.parent;
    const raw = command.optsWithGlobals();
    // Options are parsed and checked before the command does anything.
    const opts = module.options ? (await import('./options.js')).parseOptions(module.options, raw) : raw;
    await module.run({ args, opts, program });
  };
}

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
}

export function buildProgram(): Command {
  const program = new Command('cellctl')
    .description('Run a cell-based architecture on one machine: cells, a router, customers, and safe moves between cells.')
    .version(pkg.version, '-V, --version')
    .addOption(new Option('--home <dir>', 'workspace folder (default: $CELLCTL_HOME or ./cells)'))
    .option('--debug', 'show stack traces for unexpected errors')
    .showHelpAfterError('(run with --help for usage)')
    // Set before any subcommand is added, so every subcommand inherits them.
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 failed, 2 bad usage, 3 unhealthy (health), 4 inconsistent data found (audit), 130 interrupted (Ctrl-C).
Output: data on stdout (--json for scripts), messages on stderr; colour only on a terminal, never with NO_COLOR.
${examples('cellctl up --cells 3 --customers 20', 'cellctl status', 'cellctl migrate customer c-0001 --to cell-2', 'cellctl stop')}`,
    );

  program
    .command('version')
    .summary('print the cellctl version (and Node.js)')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const info = { cellctl: pkg.version, node: process.versions.node };
      process.stdout.write(opts.json ? `${JSON.stringify(info, null, 2)}\n` : `cellctl ${info.cellctl} (node ${info.node})\n`);
    });

  program
    .command('completion')
    .summary('print a shell completion script: completion bash|zsh')
    .argument('<shell>', 'bash or zsh')
    .addHelpText('after', examples('source <(cellctl completion bash)', 'cellctl completion zsh > "${fpath[1]}/_cellctl"'))
    .action(lazy(() => import('./commands/completion.js')));

  program
    .command('init')
    .summary('create a workspace (settings, control plane, secrets)')
    .description(
      'Create a workspace: cellctl.json, secrets/ and the control plane (control.db, or PostgreSQL with --control). Running it again changes nothing.',
    )
    .option('--router-port <port>', 'router port (its admin API uses port + 1)', '8000')
    .option('-t, --template <name>', 'placement template: new customers go only to cells of it (default: the first cell created)')
    .option('--control <url>', 'keep the control plane in PostgreSQL (postgres://user:password@host:5432/db; default: $CELLCTL_CONTROL_URL, else control.db)')
    .addHelpText(
      'after',
      examples(
        'cellctl init',
        'cellctl init --template basic',
        'cellctl --home /tmp/demo init --router-port 9000',
        'cellctl init --control postgres://cellctl:secret@db.internal:5432/cellctl',
      ),
    )
    .action(lazy(() => import('./commands/init.js')));

  program
    .command('templates')
    .summary('list the cell templates')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('cellctl templates', 'cellctl templates --json'))
    .action(lazy(() => import('./commands/templates.js')));

  addCellCommands(program);
  addRemoteCellCommands(program);
  addRouterCommands(program);
  addProcessCommands(program);
  addObserveCommands(program);
  addSettingsCommands(program);
  addCustomerCommands(program);
  addMigrateCommands(program);
  addFleetCommands(program);
  return program;
}

/** The cells this workspace makes: create, list, delete. */
function addCellCommands(program: Command): void {
  program
    .command('create')
    .summary('create a cell from a template')
    .argument('[cell]', 'cell name: lower-case letters, digits and "-"')
    .option('-t, --template <name>', 'template (see "cellctl templates")')
    .option('--port <port>', 'port for the cell (default: the next free one)')
    .option('--capacity <n>', "customers the cell may hold (default: the template's)")
    .option('--json', 'print the new cell as JSON')
    .addHelpText('after', examples('cellctl create cell-1 --template basic', 'cellctl create shop-eu --template ecommerce --port 8200 --capacity 500'))
    .action(lazy(() => import('./commands/create.js')));

  program
    .command('list')
    .alias('ls')
    .summary('list cells')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('cellctl list', 'cellctl list --json'))
    .action(lazy(() => import('./commands/list.js')));

  program
    .command('delete')
    .summary('delete a cell (refuses while it holds customers)')
    .argument('<cell>', 'cell name')
    .option('--force', 'delete even if customers are mapped to it (their rows are lost)')
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText('after', examples('cellctl delete cell-3 --yes', 'cellctl delete cell-3 --force --yes'))
    .action(lazy(() => import('./commands/delete.js')));
}

/** Cells run elsewhere or by hand: cells register/unregister, serve, cell-agent. */
function addRemoteCellCommands(program: Command): void {
  // Cells run elsewhere, known by URL (src/cli/commands/cells.ts).
  const cells = program.command('cells').summary('cells run elsewhere: register one by URL, or unregister it');
  const cellsCommand = (pick: (m: typeof import('./commands/cells.js')) => CommandModule) => lazy(() => import('./commands/cells.js').then(pick));
  cells
    .command('register')
    .summary('add a cell that runs elsewhere: the router routes to its URL, moves reach its data API')
    .argument('<cell>', 'cell name: lower-case letters, digits and "-"')
    .requiredOption('-t, --template <name>', 'the template the cell was made from')
    .requiredOption('--url <url>', "where the router sends the cell's customers: http://HOST:PORT")
    .requiredOption('--data-url <url>', "where the cell's data API answers: http://HOST:PORT")
    .option('--token-file <file>', "file holding the token the cell's data API was started with (required)")
    .option('--capacity <n>', "customers the cell may hold (default: the template's)")
    .option('--no-check', 'register even if the data API does not answer now')
    .option('--json', 'print the new cell as JSON')
    .addHelpText(
      'after',
      examples('cellctl cells register shop-b --template ecommerce --url http://10.0.0.2:8100 --data-url http://10.0.0.2:8101 --token-file b.token'),
    )
    .action(cellsCommand((m) => ({ options: m.registerOptions, run: m.register as CommandModule['run'] })));
  cells
    .command('unregister')
    .summary('forget a registered cell (refuses while customers are mapped to it); the cell itself is untouched')
    .argument('<cell>', 'cell name')
    .action(cellsCommand((m) => ({ options: m.unregisterOptions, run: m.unregister as CommandModule['run'] })));

  program
    .command('serve')
    .summary('run one cell in the foreground, configured by CELL_* variables')
    .description(
      'Run a built-in cell app in the foreground. Reads CELL_ID, PORT, CELL_DB and CELL_HOME; creates CELL_DB from the template if it does not exist.',
    )
    .requiredOption('-t, --template <name>', 'template whose app to run (basic or ecommerce)')
    .option('--data-port <port>', "also serve the cell's data API on this port")
    .option('--data-host <host>', 'address the data API listens on', '127.0.0.1')
    .option('--token-file <file>', 'file holding the data API token (with --data-port)')
    .addHelpText(
      'after',
      examples(
        'CELL_ID=dev PORT=9100 CELL_DB=/tmp/dev.db CELL_HOME=/tmp cellctl serve --template ecommerce',
        'CELL_ID=dev PORT=9100 CELL_DB=/tmp/dev.db CELL_HOME=/tmp cellctl serve --template basic --data-port 9101 --token-file dev.token',
      ),
    )
    .action(lazy(() => import('./commands/serve.js')));

  program
    .command('cell-agent')
    .summary("serve a user's app's data API (moves, barrier) beside its SQLite file")
    .description(
      "Serve the cell data API for the SQLite file of a cell whose template runs its own command, installing the write-barrier triggers on the template's customer tables. The supervisor runs one beside each such cell.",
    )
    .option('--db <file>', "the app's SQLite file")
    .option('-t, --template <name-or-dir>', 'template folder, or a built-in template name')
    .option('--cell-id <id>', 'the cell the file belongs to')
    .option('--port <port>', 'port of the data API')
    .option('--host <host>', 'address the data API listens on', '127.0.0.1')
    .option('--token-file <file>', 'file holding the data API token')
    .option('--remove-triggers', 'remove the barrier triggers from --db and exit')
    .addHelpText(
      'after',
      examples(
        'cellctl cell-agent --db cells/notes-1/data.db --template ./templates/notes --cell-id notes-1 --port 8101 --token-file notes-1.token',
        'cellctl cell-agent --db cells/notes-1/data.db --remove-triggers',
      ),
    )
    .action(lazy(() => import('./commands/cell-agent.js')));
}

/** More routers in front of the cells: router serve. */
function addRouterCommands(program: Command): void {
  const router = program.command('router').summary('run one more router (any host that reaches the control plane and the cells)');
  router
    .command('serve')
    .summary("run a router in the foreground on the workspace's control plane; it registers itself there")
    .description(
      'Run a router in the foreground, in front of the same cells as the supervised one, reading the same control plane (control.db or PostgreSQL). It registers itself (id <host>:<port>, admin URL) so moves fence it and status lists it; SIGTERM or Ctrl-C stops it and removes the registration.',
    )
    .requiredOption('--port <port>', 'public port')
    .requiredOption('--admin-port <port>', 'admin API port (fences, stats; bearer admin token)')
    .option('--host <host>', 'address the public port binds (default: the routerHost setting)')
    .option('--admin-host <host>', 'address the admin API binds (default: the routerAdminHost setting, 127.0.0.1; movers on other hosts need it reachable)')
    .option('--advertise <host>', "host name or address other hosts reach this router at (default: the bind address, or this host's for 0.0.0.0)")
    .addHelpText(
      'after',
      examples(
        'cellctl router serve --port 8010 --admin-port 8011',
        'cellctl router serve --port 8010 --admin-port 8011 --host 0.0.0.0 --admin-host 0.0.0.0 --advertise 10.0.0.5',
      ),
    )
    .action(lazy(() => import('./commands/router.js').then((m) => ({ options: m.serveOptions, run: m.serve as CommandModule['run'] }))));
}

/** The processes: up, start, stop, restart. */
function addProcessCommands(program: Command): void {
  program
    .command('up')
    .summary('init, create cells, start everything and add sample customers')
    .description(
      "The newcomer's one command: init the workspace if needed, create cell-1..cell-N, start the router and cells, create sample customers through the router, and print the status.",
    )
    .option('--cells <n>', 'number of cells', '3')
    .option('-t, --template <name>', "template for new cells (default: the workspace's placement template, else ecommerce)")
    .option('--customers <n>', 'sample customers to create through the router', '20')
    .option('--router-port <port>', 'router port for a new workspace', '8000')
    .option('--control <url>', 'a new workspace keeps its control plane in PostgreSQL (as init; default: $CELLCTL_CONTROL_URL, else control.db)')
    .option('--timeout <seconds>', 'how long to wait for processes to become healthy', '60')
    .option('--json', 'print the final status as JSON')
    .addHelpText('after', examples('cellctl up', 'cellctl up --cells 5 --template basic --customers 200'))
    .action(lazy(() => import('./commands/up.js')));

  program
    .command('start')
    .summary('start the router and cells (all, or the ones named) and wait until healthy')
    .argument('[cell...]', 'cells to start (default: all)')
    .option('--timeout <seconds>', 'how long to wait for health', '30')
    .addHelpText('after', examples('cellctl start', 'cellctl start cell-2 --timeout 10'))
    .action(lazy(() => import('./commands/start.js')));

  program
    .command('stop')
    .summary('stop cells, or everything (TERM, wait, KILL)')
    .argument('[name...]', 'cells (or "router") to stop (default: everything, supervisor included)')
    .option('--timeout <seconds>', 'how long to wait after TERM before KILL', '10')
    .addHelpText('after', examples('cellctl stop', 'cellctl stop cell-2'))
    .action(lazy(() => import('./commands/stop.js')));

  program
    .command('restart')
    .summary('restart cells (or everything) and wait until healthy')
    .argument('[name...]', 'cells (or "router") to restart (default: everything)')
    .option('--timeout <seconds>', 'how long to wait for each step', '30')
    .addHelpText('after', examples('cellctl restart', 'cellctl restart cell-1'))
    .action(lazy(() => import('./commands/restart.js')));
}

/** Looking at the running system, and its settings: status, health, metrics, logs, events, token, config. */
function addObserveCommands(program: Command): void {
  program
    .command('status')
    .summary('one table: supervisor, router and every cell')
    .option('--json', 'print JSON')
    .option('-o, --output <format>', '"wide": every column (port, uptime, restarts, requests); the default fits 80 columns')
    .option('-w, --watch', 'refresh every 2 seconds')
    .addHelpText('after', examples('cellctl status', 'cellctl status --json | jq .cells'))
    .action(lazy(() => import('./commands/status.js')));

  program
    .command('health')
    .summary('exit 0 only when the router and every started cell are healthy')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('cellctl health && echo ok'))
    .action(lazy(() => import('./commands/health.js')));

  program
    .command('metrics')
    .summary('per-cell and router figures')
    .argument('[cell]', 'one cell (default: all)')
    .option('--json', 'print JSON')
    .option('--prometheus', 'print Prometheus text')
    .addHelpText('after', examples('cellctl metrics', 'cellctl metrics cell-1 --json', 'cellctl metrics --prometheus'))
    .action(lazy(() => import('./commands/metrics.js')));

  program
    .command('dashboard')
    .summary('a live page of the whole system: cells, router, moves, events, customer search')
    .description('Serve a read-only live dashboard on 127.0.0.1; its URL (printed) carries a random access token. Ctrl-C stops it.')
    .option('--port <port>', 'port to serve on (default: any free one)')
    .option('--open', 'open the page in the default browser')
    .addHelpText('after', examples('cellctl dashboard', 'cellctl dashboard --port 8080 --open'))
    .action(lazy(() => import('./commands/dashboard.js')));

  program
    .command('logs')
    .summary('show a log: a cell, "router" or "supervisor", or --all of them by time')
    .argument('[name]', 'cell name, router or supervisor')
    .option('-n, --lines <n>', 'lines to show', '50')
    .option('-f, --follow', 'keep printing new lines')
    .option('--all', 'every process, interleaved by time')
    .option('--since <when>', 'only lines since a duration ago (10m, 2h) or a time (ISO)')
    .option('--json', 'the raw JSON lines')
    .addHelpText(
      'after',
      examples('cellctl logs router -n 100', 'cellctl logs cell-1 -f', 'cellctl logs --all --since 10m', 'cellctl logs router --json | jq .msg'),
    )
    .action(lazy(() => import('./commands/logs.js')));

  program
    .command('events')
    .summary('what happened: restarts, crashes, moves (from control.db)')
    .option('--subject <name>', 'only events about this cell, customer or process')
    .option('-n, --lines <n>', 'how many of the latest events', '50')
    .option('-w, --watch', 'keep printing new events until Ctrl-C')
    .option('--json', 'print JSON (JSON lines with --watch)')
    .addHelpText('after', examples('cellctl events', 'cellctl events --subject cell-1 --json', 'cellctl events --watch'))
    .action(lazy(() => import('./commands/events.js')));
}

/** Tokens and settings: token, config. */
function addSettingsCommands(program: Command): void {
  program
    .command('token')
    .summary('print a JWT for a customer (JWT auth mode)')
    .argument('<customer>', 'customer id')
    .option('--ttl <seconds>', 'lifetime', '3600')
    .addHelpText('after', examples('curl -H "Authorization: Bearer $(cellctl token c-0001)" http://127.0.0.1:8000/api/customers/c-0001'))
    .action(lazy(() => import('./commands/token.js')));

  program
    .command('config')
    .summary('view, get or set a setting in cellctl.json; the running router applies it')
    .argument('[action]', 'view | get | set', 'view')
    .argument('[name]', 'setting name, dotted for nested ones (limits.maxBodyBytes)')
    .argument('[value]', 'new value: JSON (200, true, null) or text (jwt)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      examples(
        'cellctl config view',
        'cellctl config get auth',
        'cellctl config set auth jwt',
        'cellctl config set limits.rateLimit.requests 50',
        'cellctl config set placementTemplate basic',
      ),
    )
    .action(lazy(() => import('./commands/config.js')));
}

/** The mapping of customers to cells: customers, assign, unassign, route. */
function addCustomerCommands(program: Command): void {
  program
    .command('customers')
    .summary('the mapping: list it, show one customer in full, unassign one, or purge a stray copy')
    .argument('[action]', 'list | show <id> | unassign <id> | purge <id> --cell C', 'list')
    .argument('[id]', 'customer id (show, unassign, purge)')
    .option('--cell <cell>', 'only customers of this cell (list); the cell to remove a stray copy from (purge)')
    .option('--force', 'unassign even though the customer has rows in its cell')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      examples(
        'cellctl customers --cell cell-1',
        'cellctl customers show c-0001',
        'cellctl customers unassign ghost',
        'cellctl customers purge c-0001 --cell cell-3',
      ),
    )
    .action(lazy(() => import('./commands/customers.js')));

  program
    .command('assign')
    .summary('pin a customer to a cell: assign customer <id> [--cell C]')
    .argument('<what>', 'the word "customer"')
    .argument('<id>', 'customer id')
    .option('--cell <cell>', 'cell to pin to (default: the placement policy decides)')
    .option('--force', 'pin even past the cell capacity')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('cellctl assign customer acme --cell cell-2', 'cellctl assign customer acme'))
    .action(lazy(() => import('./commands/assign.js')));

  program
    .command('unassign')
    .summary('remove a customer mapping row: unassign customer <id> (same as "customers unassign")')
    .argument('<what>', 'the word "customer"')
    .argument('<id>', 'customer id')
    .option('--force', 'even though the customer has rows in its cell')
    .option('--json', 'print JSON')
    .action(
      lazy(async () => {
        const customers = await import('./commands/customers.js');
        return { options: customers.unassignOptions, run: (input: CommandInput) => customers.runUnassignCommand(input as never) };
      }),
    );

  program
    .command('route')
    .summary('which cell serves a customer, and by which rule')
    .argument('<customer>', 'customer id')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('cellctl route c-0001', 'cellctl route new-customer --json'))
    .action(lazy(() => import('./commands/route.js')));
}

/** migrate customer, and the migration journal: list, show, resume, abort, purge. */
function addMigrateCommands(program: Command): void {
  const migrate = program.command('migrate').summary('move customers between cells; inspect, resume or abort moves');
  migrate
    .command('customer')
    .summary('move one customer: check, fence, copy, verify, switch, release, purge')
    .argument('<id>', 'customer id')
    .option('--to <cell>', 'target cell')
    .option('--dry-run', 'print the plan (tables, row counts) and change nothing')
    .option('--keep-source [duration]', 'keep the source rows for a while (default 24h) instead of purging them')
    .option('--force', 'move even if the target is at capacity')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('cellctl migrate customer c-0001 --to cell-2', 'cellctl migrate customer c-0001 --to cell-2 --dry-run'))
    .action(lazy(() => import('./commands/migrate-customer.js')));
  const admin = (pick: (m: typeof import('./commands/migrate-admin.js')) => CommandModule) => lazy(() => import('./commands/migrate-admin.js').then(pick));
  migrate
    .command('list')
    .summary('the migration journal')
    .option('--state <state>', 'running, done, aborted or failed')
    .option('-n, --lines <n>', 'how many of the latest', '50')
    .option('--json', 'print JSON')
    .action(admin((m) => ({ run: m.list, options: m.listOptions })));
  migrate
    .command('show')
    .summary('one migration, with its journal detail')
    .argument('<id>')
    .option('--json', 'print JSON')
    .action(admin((m) => ({ run: m.show, options: m.oneOptions })));
  migrate
    .command('resume')
    .summary('finish an interrupted migration (customer ends in the target)')
    .argument('<id>')
    .option('--json', 'print JSON')
    .action(admin((m) => ({ run: m.resume, options: m.oneOptions })));
  migrate
    .command('abort')
    .summary('roll an interrupted migration back (customer ends in the source)')
    .argument('<id>')
    .option('--json', 'print JSON')
    .action(admin((m) => ({ run: m.abort, options: m.oneOptions })));
  migrate
    .command('purge')
    .summary('delete source rows kept by --keep-source once their time has come')
    .option('--all', 'purge every kept source now')
    .option('--json', 'print JSON')
    .action(admin((m) => ({ run: m.purge, options: m.purgeOptions })));
}

/** Moves of many customers, checks and drills: drain, activate, rebalance, audit, drill. */
function addFleetCommands(program: Command): void {
  program
    .command('control')
    .summary('the control plane: move it from control.db into PostgreSQL')
    .command('migrate-to')
    .summary("copy a stopped workspace's control.db into PostgreSQL (verified) and use it from then on")
    .argument('<url>', 'postgres://user:password@host:5432/database (an empty database, or one this copy made)')
    .addHelpText('after', examples('cellctl stop && cellctl control migrate-to postgres://cellctl:secret@db.internal:5432/cellctl'))
    .action(lazy(() => import('./commands/control.js')));

  program
    .command('drain')
    .summary('move every customer out of a cell, in batches')
    .argument('<cell>', 'cell to empty')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--batch-size <n>', 'customers per batch', '100')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('cellctl drain cell-3 --dry-run', 'cellctl drain cell-3'))
    .action(lazy(() => import('./commands/drain.js')));

  program
    .command('activate')
    .summary('re-open a drained cell to new customers')
    .argument('<cell>', 'cell name')
    .action(lazy(() => import('./commands/activate.js')));

  program
    .command('rebalance')
    .summary('even out load against capacity by moving customers')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--max-moves <n>', 'at most this many moves', '1000')
    .option('--batch-size <n>', 'customers per batch', '100')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('cellctl rebalance --dry-run', 'cellctl rebalance --max-moves 200'))
    .action(lazy(() => import('./commands/rebalance.js')));

  program
    .command('audit')
    .summary('find customers whose rows are misplaced, duplicated or missing (exit 4 if any)')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('cellctl audit', 'cellctl audit --json'))
    .action(lazy(() => import('./commands/audit.js')));

  program
    .command('repair')
    .summary('bring a control plane that is behind its cells (restored from a backup) back in line with them')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--yes', 'apply without asking (needed off a terminal)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      examples('cellctl repair --dry-run', 'cellctl repair --yes') +
        '\nIt advances the fencing sequence past every number a cell has seen, maps each customer to the one cell holding its rows,\nends interrupted moves of those customers, and lifts their barriers in the cell that serves them. It never deletes a row.',
    )
    .action(lazy(() => import('./commands/repair.js')));

  program
    .command('drill')
    .summary('failure drill: kill a cell under load and measure the blast radius and recovery')
    .argument('<kind>', 'the drill: "kill"')
    .argument('<cell>', 'cell to kill')
    .option('--duration <seconds>', 'how long to watch after the kill', '5')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('cellctl drill kill cell-1', 'cellctl drill kill cell-2 --duration 10 --json'))
    .action(lazy(() => import('./commands/drill.js')));
}

export async function main(argv: string[]): Promise<number> {
  keepFilesPrivate();
  // A closed pipe on stdout (e.g. `cellctl customers | head`) is the reader's choice, not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  const program = buildProgram();
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? ExitCode.ok : Number(process.exitCode);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end with exit 0; every other commander error is a usage error.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (isCellctlError(error)) {
      sayError(error.message);
      if (debug && error.stack) process.stderr.write(error.stack + '\n');
      return error.exitCode;
    }
    if (error instanceof Error && (error.name === 'DataApiError' || error.name === 'DataApiUnreachable')) {
      // A cell's data API failed or did not answer (data/client.ts; by name, so axios is not loaded
      // for every command): the message names the cell; a failed command, not a bug here.
      sayError(error.message);
      return ExitCode.failure;
    }
    if (error instanceof Error && error.name === 'ExitPromptError') {
      sayError('cancelled');
      return ExitCode.interrupted; // Ctrl-C at a prompt
    }
    sayError(`unexpected: ${describeError(error)}${debug ? '' : ' (run with --debug for the stack trace; this is a bug, please report it)'}`);
    if (debug && error instanceof Error && error.stack) process.stderr.write(error.stack + '\n');
    return ExitCode.failure;
  }
}
