// The router's in-memory copy of the mapping (customer → cell) and of the cells, refreshed from the
// control plane incrementally by mapping version. Lookups never touch the database.
import type { MappingRead } from '../control/plane.js';
import type { CellRecord } from '../control/records.js';
import type { ControlStore } from '../control/store.js';
import { type PlacementCell, type PlacementPolicy, placeCustomer, placementCells } from '../control/placement.js';

export type RouteRule = 'mapping' | 'placement';

export interface Route {
  cellId: string;
  rule: RouteRule;
}

export class MappingTable {
  private readonly customers = new Map<string, string>();
  private readonly counts = new Map<string, number>();
  /** Creates placed in a cell and not answered yet: they count against its capacity while they run. */
  private readonly reserved = new Map<string, number>();
  private cells = new Map<string, CellRecord>();
  private version = -1;
  private maxRev = 0;
  private placementCells: PlacementCell[] = [];
  private placementById = new Map<string, PlacementCell>();

  constructor(
    private policy: PlacementPolicy,
    private template: string | null = null,
  ) {}

  /** Applies new placement settings at once (the router reloads its settings without a restart). */
  configure(policy: PlacementPolicy, template: string | null): void {
    this.policy = policy;
    this.template = template;
    this.rebuildPlacementCells();
  }

  get mappingVersion(): number {
    return this.version;
  }

  get size(): number {
    return this.customers.size;
  }

  cell(id: string): CellRecord | undefined {
    return this.cells.get(id);
  }

  allCells(): CellRecord[] {
    return [...this.cells.values()];
  }

  customersIn(cellId: string): number {
    return this.counts.get(cellId) ?? 0;
  }

  /** The highest mapping-row revision read so far: the next read asks for rows changed after it. */
  get revision(): number {
    return this.maxRev;
  }

  /**
   * Applies one read (rows changed after `revision`; `unsaved` pins the store has not yet taken). Returns 'unchanged' when the version is the one
   * held, 'reload' when rows were deleted (the counts disagree: the caller reads everything again and
   * calls replaceAll), else 'changed'.
   */
  apply(read: MappingRead, unsaved = 0): 'unchanged' | 'changed' | 'reload' {
    if (read.version === this.version) return 'unchanged';
    this.cells = new Map(read.cells.map((cell) => [cell.id, cell]));
    this.assignRows(read.changed);
    this.version = read.version;
    this.rebuildPlacementCells();
    // `unsaved`: customers mapped here in memory whose rows the store does not have yet.
    return read.customerCount + unsaved === this.customers.size ? 'changed' : 'reload';
  }

  /** Replaces every row with a whole read (readMapping(0)). */
  replaceAll(read: MappingRead): void {
    this.customers.clear();
    this.counts.clear();
    this.maxRev = 0;
    this.cells = new Map(read.cells.map((cell) => [cell.id, cell]));
    this.assignRows(read.changed);
    this.version = read.version;
    this.rebuildPlacementCells();
  }

  /** Brings the table up to date from a synchronous control.db (tests, tools). Returns true when anything changed. */
  refresh(store: ControlStore): boolean {
    const read = (sinceRev: number): MappingRead =>
      store.transaction(() => ({
        version: store.mappingVersion(),
        cells: store.listCells(),
        changed: store.customersChangedSince(sinceRev),
        customerCount: store.customerCount(),
      }));
    const outcome = this.apply(read(this.maxRev));
    if (outcome === 'reload') this.replaceAll(read(0));
    return outcome !== 'unchanged';
  }

  private assignRows(rows: MappingRead['changed']): void {
    for (const row of rows) {
      this.assign(row.id, row.cellId);
      if (row.rev > this.maxRev) this.maxRev = row.rev;
    }
  }

  /** Records a mapping row in memory (after a refresh, or a pin the router made itself). */
  assign(customerId: string, cellId: string): void {
    const previous = this.customers.get(customerId);
    if (previous === cellId) return;
    if (previous !== undefined) this.counts.set(previous, (this.counts.get(previous) ?? 1) - 1);
    // The cell's own id string, not the row's copy: a million rows then hold one string per cell.
    this.customers.set(customerId, this.cells.get(cellId)?.id ?? cellId);
    this.counts.set(cellId, (this.counts.get(cellId) ?? 0) + 1);
    this.refreshLoad(cellId);
    if (previous !== undefined) this.refreshLoad(previous);
  }

  /**
   * Holds a place in `cellId` for a create the policy placed there, until the returned function is
   * called (once its answer is in; a 201 then pins the row): creates in flight together cannot fill a
   * cell past its capacity.
   */
  reserve(cellId: string): () => void {
    this.reserved.set(cellId, (this.reserved.get(cellId) ?? 0) + 1);
    this.refreshLoad(cellId);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.reserved.set(cellId, (this.reserved.get(cellId) ?? 1) - 1);
      this.refreshLoad(cellId);
    };
  }

  /** What placement counts against a cell's capacity: its mapped customers and the creates in flight there. */
  private refreshLoad(cellId: string): void {
    const placement = this.placementById.get(cellId);
    if (placement) placement.customers = (this.counts.get(cellId) ?? 0) + (this.reserved.get(cellId) ?? 0);
  }

  isMapped(customerId: string): boolean {
    return this.customers.has(customerId);
  }

  /** Which cell serves a customer: its mapping row, else the placement policy. Null: no cell can. */
  lookup(customerId: string): Route | null {
    const mapped = this.customers.get(customerId);
    if (mapped !== undefined) return { cellId: mapped, rule: 'mapping' };
    const placed = placeCustomer(customerId, this.placementCells, this.policy);
    return placed === null ? null : { cellId: placed, rule: 'placement' };
  }

  private rebuildPlacementCells(): void {
    this.placementCells = placementCells([...this.cells.values()], this.counts, this.template);
    this.placementById = new Map(this.placementCells.map((cell) => [cell.id, cell]));
    for (const cell of this.placementCells) this.refreshLoad(cell.id);
  }
}
