// `cellctl repair`: brings a control plane that is behind its cells (restored from a backup, or a
// barrier set by hand) back in line with them. It reads what every cell holds and has seen, plans
// (a pure function, below), and applies: the fencing sequence past every number a cell has seen, the
// mapping to where each customer's rows are, interrupted moves of those customers ended, and their
// barriers and tombstones lifted in the cell that serves them. It never deletes a row.
import { ALL, type CellRecord, type MigrationRecord } from '../control/plane.js';
import { judgeOwner, localProbe, thisProcessAsOwner } from '../control/ownership.js';
import { allCustomersIn } from '../data/client.js';
import { openCellData, requireCurrentApi, withCellData } from '../workspace/cell-data.js';
import type { Workspace } from '../workspace/workspace.js';

/** What a cell holds and has seen. */
export interface CellView {
  id: string;
  /** The highest fencing number it has seen. */
  fencing: number;
  /** Customers with at least one row here. */
  holds: ReadonlySet<string>;
  /** Customers whose writes it refuses (a barrier or a tombstone). */
  refuses: ReadonlySet<string>;
}

export interface RepairInput {
  /** The last fencing number the control plane handed out. */
  issued: number;
  cells: readonly CellView[];
  mapping: ReadonlyMap<string, string>;
  running: readonly { id: number; customerId: string; interrupted: boolean }[];
}

export interface RepairPlan {
  /** The sequence moves past this cell's number (null: the plane is not behind). */
  behind: { cellId: string; fencing: number; issued: number } | null;
  /** Mapping rows that move to the one cell holding the customer's rows. */
  repoint: { customerId: string; from: string; to: string }[];
  /** Interrupted moves of re-pointed customers: their journal described rows that are no longer there. */
  end: { id: number; customerId: string; servedBy: string }[];
  /** Barriers and tombstones in the cell that serves a customer no move is running for. */
  lift: { customerId: string; cellId: string }[];
  /** Rows in several cells, none of them the mapped one: left alone (audit, customers show). */
  ambiguous: { customerId: string; mappedTo: string | null; foundIn: string[] }[];
  /** Running moves left to their owner or to "migrate resume/abort". */
  left: { id: number; customerId: string }[];
}

/** What a repair would do; empty when the plane agrees with its cells. Pure. */
export function planRepair(input: RepairInput): RepairPlan {
  const plan: RepairPlan = { behind: behindOf(input), repoint: [], end: [], lift: [], ambiguous: [], left: [] };
  const holders = new Map<string, string[]>();
  for (const cell of input.cells) for (const id of cell.holds) holders.set(id, [...(holders.get(id) ?? []), cell.id]);
  const runningOf = (id: string) => input.running.filter((m) => m.customerId === id);
  for (const [customerId, foundIn] of [...holders].sort(([a], [b]) => a.localeCompare(b))) {
    const running = runningOf(customerId);
    const mapped = input.mapping.get(customerId) ?? null;
    // A live mover owns it; an unmapped customer was unassigned on purpose ("unassign --force" keeps its rows).
    if (running.some((m) => !m.interrupted) || mapped === null) continue;
    const refuses = (cellId: string) => input.cells.find((cell) => cell.id === cellId)?.refuses.has(customerId) ?? false;
    const servedBy = liveHolder(foundIn, mapped, refuses);
    // An interrupted move with no live copy elsewhere than the mapped cell is resume's or abort's to finish (their checks guard the rows).
    if (running.length > 0 && (servedBy === mapped || (servedBy === null && foundIn.includes(mapped)))) {
      plan.left.push(...running.map((m) => ({ id: m.id, customerId })));
      continue;
    }
    if (servedBy === null) {
      plan.ambiguous.push({ customerId, mappedTo: mapped, foundIn: [...foundIn].sort() });
      continue;
    }
    if (servedBy !== mapped) {
      plan.repoint.push({ customerId, from: mapped, to: servedBy });
      plan.end.push(...running.map((m) => ({ id: m.id, customerId, servedBy })));
    }
    // Only the one holder refuses it (a barrier or tombstone no move explains): that refuses it for nothing.
    if (refuses(servedBy)) plan.lift.push({ customerId, cellId: servedBy });
  }
  return plan;
}

/**
 * The cell whose rows are the customer's live ones: the one holder that takes its writes (a kept or
 * barred copy elsewhere is not live), the only holder at all, or the mapped cell among several live
 * ones; null when that cannot be told.
 */
function liveHolder(foundIn: readonly string[], mapped: string, refuses: (cellId: string) => boolean): string | null {
  const live = foundIn.filter((cellId) => !refuses(cellId));
  if (live.length === 1) return live[0]!;
  if (live.length === 0) return foundIn.length === 1 ? foundIn[0]! : null;
  return live.includes(mapped) ? mapped : null;
}

function behindOf(input: RepairInput): RepairPlan['behind'] {
  const top = [...input.cells].sort((a, b) => b.fencing - a.fencing)[0];
  return top !== undefined && top.fencing > input.issued ? { cellId: top.id, fencing: top.fencing, issued: input.issued } : null;
}

export const isEmptyPlan = (plan: RepairPlan): boolean => plan.behind === null && plan.repoint.length === 0 && plan.end.length === 0 && plan.lift.length === 0;

/**
 * Reads the running moves and the mapping, then every cell, then the plane's sequence: a move that
 * ends meanwhile shows in the cells as done (its rows in one place), one that starts meanwhile is
 * caught again before anything is applied, and a number drawn meanwhile cannot look unissued.
 */
export async function gatherRepair(ws: Workspace): Promise<{ input: RepairInput; cells: CellRecord[]; running: MigrationRecord[] }> {
  const running = await ws.plane.listMigrations({ state: 'running', limit: ALL });
  const mapping = new Map((await ws.plane.listCustomers()).map((customer) => [customer.id, customer.cellId]));
  const cells = await ws.plane.listCells();
  const views = await Promise.all(cells.map((cell) => viewOf(ws, cell)));
  const issued = await ws.plane.fencingIssued();
  const now = Date.now();
  return {
    input: {
      issued,
      cells: views,
      mapping,
      running: running.map((m) => ({ id: m.id, customerId: m.customerId, interrupted: judgeOwner(m, now, localProbe).kind === 'interrupted' })),
    },
    cells,
    running,
  };
}

async function viewOf(ws: Workspace, cell: CellRecord): Promise<CellView> {
  const data = await openCellData(ws, cell);
  try {
    requireCurrentApi(cell, data.version);
    const holds = await allCustomersIn(data.api);
    const { barriers, tombstones } = await data.api.barriers();
    return { id: cell.id, fencing: data.fencing, holds, refuses: new Set([...barriers, ...tombstones].map((entry) => entry.customer)) };
  } finally {
    await data.close();
  }
}

/**
 * Carries the plan out, customer by customer, in the order that keeps each step safe: the sequence
 * first, so the number drawn after it is honoured; that number before anything is checked again, so
 * a move that starts after the check outranks this repair at the cells; a customer whose moves
 * changed since the plan was read is left alone, and a lift follows only a re-point that took.
 */
export async function applyRepair(ws: Workspace, plan: RepairPlan, cells: readonly CellRecord[], running: readonly MigrationRecord[]): Promise<void> {
  if (plan.behind) await ws.plane.advanceFencing(plan.behind.fencing);
  const fencing = await ws.plane.newFencing();
  const customers = [...new Set([...plan.end, ...plan.repoint, ...plan.lift].map((entry) => entry.customerId))].sort();
  for (const customerId of customers) {
    const now = await ws.plane.runningMigrationFor(customerId);
    if (now !== undefined && !plan.end.some((entry) => entry.id === now.id)) continue;
    for (const entry of plan.end.filter((e) => e.customerId === customerId))
      await endMigration(
        ws,
        running.find((m) => m.id === entry.id)!,
        entry.servedBy,
      );
    const repoint = plan.repoint.find((entry) => entry.customerId === customerId);
    if (repoint && !(await ws.plane.moveCustomer(customerId, repoint.from, repoint.to))) continue;
    const lift = plan.lift.find((entry) => entry.customerId === customerId);
    if (lift)
      await withCellData(
        ws,
        cells.find((cell) => cell.id === lift.cellId)!,
        (api) => api.unbar({ move: fencing, fencing, customers: [customerId] }),
      );
  }
  await ws.plane.addEvent('cli', 'control.repaired', 'control plane', describePlan(plan).join('; '));
}

/** Ends an interrupted migration whose journal describes rows that are not there (unless another process took it first). */
async function endMigration(ws: Workspace, migration: MigrationRecord, servedBy: string): Promise<void> {
  const owner = thisProcessAsOwner();
  if (!(await ws.plane.takeOverMigration(migration.id, migration.owner, owner, ws.settings.limits.migrationLeaseMs))) return;
  const why = `ended by cellctl repair: the rows of ${migration.customerId} are in ${servedBy}, not where this journal said`;
  await ws.plane.endMigrations([migration.id], owner.token, 'failed', why);
}

/** The plan in lines for people (and the event's message). */
export function describePlan(plan: RepairPlan): string[] {
  const lines: string[] = [];
  if (plan.behind)
    lines.push(
      `advance the fencing sequence from ${plan.behind.issued} past ${plan.behind.fencing} (the highest number a cell has seen: ${plan.behind.cellId})`,
    );
  for (const r of plan.repoint) lines.push(`map ${r.customerId} to ${r.to}, where its rows are (mapped to ${r.from})`);
  for (const e of plan.end) lines.push(`end interrupted migration ${e.id} of ${e.customerId} as failed (its rows are in ${e.servedBy})`);
  for (const l of plan.lift) lines.push(`let ${l.cellId} take ${l.customerId}'s writes again (lift its barrier or tombstone there)`);
  return lines;
}
