// The migration engine: runs DESIGN.md's protocol (check, fence, copy, verify, switch, release,
// purge) for a batch of customers that share a source and a target, journaling each step in
// control.db before the next begins, and brings an interrupted migration to a consistent end —
// forward (resume) or back to the source (abort) — from the journal alone.
import { randomUUID } from 'node:crypto';
import type { CellRecord, MigrationRecord } from '../control/store.js';
import { describeError, failure } from '../shared/errors.js';
import { loadTemplate } from '../templates/catalog.js';
import { cellPaths } from '../workspace/paths.js';
import type { Workspace } from '../workspace/workspace.js';
import { type FenceHandle, FenceLost, MigrationFence } from './fence.js';
import { isSwitched, type MigrationStep, type Move } from './plan.js';
import { CellPair, type TableVerification } from './rows.js';

export interface BatchOptions {
  /** Keep the source rows until this time (ISO) instead of purging them at once. */
  keepSourceUntil: string | null;
  batch: string | null;
}

export interface BatchResult {
  moved: string[];
  migrationIds: number[];
  verification: TableVerification[];
  /** How long the customers' requests were held at the router, in ms (0 without a router). */
  fencedMs: number;
}

/** Test-only fault injection: CELLCTL_FAULT_AFTER_STEP=<step> kills this process right after that step is journaled. */
function faultPoint(step: MigrationStep): void {
  if (process.env.CELLCTL_FAULT_AFTER_STEP === step) process.kill(process.pid, 'SIGKILL');
}

/** Test-only: CELLCTL_PAUSE_AFTER_STEP=<step>:<ms> waits there, so a test can break something mid-move. */
async function pausePoint(step: MigrationStep): Promise<void> {
  const [pauseStep, ms] = (process.env.CELLCTL_PAUSE_AFTER_STEP ?? '').split(':');
  if (pauseStep === step) await new Promise((resolve) => setTimeout(resolve, Number(ms) || 0));
}

class Journal {
  constructor(
    private readonly ws: Workspace,
    readonly ids: number[],
  ) {}

  /** Journals a completed step (its own transaction, or the caller's when nested in one). */
  write(step: MigrationStep, detail?: Record<string, unknown>): void {
    this.ws.store.transaction(() => {
      for (const id of this.ids) this.ws.store.recordMigrationStep(id, step, detail);
    });
  }

  record(step: MigrationStep, detail?: Record<string, unknown>): void {
    this.write(step, detail);
    faultPoint(step);
  }

  end(state: 'done' | 'aborted' | 'failed', error: string | null = null): void {
    this.ws.store.transaction(() => {
      for (const id of this.ids) this.ws.store.endMigration(id, state, error);
    });
  }
}

function cellOf(ws: Workspace, id: string): CellRecord {
  const cell = ws.store.getCell(id);
  if (!cell) throw failure(`cell ${id} no longer exists in control.db; the journal cannot be completed automatically`);
  return cell;
}

function openPair(ws: Workspace, from: CellRecord, to: CellRecord): CellPair {
  const template = loadTemplate(from.templateDir);
  return new CellPair(cellPaths(ws.home, from.id).dataDb, cellPaths(ws.home, to.id).dataDb, template.customerTables);
}

/**
 * Fence → copy+verify → confirm fence → switch (with the journal, in one control.db transaction) →
 * release → purge. Used for a fresh move, for resume before the switch, and (reversed) for abort
 * after the switch.
 */
async function moveRows(ws: Workspace, journal: Journal, customerIds: string[], from: CellRecord, to: CellRecord, keepSource: boolean): Promise<BatchResult> {
  const fence = new MigrationFence(ws);
  const pair = openPair(ws, from, to);
  try {
    const fencedAt = performance.now();
    const handle: FenceHandle = await fence.put(customerIds);
    journal.record('fenced', { fence: handle.kind });
    let verification: TableVerification[];
    try {
      verification = pair.copyAndVerify(customerIds);
      journal.record('copied', { rows: Object.fromEntries(verification.map((t) => [t.table, t.targetRows])) });
      journal.record('verified', { checksums: Object.fromEntries(verification.map((t) => [t.table, t.targetChecksum])) });
      await pausePoint('verified');
      await fence.confirm(customerIds, handle);
      // The mapping and the journal change together, or (on any error) not at all.
      ws.store.transaction(() => {
        for (const customerId of customerIds) {
          if (!ws.store.moveCustomer(customerId, from.id, to.id)) throw failure(`the mapping of ${customerId} changed during the move`);
        }
        journal.write('switched');
      });
    } catch (error) {
      // Before the switch the source is still the truth: drop the copy and lift the fence.
      pair.purge('target', customerIds);
      await fence.lift(customerIds);
      throw error;
    }
    faultPoint('switched');
    await fence.lift(customerIds);
    const fencedMs = handle.kind === 'router' ? performance.now() - fencedAt : 0;
    journal.record('released');
    if (!keepSource) {
      pair.purge('main', customerIds);
      journal.record('purged');
    }
    return { moved: customerIds, migrationIds: journal.ids, verification, fencedMs };
  } finally {
    pair.close();
  }
}

/** Moves a batch of customers from one cell to another. Before the switch, a failure rolls back. */
export async function moveBatch(ws: Workspace, moves: Move[], options: BatchOptions): Promise<BatchResult> {
  const from = cellOf(ws, moves[0]!.from);
  const to = cellOf(ws, moves[0]!.to);
  const customerIds = moves.map((move) => move.customerId);
  const records = ws.store.transaction(() =>
    moves.map((move) =>
      ws.store.startMigration({ customerId: move.customerId, sourceCell: from.id, targetCell: to.id, keepSourceUntil: options.keepSourceUntil, batch: options.batch, step: 'checked' }),
    ),
  );
  const journal = new Journal(ws, records.map((record) => record.id));
  faultPoint('checked');
  try {
    const result = await moveRows(ws, journal, customerIds, from, to, options.keepSourceUntil !== null);
    journal.end('done');
    ws.store.addEvent('migration', 'customer.moved', customerIds.length === 1 ? customerIds[0]! : `${customerIds.length} customers`, `${from.id} → ${to.id}`);
    return result;
  } catch (error) {
    const step = ws.store.getMigration(journal.ids[0]!)?.step ?? 'checked';
    if (!isSwitched(step)) {
      journal.end('aborted', describeError(error));
      throw failure(`move of ${customerIds.join(', ')} from ${from.id} to ${to.id} rolled back: ${describeError(error)}${error instanceof FenceLost ? '; run it again' : ''}`);
    }
    throw failure(`move of ${customerIds.join(', ')} stopped after the switch: ${describeError(error)}; finish it with "cellctl migrate resume ${journal.ids[0]}"`);
  }
}

function requireRunning(ws: Workspace, id: number): MigrationRecord {
  const migration = ws.store.getMigration(id);
  if (!migration) throw failure(`no migration ${id}: "cellctl migrate list" shows them`);
  if (migration.state !== 'running') throw failure(`migration ${id} is already ${migration.state}; nothing to do`);
  return migration;
}

/** Finishes an interrupted migration: the customer ends wholly in the target. */
export async function resumeMigration(ws: Workspace, id: number): Promise<MigrationRecord> {
  const migration = requireRunning(ws, id);
  const from = cellOf(ws, migration.sourceCell);
  const to = cellOf(ws, migration.targetCell);
  const journal = new Journal(ws, [id]);
  const keepSource = migration.keepSourceUntil !== null;
  if (!isSwitched(migration.step)) {
    await moveRows(ws, journal, [migration.customerId], from, to, keepSource);
  } else {
    const fence = new MigrationFence(ws);
    if (migration.step === 'switched') {
      await fence.lift([migration.customerId]);
      journal.record('released');
    }
    if (!keepSource && migration.step !== 'purged') {
      const pair = openPair(ws, from, to);
      try {
        pair.purge('main', [migration.customerId]);
      } finally {
        pair.close();
      }
      journal.record('purged');
    }
  }
  journal.end('done');
  ws.store.addEvent('migration', 'migration.resumed', migration.customerId, `migration ${id} finished: ${from.id} → ${to.id}`);
  return ws.store.getMigration(id)!;
}

/**
 * Rolls an interrupted migration back: the customer ends wholly in the source. Before the switch that
 * is dropping the copy. After it, the target may have taken writes, so the customer is moved back
 * the same safe way, journaled as a new migration (target → source) that itself can be resumed.
 */
export async function abortMigration(ws: Workspace, id: number): Promise<MigrationRecord> {
  const migration = requireRunning(ws, id);
  const from = cellOf(ws, migration.sourceCell);
  const to = cellOf(ws, migration.targetCell);
  if (!isSwitched(migration.step)) {
    const pair = openPair(ws, from, to);
    try {
      pair.purge('target', [migration.customerId]);
    } finally {
      pair.close();
    }
    await new MigrationFence(ws).lift([migration.customerId]);
    new Journal(ws, [id]).end('aborted', 'aborted by the user');
  } else {
    const back = ws.store.transaction(() => {
      ws.store.endMigration(id, 'aborted', 'aborted by the user after the switch; moved back by a reverse migration');
      return ws.store.startMigration({ customerId: migration.customerId, sourceCell: to.id, targetCell: from.id, keepSourceUntil: null, batch: `reverse-of-${id}`, step: 'checked' });
    });
    const journal = new Journal(ws, [back.id]);
    await moveRows(ws, journal, [migration.customerId], to, from, false);
    journal.end('done');
  }
  ws.store.addEvent('migration', 'migration.aborted', migration.customerId, `migration ${id} rolled back: customer stays in ${from.id}`);
  return ws.store.getMigration(id)!;
}

/**
 * Purges source rows kept by --keep-source whose time has come (or all of them with `all`), unless
 * the customer has since moved back to that cell.
 */
export function purgeKeptSources(ws: Workspace, now: Date, all: boolean): { purged: number[]; skipped: number[] } {
  const purged: number[] = [];
  const skipped: number[] = [];
  for (const migration of ws.store.listMigrations({ state: 'done', limit: 1_000_000 })) {
    if (migration.keepSourceUntil === null || migration.step === 'purged') continue;
    if (!all && Date.parse(migration.keepSourceUntil) > now.getTime()) continue;
    const journal = new Journal(ws, [migration.id]);
    if (ws.store.getCustomer(migration.customerId)?.cellId === migration.sourceCell) {
      journal.record('purged', { purge: 'skipped: the customer lives in the source again' });
      skipped.push(migration.id);
      continue;
    }
    const pair = openPair(ws, cellOf(ws, migration.sourceCell), cellOf(ws, migration.targetCell));
    try {
      pair.purge('main', [migration.customerId]);
    } finally {
      pair.close();
    }
    journal.record('purged');
    purged.push(migration.id);
  }
  return { purged, skipped };
}

export const newBatchId = (): string => randomUUID();
