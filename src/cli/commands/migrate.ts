// cellctl migrate customer|list|show|resume|abort|purge: moving customers, and the migration journal.
import { usageError } from '../../shared/errors.js';
import { checkCustomerId, parseDuration, parsePositiveInt } from '../../shared/names.js';
import { count, countFromZero, defineCommand, defineGroup, names, on, oneOf, output, required, text } from '../define.js';

export const migrateCustomer = defineCommand({
  command: 'customer',
  summary: 'move one customer: check, (capture, copy online, catch up,) fence, copy, verify, switch, release, purge',
  args: { id: names('customer', required('customer id', checkCustomerId)) },
  flags: {
    to: names('cell', text('--to <cell>', 'target cell')),
    dryRun: on('--dry-run', 'print the plan (tables, row counts) and change nothing'),
    keepSource: {
      flags: '--keep-source [duration]',
      help: 'keep the source rows for a while (default 24h) instead of purging them',
      // Alone it means 24 hours; with a value, that duration. In milliseconds; null: purge at once.
      parse: (raw: unknown) => (raw === undefined ? null : parseDuration(raw === true ? '24h' : String(raw), '--keep-source')),
    },
    force: on('--force', 'move even if the target is at capacity'),
    maxLag: countFromZero(100_000)('--max-lag <changes>', 'an online move cuts over once at most this many changes wait (default: limits.maxLag, 500)'),
    cutover: oneOf('--cutover <what>', 'when the catch-up cannot get under --max-lag within limits.catchUpMs: abort (roll back) or force (cut over anyway)', [
      'abort',
      'force',
    ]),
    json: on('--json', 'print JSON'),
  },
  validate: ({ opts }) => {
    if (!opts.to) throw usageError('missing --to <cell>: name the cell to move the customer to');
  },
  examples: [
    'cellctl migrate customer c-0001 --to cell-2',
    'cellctl migrate customer c-0001 --to cell-2 --dry-run',
    'cellctl migrate customer c-0001 --to cell-2 --keep-source 2h',
    'cellctl migrate customer c-0001 --to cell-2 --max-lag 100 --cutover force',
  ],
  handler: () => import('../handlers/migrate-customer.js').then((m) => m.run),
});

/** A migration id: a whole number from 1 up. */
function migrationId(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    throw usageError(`"${raw}" is not a migration id: ids are whole numbers from 1 up; "cellctl migrate list" shows them`);
  return parsePositiveInt(raw, 'migration id');
}
const id = names('migration', required('migration id ("cellctl migrate list" shows them)', migrationId));

export const migrateList = defineCommand({
  command: 'list',
  summary: 'the migration journal',
  flags: {
    state: oneOf('--state <state>', 'running, done, aborted or failed', ['running', 'done', 'aborted', 'failed']),
    lines: count(1_000_000)('-n, --lines <n>', 'how many of the latest', { default: '50' }),
    output: output(),
  },
  examples: ['cellctl migrate list', 'cellctl migrate list --state running -o yaml'],
  handler: () => import('../handlers/migrate-admin.js').then((m) => m.list),
});

export const migrateShow = defineCommand({
  command: 'show',
  summary: 'one migration, with its journal detail',
  args: { id },
  flags: { output: output() },
  examples: ['cellctl migrate show 12', 'cellctl migrate show 12 --json'],
  handler: () => import('../handlers/migrate-admin.js').then((m) => m.show),
});

export const migrateResume = defineCommand({
  command: 'resume',
  summary: 'finish an interrupted migration (customer ends in the target)',
  args: { id },
  flags: { json: on('--json', 'print JSON') },
  examples: ['cellctl migrate resume 12'],
  handler: () => import('../handlers/migrate-admin.js').then((m) => m.resume),
});

export const migrateAbort = defineCommand({
  command: 'abort',
  summary: 'roll an interrupted migration back (customer ends in the source)',
  args: { id },
  flags: { json: on('--json', 'print JSON') },
  examples: ['cellctl migrate abort 12'],
  handler: () => import('../handlers/migrate-admin.js').then((m) => m.abort),
});

export const migratePurge = defineCommand({
  command: 'purge',
  summary: 'delete source rows kept by --keep-source once their time has come',
  flags: { all: on('--all', 'purge every kept source now'), json: on('--json', 'print JSON') },
  examples: ['cellctl migrate purge', 'cellctl migrate purge --all'],
  handler: () => import('../handlers/migrate-admin.js').then((m) => m.purge),
});

export const migrate = defineGroup({
  command: 'migrate',
  summary: 'move customers between cells; inspect, resume or abort moves',
  subcommands: [migrateCustomer, migrateList, migrateShow, migrateResume, migrateAbort, migratePurge],
  examples: ['cellctl migrate customer c-0001 --to cell-2', 'cellctl migrate list --state running', 'cellctl migrate resume 12'],
});
