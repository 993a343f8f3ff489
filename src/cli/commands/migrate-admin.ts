// cellctl migrate list|show|resume|abort|purge: the migration journal, and bringing interrupted
// migrations to a consistent end.
import { abortMigration, purgeKeptSources, resumeMigration } from '../../migration/engine.js';
import { judgeOwner, localProbe, ownerName } from '../../control/ownership.js';
import type { MigrationRecord, MigrationState } from '../../control/plane.js';
import { failure, usageError } from '../../shared/errors.js';
import { parsePositiveInt } from '../../shared/names.js';
import type { Workspace } from '../../workspace/workspace.js';
import { type CommandInput, withWorkspace } from '../context.js';
import { commandOptions, count, on, type OptionsOf, text } from '../options.js';
import { paint, printJson, printLine, renderTable, say, sayDone } from '../output.js';

const STATES: MigrationState[] = ['running', 'done', 'aborted', 'failed'];

function migrationId(raw: string | undefined): number {
  if (raw === undefined) throw usageError('missing <id>: "cellctl migrate list" shows migration ids');
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    throw usageError(`"${raw}" is not a migration id: ids are whole numbers from 1 up; "cellctl migrate list" shows them`);
  return parsePositiveInt(raw, 'migration id');
}

/** A running migration is either in progress (its owner runs it) or interrupted (nobody does). */
function progressOf(migration: MigrationRecord, now: number): string | null {
  if (migration.state !== 'running') return null;
  const verdict = judgeOwner(migration, now, localProbe);
  return verdict.kind === 'in-progress' ? `in progress (${ownerName(verdict.owner, localProbe.host)})` : 'interrupted';
}

function stateCell(migration: MigrationRecord, now: number): string {
  const { state } = migration;
  if (state === 'running') return paint.yellow(progressOf(migration, now)!);
  return state === 'done' ? paint.green(state) : paint.red(state);
}

function render(migrations: MigrationRecord[]): string {
  return renderTable(
    ['id', 'customer', 'from', 'to', 'state', 'last step', 'updated', 'error'],
    migrations.map((m) => [m.id, m.customerId, m.sourceCell, m.targetCell, stateCell(m, Date.now()), m.step, m.updatedAt, m.error ?? '']),
  );
}

export const listOptions = commandOptions({ state: text, lines: count('--lines', 1_000_000), json: on });
/** show, resume and abort. */
export const oneOptions = commandOptions({ json: on });
export const purgeOptions = commandOptions({ all: on, json: on });

export async function list(input: CommandInput<OptionsOf<typeof listOptions>>): Promise<void> {
  const state = input.opts.state as MigrationState | undefined;
  if (state !== undefined && !STATES.includes(state)) throw usageError(`--state must be one of ${STATES.join(', ')}`);
  const limit = input.opts.lines;
  await withWorkspace(input, async (ws) => {
    const migrations = await ws.plane.listMigrations({ state, limit });
    if (input.opts.json) return printJson(migrations);
    if (migrations.length === 0) return say('no migrations');
    printLine(render(migrations));
  });
}

export async function show(input: CommandInput<OptionsOf<typeof oneOptions>>): Promise<void> {
  const id = migrationId(input.args[0]);
  await withWorkspace(input, async (ws) => {
    const migration = await ws.plane.getMigration(id);
    if (!migration) throw failure(`no migration ${id}: "cellctl migrate list" shows them`);
    const progress = progressOf(migration, Date.now());
    if (input.opts.json) return printJson({ ...migration, progress });
    printLine(render([migration]));
    printLine(`detail: ${JSON.stringify(migration.detail)}`);
    if (progress === 'interrupted') printLine(`needs attention: "cellctl migrate resume ${id}" finishes it, "cellctl migrate abort ${id}" rolls it back`);
    else if (progress !== null) printLine(`${progress}: wait for it to finish`);
  });
}

async function finish(
  input: CommandInput<OptionsOf<typeof oneOptions>>,
  action: (ws: Workspace, id: number) => Promise<MigrationRecord>,
  verb: string,
): Promise<void> {
  const id = migrationId(input.args[0]);
  await withWorkspace(input, async (ws) => {
    const migration = await action(ws, id);
    const customer = await ws.plane.getCustomer(migration.customerId);
    if (input.opts.json) return printJson({ migration, mappedTo: customer?.cellId ?? null });
    sayDone(`migration ${id} ${verb}: ${migration.customerId} is in ${customer?.cellId ?? '(unmapped)'}`);
  });
}

export const resume = (input: CommandInput<OptionsOf<typeof oneOptions>>) => finish(input, resumeMigration, 'finished');
export const abort = (input: CommandInput<OptionsOf<typeof oneOptions>>) => finish(input, abortMigration, 'rolled back');

export async function purge(input: CommandInput<OptionsOf<typeof purgeOptions>>): Promise<void> {
  await withWorkspace(input, async (ws) => {
    const result = await purgeKeptSources(ws, new Date(), input.opts.all);
    if (input.opts.json) return printJson(result);
    sayDone(
      `purged kept source rows of ${result.purged.length} migration(s)${result.skipped.length ? `; skipped ${result.skipped.length} whose customer moved back or is moving` : ''}`,
    );
  });
}
