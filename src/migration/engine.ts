// The migration engine: runs DESIGN.md's protocol (check, fence, copy, verify, switch, release,
// purge) for a batch of customers that share a source and a target, journaling each step in
// control.db before the next begins, and brings an interrupted migration to a consistent end —
// forward (resume) or back to the source (abort) — from the journal alone.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { ALL, type CellRecord, type MigrationRecord, OwnershipLost } from '../control/store.js';
import { describeError, failure } from '../shared/errors.js';
import { loadTemplate } from '../templates/catalog.js';
import { cellPaths } from '../workspace/paths.js';
import type { Workspace } from '../workspace/workspace.js';
import { type FenceHandle, FenceLost, MigrationFence } from './fence.js';
import { busyMessage, judgeOwner, localProbe, thisProcessAsOwner } from '../control/ownership.js';
import type { MigrationStep } from '../control/store.js';
import { isSwitched, type Move } from './plan.js';
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

/**
 * Test-only: with CELLCTL_PAUSE_AFTER_STEP=<step> and CELLCTL_PAUSE_FILE=<path>, the move writes
 * `<path>.reached` (holding its pid) when it gets there and waits until `<path>` exists, so a test can
 * act mid-move and then let it go on, waiting for events rather than for time. The owner's lease is
 * renewed meanwhile, as for any slow step.
 */
async function pausePoint(step: MigrationStep): Promise<void> {
  const file = process.env.CELLCTL_PAUSE_FILE;
  if (process.env.CELLCTL_PAUSE_AFTER_STEP !== step || !file) return;
  fs.writeFileSync(`${file}.reached`, String(process.pid));
  const deadline = Date.now() + 300_000;
  while (!fs.existsSync(file) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** The journal rows of one batch, written only while this process owns them (see store.recordMigrationStep). */
class Journal {
  private renewal: NodeJS.Timeout | null = null;

  private constructor(
    private readonly ws: Workspace,
    readonly ids: number[],
    readonly owner: string,
  ) {}

  private get leaseMs(): number {
    return this.ws.settings.limits.migrationLeaseMs;
  }

  /** Journals a new batch of moves, owned by this process. */
  static start(ws: Workspace, moves: readonly Move[], options: BatchOptions): Journal {
    const owner = thisProcessAsOwner();
    const records = ws.store.startMigrations(
      moves.map((move) => ({
        customerId: move.customerId,
        sourceCell: move.from,
        targetCell: move.to,
        keepSourceUntil: options.keepSourceUntil,
        batch: options.batch,
        step: 'checked',
      })),
      owner,
      ws.settings.limits.migrationLeaseMs,
    );
    return new Journal(
      ws,
      records.map((record) => record.id),
      owner.token,
    );
  }

  /** Takes over an interrupted migration; refuses one whose owner still runs it. */
  static takeOver(ws: Workspace, migration: MigrationRecord): Journal {
    const verdict = judgeOwner(migration, Date.now(), localProbe);
    if (verdict.kind === 'in-progress') throw failure(busyMessage(migration.id, verdict.owner, localProbe.host), 'E_MIGRATION_BUSY');
    const owner = thisProcessAsOwner();
    if (!ws.store.takeOverMigration(migration.id, migration.owner, owner, ws.settings.limits.migrationLeaseMs)) {
      const now = ws.store.getMigration(migration.id);
      const busy =
        now?.state === 'running' && now.owner ? busyMessage(migration.id, now.owner, localProbe.host) : `migration ${migration.id} is ${now?.state ?? 'gone'}`;
      throw failure(`another cellctl took migration ${migration.id} over first: ${busy}`, 'E_MIGRATION_BUSY');
    }
    return new Journal(ws, [migration.id], owner.token);
  }

  /** The same owner, for a migration it has just started itself (the reverse move of an abort). */
  sibling(ids: number[]): Journal {
    return new Journal(this.ws, ids, this.owner);
  }

  /** Journals a completed step (its own transaction, or the caller's when nested in one). */
  write(step: MigrationStep, detail?: Record<string, unknown>): void {
    this.ws.store.recordMigrationStep(this.ids, this.owner, step, detail, this.leaseMs);
  }

  record(step: MigrationStep, detail?: Record<string, unknown>): void {
    this.write(step, detail);
    faultPoint(step);
  }

  end(state: 'done' | 'aborted' | 'failed', error: string | null = null): void {
    this.ws.store.endMigrations(this.ids, this.owner, state, error);
  }

  /** Runs a data-side write only while this process owns the migration (nobody can take it over meanwhile). */
  readonly guard = <T>(work: () => T): T => this.ws.store.whileOwning(this.ids, this.owner, this.leaseMs, work);

  /**
   * Runs chunked data-side work to its end, each chunk under guard, yielding to the event loop
   * between chunks (so the lease renewal runs) and calling `between` there.
   */
  async run<T>(steps: Generator<void, T>, between: () => Promise<void> = async () => {}): Promise<T> {
    for (;;) {
      const next = this.guard(() => steps.next());
      if (next.done) return next.value;
      await new Promise((resolve) => setImmediate(resolve));
      await between();
    }
  }

  /** Throws OwnershipLost unless this process still owns the migration. */
  check(): void {
    this.ws.store.renewLease(this.ids, this.owner, this.leaseMs);
  }

  /** Renews the lease every third of it until stop(), so a live owner is never taken over. */
  keepAlive(): void {
    this.renewal ??= setInterval(
      () => {
        try {
          this.check();
        } catch (error) {
          // Lost: the next journal write says so. Busy: the next renewal (or write) tries again.
          if (error instanceof OwnershipLost) this.stop();
        }
      },
      Math.max(50, Math.floor(this.leaseMs / 3)),
    );
    this.renewal.unref();
  }

  stop(): void {
    if (this.renewal) clearInterval(this.renewal);
    this.renewal = null;
  }
}

function cellOf(ws: Workspace, id: string): CellRecord {
  const cell = ws.store.getCell(id);
  if (!cell) throw failure(`cell ${id} no longer exists in control.db; the journal cannot be completed automatically`);
  return cell;
}

function openPair(ws: Workspace, from: CellRecord, to: CellRecord): CellPair {
  const template = loadTemplate(from.templateDir);
  return new CellPair(cellPaths(ws.home, from.id).dataDb, cellPaths(ws.home, to.id).dataDb, template.customerTables, to.id);
}

/** Runs `work` on a pair of cell databases and closes them. */
function withPair<T>(ws: Workspace, from: CellRecord, to: CellRecord, work: (pair: CellPair) => T): T {
  const pair = openPair(ws, from, to);
  try {
    return work(pair);
  } finally {
    pair.close();
  }
}

/** The fence id a migration journaled when it fenced, so a later process lifts only that fence. */
const journaledFenceId = (migration: MigrationRecord): string | undefined =>
  typeof migration.detail.fenceId === 'string' ? migration.detail.fenceId : undefined;

/**
 * Fence → copy+verify → confirm fence → switch (with the journal, in one control.db transaction) →
 * release → purge. Used for a fresh move, for resume before the switch, and (reversed) for abort
 * after the switch. Every data-side write runs while this process owns the journal rows; one that
 * lost them stops at once and touches nothing.
 */
async function moveRows(ws: Workspace, journal: Journal, customerIds: string[], from: CellRecord, to: CellRecord, keepSource: boolean): Promise<BatchResult> {
  const fence = new MigrationFence(ws);
  const pair = openPair(ws, from, to);
  journal.keepAlive();
  try {
    const fencedAt = performance.now();
    journal.check();
    const handle: FenceHandle = await fence.put(customerIds);
    const fenceId = handle.kind === 'router' ? handle.fenceId : undefined;
    journal.record('fenced', { fence: handle.kind, ...(fenceId ? { fenceId } : {}) });
    let verification: TableVerification[];
    try {
      verification = await journal.run(pair.copySteps(customerIds), () => fence.keepUp(customerIds, handle));
      journal.record('copied', { rows: Object.fromEntries(verification.map((t) => [t.table, t.targetRows])) });
      journal.record('verified', { checksums: Object.fromEntries(verification.map((t) => [t.table, t.targetChecksum])) });
      await pausePoint('verified');
      await fence.confirm(customerIds, handle);
      // The journal (checked first: still ours?) and the mapping change together, or not at all.
      ws.store.transaction(() => {
        fence.stillHeld(handle);
        journal.write('switched');
        for (const customerId of customerIds) {
          if (!ws.store.moveCustomer(customerId, from.id, to.id)) throw failure(`the mapping of ${customerId} changed during the move`);
        }
      });
    } catch (error) {
      if (error instanceof OwnershipLost) throw error;
      // Before the switch the source is still the truth: drop the copy and lift the fence.
      try {
        await journal.run(pair.deleteSteps('target', customerIds));
        await fence.lift(customerIds, fenceId);
      } catch (rollback) {
        if (rollback instanceof OwnershipLost) throw rollback;
        throw new RollbackIncomplete(error, rollback);
      }
      throw error;
    }
    faultPoint('switched');
    journal.check();
    await fence.lift(customerIds, fenceId);
    const fencedMs = handle.kind === 'router' ? performance.now() - fencedAt : 0;
    journal.record('released');
    if (!keepSource) {
      await journal.run(pair.deleteSteps('source', customerIds));
      journal.record('purged');
    }
    return { moved: customerIds, migrationIds: journal.ids, verification, fencedMs };
  } finally {
    journal.stop();
    pair.close();
  }
}

/** A move failed before its switch and its rollback failed too: the journal stays running for "migrate abort". */
class RollbackIncomplete extends Error {
  constructor(failed: unknown, rollback: unknown) {
    super(`${describeError(failed)}; rolling back failed too (${describeError(rollback)})`);
  }
}

/** The error for a process that found another one running its migration: it changed nothing more. */
function takenOver(error: OwnershipLost, what: string) {
  return failure(
    `${what} stopped: ${error.message}, so this process changed nothing more; "cellctl migrate show ${error.migrationIds[0]}" shows where it stands`,
    'E_MIGRATION_TAKEN_OVER',
  );
}

/** Moves a batch of customers from one cell to another. Before the switch, a failure rolls back. */
export async function moveBatch(ws: Workspace, moves: Move[], options: BatchOptions): Promise<BatchResult> {
  const from = cellOf(ws, moves[0]!.from);
  const to = cellOf(ws, moves[0]!.to);
  const customerIds = moves.map((move) => move.customerId);
  const what = `move of ${customerIds.join(', ')} from ${from.id} to ${to.id}`;
  const journal = Journal.start(ws, moves, options);
  faultPoint('checked');
  try {
    const result = await moveRows(ws, journal, customerIds, from, to, options.keepSourceUntil !== null);
    journal.end('done');
    ws.store.addEvent('migration', 'customer.moved', customerIds.length === 1 ? customerIds[0]! : `${customerIds.length} customers`, `${from.id} → ${to.id}`);
    return result;
  } catch (error) {
    if (error instanceof OwnershipLost) throw takenOver(error, what);
    if (error instanceof RollbackIncomplete) {
      throw failure(`${what} stopped: ${error.message}; finish the rollback with "cellctl migrate abort ${journal.ids[0]}"`);
    }
    const step = ws.store.getMigration(journal.ids[0]!)?.step ?? 'checked';
    if (!isSwitched(step)) {
      try {
        journal.end('aborted', describeError(error));
      } catch (lost) {
        if (lost instanceof OwnershipLost) throw takenOver(lost, what);
        throw lost;
      }
      throw failure(`${what} rolled back: ${describeError(error)}${error instanceof FenceLost ? '; run it again' : ''}`);
    }
    throw failure(`${what} stopped after the switch: ${describeError(error)}; finish it with "cellctl migrate resume ${journal.ids[0]}"`);
  }
}

function requireRunning(ws: Workspace, id: number): MigrationRecord {
  const migration = ws.store.getMigration(id);
  if (!migration) throw failure(`no migration ${id}: "cellctl migrate list" shows them`);
  if (migration.state !== 'running') throw failure(`migration ${id} is already ${migration.state}; nothing to do`);
  return migration;
}

/** Runs `work` as the new owner of an interrupted migration; a lost ownership becomes a clear error. */
async function asTakenOver<T>(ws: Workspace, migration: MigrationRecord, verb: string, work: (journal: Journal) => Promise<T>): Promise<T> {
  const journal = Journal.takeOver(ws, migration);
  try {
    return await work(journal);
  } catch (error) {
    if (error instanceof OwnershipLost) throw takenOver(error, `${verb} of migration ${migration.id}`);
    throw error;
  } finally {
    journal.stop();
  }
}

/** Finishes an interrupted migration: the customer ends wholly in the target. */
export async function resumeMigration(ws: Workspace, id: number): Promise<MigrationRecord> {
  const migration = requireRunning(ws, id);
  const from = cellOf(ws, migration.sourceCell);
  const to = cellOf(ws, migration.targetCell);
  const keepSource = migration.keepSourceUntil !== null;
  await asTakenOver(ws, migration, 'resume', async (journal) => {
    if (!isSwitched(migration.step)) {
      await moveRows(ws, journal, [migration.customerId], from, to, keepSource);
    } else {
      if (migration.step === 'switched') {
        journal.check();
        await new MigrationFence(ws).lift([migration.customerId], journaledFenceId(migration));
        journal.record('released');
      }
      if (!keepSource && migration.step !== 'purged') {
        withPair(ws, from, to, (pair) => pair.purge('source', [migration.customerId], journal.guard));
        journal.record('purged');
      }
    }
    journal.end('done');
  });
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
  await asTakenOver(ws, migration, 'abort', async (journal) => {
    if (!isSwitched(migration.step)) {
      withPair(ws, from, to, (pair) => pair.purge('target', [migration.customerId], journal.guard));
      journal.check();
      await new MigrationFence(ws).lift([migration.customerId], journaledFenceId(migration));
      journal.end('aborted', 'aborted by the user');
      return;
    }
    const reverse = ws.store.transaction(() => {
      journal.end('aborted', 'aborted by the user after the switch; moved back by a reverse migration');
      return ws.store.startMigrations(
        [{ customerId: migration.customerId, sourceCell: to.id, targetCell: from.id, keepSourceUntil: null, batch: `reverse-of-${id}`, step: 'checked' }],
        { ...thisProcessAsOwner(), token: journal.owner },
        ws.settings.limits.migrationLeaseMs,
      );
    });
    const back = journal.sibling(reverse.map((record) => record.id));
    await moveRows(ws, back, [migration.customerId], to, from, false);
    back.end('done');
  });
  ws.store.addEvent('migration', 'migration.aborted', migration.customerId, `migration ${id} rolled back: customer stays in ${from.id}`);
  return ws.store.getMigration(id)!;
}

/**
 * Purges source rows kept by --keep-source whose time has come (or all of them with `all`), unless
 * the customer has since moved back to that cell or is being moved right now. Each purge holds
 * control.db's write lock, so no move of that customer can start or switch meanwhile.
 */
export function purgeKeptSources(ws: Workspace, now: Date, all: boolean): { purged: number[]; skipped: number[] } {
  const purged: number[] = [];
  const skipped: number[] = [];
  for (const migration of ws.store.listMigrations({ state: 'done', limit: ALL })) {
    if (migration.keepSourceUntil === null || migration.step === 'purged') continue;
    if (!all && Date.parse(migration.keepSourceUntil) > now.getTime()) continue;
    // Each chunk holds control.db's write lock and checks again that no move of the customer runs
    // and that it does not live in the source: no move can start or switch in the middle of a chunk.
    const outcome = withPair(ws, cellOf(ws, migration.sourceCell), cellOf(ws, migration.targetCell), (pair) => {
      const steps = pair.deleteSteps('source', [migration.customerId]);
      for (;;) {
        const step = ws.store.exclusive(() => {
          if (ws.store.runningMigrationFor(migration.customerId)) return 'busy' as const;
          if (ws.store.getCustomer(migration.customerId)?.cellId === migration.sourceCell) {
            ws.store.recordKeptSourcePurged(migration.id, { purge: 'skipped: the customer lives in the source again' });
            return 'moved-back' as const;
          }
          if (!steps.next().done) return 'more' as const;
          ws.store.recordKeptSourcePurged(migration.id);
          return 'purged' as const;
        });
        if (step !== 'more') return step;
      }
    });
    (outcome === 'purged' ? purged : skipped).push(migration.id);
  }
  return { purged, skipped };
}

export const newBatchId = (): string => randomUUID();
