// cellctl migrate list|show|resume|abort|purge: the migration journal, and bringing interrupted
// migrations to a consistent end.
import { abortMigration, purgeKeptSources, resumeMigration } from '../../migration/engine.js';
import { judgeOwner, localProbe, ownerName } from '../../control/ownership.js';
import type { MigrationRecord } from '../../control/plane.js';
import { failure } from '../../shared/errors.js';
import type { Workspace } from '../../workspace/workspace.js';
import { withWorkspace } from '../context.js';
import type { InputOf } from '../define.js';
import type { migrateAbort, migrateList, migratePurge, migrateResume, migrateShow } from '../commands/migrate.js';
import { printData } from '../formats.js';
import { paint, printJson, printLine, renderTable, say, sayDone } from '../output.js';

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

function render(migrations: MigrationRecord[], wide: boolean): string {
  return renderTable(
    ['id', 'customer', 'from', 'to', 'state', 'last step', 'updated', 'error'],
    migrations.map((m) => [m.id, m.customerId, m.sourceCell, m.targetCell, stateCell(m, Date.now()), m.step, m.updatedAt, m.error ?? '']),
    { wide },
  );
}

export async function list(input: InputOf<typeof migrateList>): Promise<void> {
  const { state, lines: limit, output } = input.opts;
  await withWorkspace(input, async (ws) => {
    const migrations = await ws.plane.listMigrations({ state, limit });
    if (printData(output, migrations)) return;
    if (migrations.length === 0) return say('no migrations');
    printLine(render(migrations, output === 'wide'));
  });
}

export async function show(input: InputOf<typeof migrateShow>): Promise<void> {
  const {
    args: { id },
    opts: { output },
  } = input;
  await withWorkspace(input, async (ws) => {
    const migration = await ws.plane.getMigration(id);
    if (!migration) throw failure(`no migration ${id}: "cellctl migrate list" shows them`);
    const progress = progressOf(migration, Date.now());
    if (printData(output, { ...migration, progress })) return;
    printLine(render([migration], output === 'wide'));
    const recorded = detailLines(migration.detail);
    if (recorded.length > 0) printLine(['recorded by its steps:', ...recorded].join('\n'));
    if (progress === 'interrupted') printLine(`needs attention: "cellctl migrate resume ${id}" finishes it, "cellctl migrate abort ${id}" rolls it back`);
    else if (progress !== null) printLine(`${progress}: wait for it to finish`);
  });
}

async function finish(
  input: InputOf<typeof migrateResume>, // abort's input is the same
  action: (ws: Workspace, id: number) => Promise<MigrationRecord>,
  verb: string,
): Promise<void> {
  const { id } = input.args;
  await withWorkspace(input, async (ws) => {
    const migration = await action(ws, id);
    const customer = await ws.plane.getCustomer(migration.customerId);
    if (input.opts.json) return printJson({ migration, mappedTo: customer?.cellId ?? null });
    sayDone(`migration ${id} ${verb}: ${migration.customerId} is in ${customer?.cellId ?? '(unmapped)'}`);
  });
}

export function resume(input: InputOf<typeof migrateResume>): Promise<void> {
  return finish(input, resumeMigration, 'finished');
}
export function abort(input: InputOf<typeof migrateAbort>): Promise<void> {
  return finish(input, abortMigration, 'rolled back');
}

export async function purge(input: InputOf<typeof migratePurge>): Promise<void> {
  await withWorkspace(input, async (ws) => {
    const result = await purgeKeptSources(ws, new Date(), input.opts.all);
    if (input.opts.json) return printJson(result);
    sayDone(
      `purged kept source rows of ${result.purged.length} migration(s)${result.skipped.length ? `; skipped ${result.skipped.length} whose customer moved back or is moving` : ''}`,
    );
  });
}

/** What a migration's steps recorded, one "name: value" line each (-o json has it as recorded). */
export function detailLines(detail: Record<string, unknown>): string[] {
  const text = (value: unknown): string =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.entries(value)
          .map(([key, inner]) => `${key} ${text(inner)}`)
          .join(', ')
      : Array.isArray(value)
        ? value.map(text).join(', ')
        : String(value);
  return Object.entries(detail).map(([key, value]) => `  ${key}: ${text(value)}`);
}
