// The migration engine: runs DESIGN.md's protocol (check, fence, copy, verify, switch, release,
// purge) for a batch of customers that share a source and a target, journaling each step in
// control.db before the next begins, and brings an interrupted migration to a consistent end —
// forward (resume) or back to the source (abort) — from the journal alone.
import { randomUUID } from 'node:crypto';
import { ALL, type CellRecord, type MigrationRecord, OwnershipLost } from '../control/plane.js';
import { DataApiError } from '../data/client.js';
import { describeError, failure, isCellctlError } from '../shared/errors.js';
import { pausePoint as pauseAt } from '../shared/test-hooks.js';
import { purgeWhileBusy } from './busy-source.js';
import { type CellData, checkPlaneNotBehind, openCellData, requireCurrentApi } from '../workspace/cell-data.js';
import type { Workspace } from '../workspace/workspace.js';
import { type FenceHandle, FenceLost, MigrationFence } from './fence.js';
import { busyMessage, judgeOwner, localProbe, thisProcessAsOwner } from '../control/ownership.js';
import type { MigrationStep } from '../control/plane.js';
import { isSwitched, type Move } from './plan.js';
import { recordedCopy } from './only-copy.js';
import { copyOf, type MoveTicket, OnlyCopy, paced, Transfer, type TableVerification, WORK_PAGE_ROWS } from './transfer.js';
import { chooseCopy, type CopyChoice } from './copy-modes.js';
import { drive, type MoveActions, moveSteps, RollbackIncomplete } from './driver.js';
import { OnlineCopy, type OnlineProgress } from './online-copy.js';

export interface BatchOptions {
  /** Keep the source rows until this time (ISO) instead of purging them at once. */
  keepSourceUntil: string | null;
  batch: string | null;
  /** An online move's bounds (defaults: limits.maxLag, abort). */
  maxLag?: number;
  cutover?: 'abort' | 'force';
  /** Told where an online copy stands, as it goes. */
  onProgress?: (progress: OnlineProgress) => void;
}

/** How a move copies: the bounds of an online one, and who hears its progress. */
interface MoveHow {
  maxLag: number | undefined;
  cutover: 'abort' | 'force';
  onProgress: ((progress: OnlineProgress) => void) | undefined;
  /** The journal had the move further than 'checked' (resume): an online copy must lift the source's barrier first. */
  resumed: boolean;
  /** The journal says the move started online: it goes on online (its capture is started again, and removed at the end). */
  wasOnline: boolean;
}

const howOf = (options: Pick<BatchOptions, 'maxLag' | 'cutover' | 'onProgress'>, resumed = false, wasOnline = false): MoveHow => ({
  maxLag: options.maxLag,
  cutover: options.cutover ?? 'abort',
  onProgress: options.onProgress,
  resumed,
  wasOnline,
});

export interface BatchResult {
  moved: string[];
  migrationIds: number[];
  verification: TableVerification[];
  /** How long the customers' requests were held at the router, in ms (0 without a router). */
  fencedMs: number;
  /** Where the move spent its time, step by step in order (ms): what a slow move or a long hold is made of. */
  stepsMs: Record<string, number>;
  /** How the rows were copied: online (held for the cutover only) or fenced (held for the whole copy, and why). */
  copy: { mode: 'online' | 'fenced'; why: string | null };
}

/** Times the steps of one move: each lap is the time since the one before. */
class StepClock {
  readonly laps: Record<string, number> = {};
  /** When the last lap ended (performance.now()): where the next one starts. */
  private last = performance.now();

  get lastLapEnded(): number {
    return this.last;
  }

  lap(step: string): void {
    const now = performance.now();
    this.laps[step] = Math.round((now - this.last) * 100) / 100;
    this.last = now;
  }
}

/** How recent a fence confirmation must be to switch on it without asking again. */
const FRESH_CONFIRM_MS = 250;

/** Test-only fault injection: CELLCTL_FAULT_AFTER_STEP=<step> kills this process right after that step is journaled. */
function faultPoint(step: MigrationStep): void {
  if (process.env.CELLCTL_FAULT_AFTER_STEP === step) process.kill(process.pid, 'SIGKILL');
}

/** Test-only (shared/test-hooks.ts): a move's pause points are its journal steps, and "prepared" (the target is ready, the fence not yet put). */
const pausePoint = (step: MigrationStep | 'prepared'): Promise<void> => pauseAt(step);

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
  static async start(ws: Workspace, moves: readonly Move[], options: BatchOptions): Promise<Journal> {
    const owner = thisProcessAsOwner();
    const records = await ws.plane.startMigrations(
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
  static async takeOver(ws: Workspace, migration: MigrationRecord): Promise<Journal> {
    const verdict = judgeOwner(migration, Date.now(), localProbe);
    if (verdict.kind === 'in-progress') throw failure(busyMessage(migration.id, verdict.owner, localProbe.host), 'E_MIGRATION_BUSY');
    const owner = thisProcessAsOwner();
    if (!(await ws.plane.takeOverMigration(migration.id, migration.owner, owner, ws.settings.limits.migrationLeaseMs))) {
      const now = await ws.plane.getMigration(migration.id);
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

  /** Journals a completed step. */
  async record(step: MigrationStep, detail?: Record<string, unknown>): Promise<void> {
    await this.ws.plane.recordMigrationStep(this.ids, this.owner, step, detail, this.leaseMs);
    faultPoint(step);
  }

  /** The switch: step 'switched' and the mapping rows together, or nothing (see ControlPlane.switchCustomers). */
  async switchCustomers(customerIds: readonly string[], from: string, to: string, precheck: () => void): Promise<void> {
    const moves = customerIds.map((customerId) => ({ customerId, from, to }));
    await this.ws.plane.switchCustomers({ ids: this.ids, owner: this.owner, leaseMs: this.leaseMs, moves, precheck });
  }

  async end(state: 'done' | 'aborted' | 'failed', error: string | null = null): Promise<void> {
    await this.ws.plane.endMigrations(this.ids, this.owner, state, error);
  }

  /** What the cells need to know of this move: its id, whose rows, and this owner's fencing number. */
  async ticket(customerIds: string[]): Promise<MoveTicket> {
    const first = await this.ws.plane.getMigration(this.ids[0]!);
    return { move: this.ids[0]!, fencing: first?.fencing ?? 0, customers: customerIds };
  }

  /** Renews this process's lease on the migration; throws OwnershipLost when another process owns it now. */
  async renewLease(): Promise<void> {
    await this.ws.plane.renewLease(this.ids, this.owner, this.leaseMs);
  }

  /** Renews the lease every third of it until stop(), so a live owner is never taken over. */
  keepAlive(): void {
    this.renewal ??= setInterval(
      () => {
        void this.renewLease().catch((error: unknown) => {
          // Lost: the next journal write says so. Busy: the next renewal (or write) tries again.
          if (error instanceof OwnershipLost) this.stop();
        });
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

async function cellOf(ws: Workspace, id: string): Promise<CellRecord> {
  const cell = await ws.plane.getCell(id);
  if (!cell) throw failure(`cell ${id} no longer exists in control.db; the journal cannot be completed automatically`);
  return cell;
}

/** The two cells' data APIs, for the length of one piece of work; refused while the control plane is behind them. */
async function withTransfer<T>(ws: Workspace, from: CellRecord, to: CellRecord, ticket: MoveTicket, work: (transfer: Transfer) => Promise<T>): Promise<T> {
  const opened: CellData[] = [];
  try {
    opened.push(await openCellData(ws, from));
    opened.push(await openCellData(ws, to));
    requireCurrentApi(from, opened[0]!.version);
    requireCurrentApi(to, opened[1]!.version);
    await checkPlaneNotBehind(
      ws,
      opened.map((data) => ({ cellId: data.api.cellId, fencing: data.fencing })),
    );
    return await work(new Transfer(opened[0]!.api, opened[1]!.api, ticket));
  } finally {
    await Promise.all(opened.map((data) => data.close()));
  }
}

/** The fence id a migration journaled when it fenced, so a later process lifts only that fence. */
const journaledFenceId = (migration: MigrationRecord): string | undefined =>
  typeof migration.detail.fenceId === 'string' ? migration.detail.fenceId : undefined;

/**
 * Fence → bar the source → copy+verify → confirm fence → switch (with the journal, in one control.db
 * transaction) → release → purge. Used for a fresh move, for resume before the switch, and (reversed)
 * for abort after the switch. Every write to a cell's rows carries this owner's fencing number, so
 * one that lost the migration to another process is refused by the cells and stops.
 */
async function moveRows(
  ws: Workspace,
  journal: Journal,
  customerIds: string[],
  from: CellRecord,
  to: CellRecord,
  keepSource: boolean,
  how: MoveHow,
): Promise<BatchResult> {
  journal.keepAlive();
  try {
    return await withTransfer(ws, from, to, await journal.ticket(customerIds), async (transfer) => {
      const steps = new StepClock();
      await journal.renewLease();
      const { limits } = ws.settings;
      const copy = await chooseCopy(transfer.source, transfer.target, customerIds, { onlineRows: limits.onlineMoveRows, wasOnline: how.wasOnline });
      // Journaled online but copied fenced now (its tables lost their keys): the earlier capture is of no use, and would grow.
      if (copy.kind === 'fenced' && how.wasOnline) await transfer.stopCapture();
      const move = new LiveMove({ ws, journal, transfer, customerIds, from, to, steps, how, copy });
      await drive(moveSteps(move, { online: copy.kind === 'online', keepSource }), {
        lost: (error) => lostOwnership(error, journal.ids),
        describe: describeError,
      });
      return move.result();
    });
  } finally {
    journal.stop();
  }
}

interface LiveMoveParts {
  ws: Workspace;
  journal: Journal;
  transfer: Transfer;
  customerIds: string[];
  from: CellRecord;
  to: CellRecord;
  steps: StepClock;
  how: MoveHow;
  copy: CopyChoice;
}

/**
 * A move's steps done for real (driver.ts runs them). Every write to a cell's rows carries this
 * owner's fencing number, so one that lost the migration to another process is refused by the cells
 * and stops. Each journal step is written before the next begins.
 */
class LiveMove implements MoveActions {
  private readonly routers: MigrationFence;
  private handle: FenceHandle | null = null;
  private online: OnlineCopy | null = null;
  private verification: TableVerification[] | null = null;
  private fencedAt = 0;
  private liftedAt = 0;
  /** The journal step written last (an online copy's progress is journaled under it). */
  private step: MigrationStep = 'checked';
  private journaling: Promise<void> = Promise.resolve();
  private progressAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly parts: LiveMoveParts) {
    this.routers = new MigrationFence(parts.ws);
    // An online move works beside the customers' traffic: small pages. A fenced one is held: the fewest round trips.
    if (parts.copy.kind === 'online') parts.transfer.pageRows = WORK_PAGE_ROWS;
  }

  private get fenceId(): string | undefined {
    return this.handle?.kind === 'router' ? this.handle.fenceId : undefined;
  }

  /** Journals a step once any progress write before it is done (so it never overwrites this one). */
  private async record(step: MigrationStep, detail?: Record<string, unknown>): Promise<void> {
    await this.journaling;
    this.step = step;
    await this.parts.journal.record(step, detail);
  }

  /** An online copy's progress: to the caller, and to the journal at most once a second (for migrate show and the dashboard). */
  private progress(progress: OnlineProgress): void {
    this.parts.how.onProgress?.(progress);
    if (performance.now() - this.progressAt < 1_000) return;
    this.progressAt = performance.now();
    const step = this.step;
    // A lost journal is the next step's write to find out.
    this.journaling = this.journaling.then(() => this.parts.journal.record(step, { progress }).catch(() => {}));
  }

  async prepare(): Promise<void> {
    await this.parts.transfer.prepareTarget();
    await pausePoint('prepared');
    this.parts.steps.lap('prepare');
  }

  async dropStaleCopy(): Promise<void> {
    // The last purge page also lifts the target's barrier. Best effort: a stale copy in a barred target harms nobody.
    await this.parts.transfer.purgeHeld('target', 'stale-copy', null).catch(() => {});
  }

  async capture(): Promise<void> {
    const { transfer, copy, how, steps } = this.parts;
    if (copy.kind !== 'online') throw new Error('only an online move captures changes');
    // Journaled first: a move killed from here on has its capture removed by abort, whatever it got to.
    await this.record('capturing', { online: true, totalRows: copy.totalRows });
    const pace = paced(this.parts.ws.settings.limits.onlineCopyPace);
    this.online = new OnlineCopy(transfer.source, transfer.target, transfer.ticket, copy.tables, copy.totalRows, (at) => this.progress(at), pace);
    await transfer.startCapture();
    // Taken over after the source was barred ('fenced' or later, not switched): the source is the truth again, and takes writes meanwhile.
    if (how.resumed) await transfer.unbar();
    await pausePoint('capturing');
    steps.lap('capture');
  }

  stopCapture(): Promise<void> {
    return this.parts.transfer.stopCapture();
  }

  async copy(): Promise<void> {
    await this.online!.copy();
    this.parts.steps.lap('copy online');
  }

  async catchUp(): Promise<void> {
    const { ws, how, steps } = this.parts;
    const { limits } = ws.settings;
    const lag = await this.online!.catchUp({ maxLag: how.maxLag ?? limits.maxLag, boundMs: limits.catchUpMs, cutover: how.cutover });
    steps.lap('catch up');
    await this.record('caught-up', { lag });
    await pausePoint('caught-up');
    steps.lap('journal caught-up');
  }

  async fence(): Promise<void> {
    // The hold is timed by the same clock as the steps: from the end of the lap before the fence to the end of the lift's.
    this.fencedAt = this.parts.steps.lastLapEnded;
    this.handle = await this.routers.put(this.parts.customerIds);
    this.parts.steps.lap('fence');
  }

  async liftFence(): Promise<void> {
    // A put that failed lifted what it had put itself: there is no fence of ours to lift.
    if (this.handle) await this.routers.lift(this.parts.customerIds, this.fenceId, this.handle);
  }

  /**
   * Bars the source and finishes the copy: all of it (fenced), or the last changes (online). The fence
   * is confirmed beside the first read, which bars the source: a fence that broke later could only get
   * requests refused, never a write lost. The target stays barred until the hand-over.
   */
  async cutOver(): Promise<void> {
    const { journal, transfer, customerIds, steps } = this.parts;
    const handle = this.handle!;
    await this.record('fenced', { fence: handle.kind, barrier: true, ...(this.fenceId ? { fenceId: this.fenceId } : {}) });
    steps.lap('journal fenced');
    const keepUp = () => this.routers.keepUp(customerIds, handle);
    const confirm = () => this.routers.confirm(customerIds, handle);
    this.verification = this.online ? await this.online.cutOver(confirm, keepUp) : await transfer.copy(keepUp, confirm);
    steps.lap(this.online ? 'cut over' : 'copy');
    await journal.record('copied', { rows: Object.fromEntries(this.verification.map((t) => [t.table, t.targetRows])) });
    steps.lap('journal copied');
    await journal.record('verified', { checksums: Object.fromEntries(this.verification.map((t) => [t.table, t.targetChecksum])) });
    steps.lap('journal verified');
    await pausePoint('verified');
    // Confirmed beside the first read; again only if that was not just now (a big customer's copy, a paused mover).
    await this.routers.confirmFresh(customerIds, handle, FRESH_CONFIRM_MS);
    steps.lap('confirm fence');
  }

  /**
   * Before the switch the source is still the truth: the copy goes (once the source is seen to hold
   * it), then the source's barrier. An online copy not yet verified is compared by nothing more than
   * "the source holds the customer": while it ran unfenced the customer may have deleted rows the
   * target still holds, and the target, barred throughout, never served them.
   */
  async rollBackCopy(): Promise<void> {
    const { transfer } = this.parts;
    if (this.verification !== null) await transfer.purgeHeld('target', 'rollback', copyOf(this.verification));
    else await transfer.purgeHeld('target', this.online ? 'stale-copy' : 'rollback', null);
    await transfer.unbar();
  }

  async switch(): Promise<void> {
    const { journal, customerIds, from, to, steps } = this.parts;
    const handle = this.handle!;
    // The journal (checked first: still ours?) and the mapping change together, or not at all.
    await journal.switchCustomers(customerIds, from.id, to.id, () => this.routers.stillHeld(handle));
    steps.lap('switch');
    faultPoint('switched');
    await pausePoint('switched');
  }

  async handOver(): Promise<void> {
    await this.parts.transfer.handOver();
    this.parts.steps.lap('hand over');
  }

  /** Lifted before the journal is touched again, naming the new cell: the held requests wait for nothing else. */
  async release(): Promise<void> {
    const { journal, customerIds, to, steps } = this.parts;
    await this.routers.lift(customerIds, this.fenceId, this.handle ?? undefined, to.id);
    steps.lap('lift');
    this.liftedAt = steps.lastLapEnded;
    await journal.renewLease();
    await journal.record('released');
    await pausePoint('released');
    steps.lap('journal released');
  }

  async cleanUp(): Promise<void> {
    await this.parts.transfer.stopCapture();
    this.parts.steps.lap('clean up');
  }

  async purge(): Promise<void> {
    const { ws, journal, transfer, from, steps } = this.parts;
    // An online move's purge is paced like its copy: the source serves its other customers meanwhile.
    const between = this.online ? paced(ws.settings.limits.onlineCopyPace) : undefined;
    await purgeSource(ws, journal, from, () => transfer.purgeHeld('source', 'after-switch', copyOf(this.verification!), between));
    await journal.record('purged');
    steps.lap('purge');
  }

  result(): BatchResult {
    const { journal, customerIds, steps, copy } = this.parts;
    return {
      moved: customerIds,
      migrationIds: journal.ids,
      verification: this.verification!,
      fencedMs: this.handle?.kind === 'router' ? this.liftedAt - this.fencedAt : 0,
      stepsMs: steps.laps,
      copy: { mode: copy.kind, why: copy.kind === 'fenced' ? copy.why : null },
    };
  }
}

/** The source's purge after the switch, retried while another writer holds the source's database (busy-source.ts). */
function purgeSource<T>(ws: Workspace, journal: Journal, source: CellRecord, purge: () => Promise<T>): Promise<T> {
  return purgeWhileBusy(purge, { boundMs: ws.settings.limits.purgeBusyRetryMs, cell: source.id, migrationId: journal.ids[0]! });
}

/** A cell refused a write because another process now owns the move (a newer fencing number). */
const isStaleOwner = (error: unknown): boolean => error instanceof DataApiError && error.code === 'stale_owner';

/** Ownership lost, whether the control store or a cell found out first. */
function lostOwnership(error: unknown, ids: readonly number[]): OwnershipLost | null {
  if (error instanceof OwnershipLost) return error;
  return isStaleOwner(error) ? new OwnershipLost(ids) : null;
}

/** A delete refused for want of another copy (OnlyCopy), as the CLI reports it: what to look at, and where the journal stands. */
function onlyCopyFailure(what: string, error: OnlyCopy, id: number) {
  return failure(
    `${what} stopped: ${error.message}. "cellctl customers show <customer>" shows each cell's rows; if the control plane was restored from a backup, "cellctl repair" puts the mapping where the rows are. Migration ${id} stays running until then ("cellctl migrate show ${id}")`,
    'E_ONLY_COPY',
  );
}

/** The error for a process that found another one running its migration: it changed nothing more. */
function takenOver(error: OwnershipLost, what: string) {
  return failure(
    `${what} stopped: ${error.message}, so this process changed nothing more; "cellctl migrate show ${error.migrationIds[0]}" shows where it stands`,
    'E_MIGRATION_TAKEN_OVER',
  );
}

/** The step a migration's journal is at, or null when the control plane cannot be read now. */
async function journaledStep(ws: Workspace, id: number): Promise<MigrationStep | null> {
  try {
    return (await ws.plane.getMigration(id))?.step ?? 'checked';
  } catch {
    return null;
  }
}

/** Moves a batch of customers from one cell to another. Before the switch, a failure rolls back. */
export async function moveBatch(ws: Workspace, moves: Move[], options: BatchOptions): Promise<BatchResult> {
  const from = await cellOf(ws, moves[0]!.from);
  const to = await cellOf(ws, moves[0]!.to);
  const customerIds = moves.map((move) => move.customerId);
  const what = `move of ${customerIds.join(', ')} from ${from.id} to ${to.id}`;
  const journal = await Journal.start(ws, moves, options);
  faultPoint('checked');
  try {
    const result = await moveRows(ws, journal, customerIds, from, to, options.keepSourceUntil !== null, howOf(options));
    await journal.end('done');
    await ws.plane.addEvent(
      'migration',
      'customer.moved',
      customerIds.length === 1 ? customerIds[0]! : `${customerIds.length} customers`,
      `${from.id} → ${to.id}`,
    );
    return result;
  } catch (error) {
    const lost = lostOwnership(error, journal.ids);
    if (lost) throw takenOver(lost, what);
    if (error instanceof RollbackIncomplete && error.rollback instanceof OnlyCopy) throw onlyCopyFailure(what, error.rollback, journal.ids[0]!);
    if (error instanceof RollbackIncomplete) {
      throw failure(`${what} stopped: ${error.message}; finish the rollback with "cellctl migrate abort ${journal.ids[0]}"`);
    }
    const step = await journaledStep(ws, journal.ids[0]!);
    if (step === null) {
      // The control plane went away mid-move (it usually is what failed): the journal is the truth, read it once it is back.
      throw failure(
        `${what} stopped: ${describeError(error)}; once the control plane answers again, "cellctl migrate resume ${journal.ids[0]}" finishes it or "cellctl migrate abort ${journal.ids[0]}" rolls it back`,
        'E_MIGRATION_INTERRUPTED',
      );
    }
    if (!isSwitched(step)) {
      try {
        await journal.end('aborted', describeError(error));
      } catch (lost) {
        if (lost instanceof OwnershipLost) throw takenOver(lost, what);
        throw lost;
      }
      throw failure(`${what} rolled back: ${describeError(error)}${error instanceof FenceLost ? '; run it again' : ''}`);
    }
    if (error instanceof OnlyCopy) throw onlyCopyFailure(what, error, journal.ids[0]!);
    if (isCellctlError(error) && error.code === 'E_DATABASE_BUSY') throw failure(`${what} stopped after the switch: ${error.message}`, error.code);
    throw failure(`${what} stopped after the switch: ${describeError(error)}; finish it with "cellctl migrate resume ${journal.ids[0]}"`);
  }
}

async function requireRunning(ws: Workspace, id: number): Promise<MigrationRecord> {
  const migration = await ws.plane.getMigration(id);
  if (!migration) throw failure(`no migration ${id}: "cellctl migrate list" shows them`);
  if (migration.state !== 'running') throw failure(`migration ${id} is already ${migration.state}; nothing to do`);
  return migration;
}

/** Runs `work` as the new owner of an interrupted migration; a lost ownership becomes a clear error. */
async function asTakenOver<T>(ws: Workspace, migration: MigrationRecord, verb: string, work: (journal: Journal) => Promise<T>): Promise<T> {
  const journal = await Journal.takeOver(ws, migration);
  try {
    return await work(journal);
  } catch (error) {
    const lost = lostOwnership(error, journal.ids);
    if (lost) throw takenOver(lost, `${verb} of migration ${migration.id}`);
    if (error instanceof OnlyCopy) throw onlyCopyFailure(`${verb} of migration ${migration.id}`, error, migration.id);
    if (error instanceof RollbackIncomplete && error.rollback instanceof OnlyCopy)
      throw onlyCopyFailure(`${verb} of migration ${migration.id}`, error.rollback, migration.id);
    throw error;
  } finally {
    journal.stop();
  }
}

/** Finishes an interrupted migration: the customer ends wholly in the target. */
export async function resumeMigration(ws: Workspace, id: number): Promise<MigrationRecord> {
  const migration = await requireRunning(ws, id);
  const from = await cellOf(ws, migration.sourceCell);
  const to = await cellOf(ws, migration.targetCell);
  const keepSource = migration.keepSourceUntil !== null;
  await asTakenOver(ws, migration, 'resume', async (journal) => {
    if (!isSwitched(migration.step)) {
      // From 'fenced' on the target was prepared (barred): one that takes the writes was handed over.
      if (migration.step !== 'checked')
        await withTransfer(ws, from, to, await journal.ticket([migration.customerId]), (transfer) => transfer.checkNotHandedOver());
      await moveRows(ws, journal, [migration.customerId], from, to, keepSource, howOf({}, migration.step !== 'checked', migration.detail.online === true));
    } else {
      if (migration.step === 'switched') {
        await journal.renewLease();
        await withTransfer(ws, from, to, await journal.ticket([migration.customerId]), (transfer) => transfer.handOver());
        await new MigrationFence(ws).lift([migration.customerId], journaledFenceId(migration));
        await journal.record('released');
      }
      if (migration.detail.online === true)
        await withTransfer(ws, from, to, await journal.ticket([migration.customerId]), (transfer) => transfer.stopCapture());
      if (!keepSource && migration.step !== 'purged') {
        journal.keepAlive(); // the purge may wait for a busy source
        const ticket = await journal.ticket([migration.customerId]);
        await purgeSource(ws, journal, from, () =>
          withTransfer(ws, from, to, ticket, (transfer) => transfer.purgeHeld('source', 'after-switch', recordedCopy(migration.detail))),
        );
        await journal.record('purged');
      }
    }
    await journal.end('done');
  });
  await ws.plane.addEvent('migration', 'migration.resumed', migration.customerId, `migration ${id} finished: ${from.id} → ${to.id}`);
  return (await ws.plane.getMigration(id))!;
}

/**
 * Rolls an interrupted migration back: the customer ends wholly in the source. Before the switch that
 * is dropping the copy. After it, the target may have taken writes, so the customer is moved back
 * the same safe way, journaled as a new migration (target → source) that itself can be resumed.
 */
export async function abortMigration(ws: Workspace, id: number): Promise<MigrationRecord> {
  const migration = await requireRunning(ws, id);
  const from = await cellOf(ws, migration.sourceCell);
  const to = await cellOf(ws, migration.targetCell);
  await asTakenOver(ws, migration, 'abort', async (journal) => {
    if (!isSwitched(migration.step)) {
      await withTransfer(ws, from, to, await journal.ticket([migration.customerId]), async (transfer) => {
        await transfer.checkNotHandedOver();
        // An online copy before its record: the target, barred and never handed over, may hold rows the customer deleted since (rollBackCopy).
        const recorded = recordedCopy(migration.detail);
        const partialOnline = recorded === null && migration.detail.online === true;
        await transfer.purgeHeld('target', partialOnline ? 'stale-copy' : 'rollback', recorded);
        await transfer.unbar();
        // An online move's capture goes with it, at whatever step it stopped.
        await transfer.stopCapture();
      });
      await journal.renewLease();
      await new MigrationFence(ws).lift([migration.customerId], journaledFenceId(migration));
      await journal.end('aborted', 'aborted by the user');
      return;
    }
    // The source kept capturing since the switch (the move stopped before its release): that capture goes first.
    if (migration.detail.online === true) await withTransfer(ws, from, to, await journal.ticket([migration.customerId]), (transfer) => transfer.stopCapture());
    const reverse = await ws.plane.abortAndReverse({
      ids: journal.ids,
      owner: { ...thisProcessAsOwner(), token: journal.owner },
      error: 'aborted by the user after the switch; moved back by a reverse migration',
      reverse: [
        { customerId: migration.customerId, sourceCell: to.id, targetCell: from.id, keepSourceUntil: null, batch: `reverse-of-${id}`, step: 'checked' },
      ],
      leaseMs: ws.settings.limits.migrationLeaseMs,
    });
    const back = journal.sibling(reverse.map((record) => record.id));
    await moveRows(ws, back, [migration.customerId], to, from, false, howOf({}));
    await back.end('done');
  });
  await ws.plane.addEvent('migration', 'migration.aborted', migration.customerId, `migration ${id} rolled back: customer stays in ${from.id}`);
  return (await ws.plane.getMigration(id))!;
}

/**
 * Purges source rows kept by --keep-source whose time has come (or all of them with `all`), unless
 * the customer has since moved back to that cell or is being moved right now. The purge carries a
 * fencing number newer than every move so far; a move of the customer that starts meanwhile has a
 * newer one still, and from its first call on the source refuses this purge.
 */
export async function purgeKeptSources(ws: Workspace, now: Date, all: boolean): Promise<{ purged: number[]; skipped: number[] }> {
  const purged: number[] = [];
  const skipped: number[] = [];
  for (const migration of await ws.plane.listMigrations({ state: 'done', limit: ALL })) {
    if (migration.keepSourceUntil === null || migration.step === 'purged') continue;
    if (!all && Date.parse(migration.keepSourceUntil) > now.getTime()) continue;
    const fencing = await ws.plane.newFencing();
    if (await ws.plane.runningMigrationFor(migration.customerId)) {
      skipped.push(migration.id);
      continue;
    }
    if ((await ws.plane.getCustomer(migration.customerId))?.cellId === migration.sourceCell) {
      await ws.plane.recordKeptSourcePurged(migration.id, { purge: 'skipped: the customer lives in the source again' });
      skipped.push(migration.id);
      continue;
    }
    const ticket = { move: migration.id, fencing, customers: [migration.customerId] };
    // The cell that keeps the customer is where it is mapped now (it may have moved on since this move).
    const keeper = (await ws.plane.getCustomer(migration.customerId))?.cellId;
    if (keeper === undefined) {
      skipped.push(migration.id);
      continue;
    }
    const switched = keeper === migration.targetCell;
    try {
      await withTransfer(ws, await cellOf(ws, migration.sourceCell), await cellOf(ws, keeper), ticket, (transfer) =>
        transfer.purgeHeld('source', switched ? 'after-switch' : 'stale-copy', switched ? recordedCopy(migration.detail) : null),
      );
    } catch (error) {
      // A newer move of this customer owns its rows there now, or no other cell is known to hold them: kept, and left for a person.
      if (!isStaleOwner(error) && !(error instanceof OnlyCopy)) throw error;
      skipped.push(migration.id);
      continue;
    }
    await ws.plane.recordKeptSourcePurged(migration.id);
    purged.push(migration.id);
  }
  return { purged, skipped };
}

/** The move id of work on rows outside any migration (migration ids count up from 1). */
const NO_MOVE = Number.MAX_SAFE_INTEGER;

/** What purgeStrayCopy removed, and which cell serves the customer. */
export interface StrayPurge {
  removed: number;
  servedBy: string;
}

/**
 * Removes a customer's rows from a cell that does not serve it (audit's "duplicated" finding): never
 * from the cell the mapping names, a cell a running move uses, or a copy kept on purpose by
 * --keep-source. The fencing number is drawn before anything is checked, so a move of the customer
 * that starts after the checks holds a higher one and the cell refuses this purge from the move's
 * first call on (DESIGN.md: every destructive operation holds the authority it checked); and the cell
 * that serves the customer must hold rows of it (only-copy.ts).
 */
export async function purgeStrayCopy(ws: Workspace, customerId: string, cell: CellRecord): Promise<StrayPurge> {
  const fencing = await ws.plane.newFencing();
  const served = await strayPurgeAllowed(ws, customerId, cell);
  await pauseAt('purge-checked');
  // No journaled move: a move id no migration has, so the cell's purge forgets no move's import ledger.
  const ticket = { move: NO_MOVE, fencing, customers: [customerId] };
  try {
    const removed = await withTransfer(ws, served, cell, ticket, async (transfer) => {
      // A copy the serving cell refuses (barred, tombstoned) is not the live one: the rows here may be.
      const { barriers, tombstones } = await transfer.source.barriers();
      if ([...barriers, ...tombstones].some((entry) => entry.customer === customerId))
        throw new OnlyCopy(
          cell.id,
          `${served.id}, which serves the customer, refuses its writes (a barrier or a tombstone), so its rows there may not be the live ones`,
        );
      return transfer.purgeHeld('target', 'stale-copy', null);
    });
    return { removed, servedBy: served.id };
  } catch (error) {
    if (isStaleOwner(error))
      throw failure(
        `nothing of ${customerId} was removed from ${cell.id}: a move of the customer reached ${cell.id} after this purge checked it (the cell refused the purge's older fencing number ${fencing}); look again with "cellctl customers show ${customerId}"`,
        'E_PURGE_OVERTAKEN',
      );
    if (error instanceof OnlyCopy) throw failure(`${error.message}: "cellctl customers show ${customerId}" shows each cell's rows`, 'E_ONLY_COPY');
    throw error;
  }
}

/** The checks of purgeStrayCopy; returns the cell that serves the customer. */
async function strayPurgeAllowed(ws: Workspace, customerId: string, cell: CellRecord): Promise<CellRecord> {
  // Running moves before the mapping: a move that ends between the two reads has switched the mapping by then.
  const running = await ws.plane.runningMigrationFor(customerId);
  if (running) throw failure(`customer ${customerId} is being moved (migration ${running.id}): finish it first ("cellctl migrate show ${running.id}")`);
  const mapping = await ws.plane.getCustomer(customerId);
  if (mapping?.cellId === cell.id) throw failure(`${cell.id} is where ${customerId} is served: its rows there are the customer's data, not a copy`);
  if (!mapping)
    throw failure(
      `customer ${customerId} has no mapping row, so no copy is known to be the real one: "cellctl assign customer ${customerId} --cell <cell>" first`,
    );
  const kept = (await ws.plane.migrationsOf(customerId, ALL)).find(
    (m) => m.state === 'done' && m.sourceCell === cell.id && m.keepSourceUntil !== null && m.step !== 'purged',
  );
  if (kept)
    throw failure(
      `the rows of ${customerId} in ${cell.id} are kept on purpose by migration ${kept.id} (--keep-source): "cellctl migrate purge --all" removes them`,
    );
  return cellOf(ws, mapping.cellId);
}

export const newBatchId = (): string => randomUUID();
