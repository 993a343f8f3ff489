// Every row of a control plane as plain values (what `control migrate-to` copies), and the per-table
// checksums that prove a copy equal to its source whatever store each side is.
import { createHash } from 'node:crypto';

export type DumpRow = Record<string, string | number | null>;

/** The copied tables, each with its columns in a fixed order (the routers table is live state, not copied). */
export const DUMP_TABLES = {
  cells: [
    'id',
    'template',
    'template_dir',
    'schema_version',
    'port',
    'capacity',
    'health_path',
    'status',
    'created_at',
    'first_healthy_at',
    'url',
    'data_url',
    'data_port',
    'managed',
  ],
  customers: ['id', 'cell_id', 'created_at', 'rev'],
  migrations: [
    'id',
    'customer_id',
    'source_cell',
    'target_cell',
    'step',
    'state',
    'keep_source_until',
    'batch',
    'detail',
    'error',
    'started_at',
    'updated_at',
    'owner',
    'owner_pid',
    'owner_host',
    'owner_started',
    'lease_until',
    'fencing',
  ],
  events: ['id', 'at', 'source', 'kind', 'subject', 'message'],
} as const;

export type DumpTable = keyof typeof DUMP_TABLES;

export interface ControlDump {
  tables: Record<DumpTable, DumpRow[]>;
  mappingVersion: number;
  /** The last fencing number handed out (0: none yet). */
  fencingSeq: number;
}

/** JSON with keys sorted at every level, so the same detail compares equal wherever it was stored. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** One row in the form both stores agree on: booleans as 0/1, detail as sorted JSON text, big numbers as numbers. */
export function canonicalRow(table: DumpTable, row: Record<string, unknown>): DumpRow {
  const out: DumpRow = {};
  for (const column of DUMP_TABLES[table]) {
    const value = row[column];
    if (column === 'managed') out[column] = value === true || value === 1 ? 1 : 0;
    else if (column === 'detail') out[column] = stableJson(typeof value === 'string' ? JSON.parse(value) : (value ?? {}));
    else if (typeof value === 'bigint') out[column] = Number(value);
    else out[column] = (value ?? null) as string | number | null;
  }
  return out;
}

const byId = (a: DumpRow, b: DumpRow): number => {
  const x = a.id as string | number;
  const y = b.id as string | number;
  return x < y ? -1 : x > y ? 1 : 0;
};

/** sha256 over the table's canonical rows ordered by id (binary order, not any database's collation). */
export function tableChecksum(table: DumpTable, rows: readonly Record<string, unknown>[]): string {
  const hash = createHash('sha256');
  for (const row of rows.map((r) => canonicalRow(table, r)).sort(byId)) hash.update(`${JSON.stringify(DUMP_TABLES[table].map((c) => row[c]))}\n`);
  return hash.digest('hex');
}

export interface DumpSummary {
  counts: Record<DumpTable, number>;
  checksums: Record<DumpTable, string>;
  mappingVersion: number;
  fencingSeq: number;
}

export function summarize(dump: ControlDump): DumpSummary {
  const tables = Object.keys(DUMP_TABLES) as DumpTable[];
  return {
    counts: Object.fromEntries(tables.map((t) => [t, dump.tables[t].length])) as Record<DumpTable, number>,
    checksums: Object.fromEntries(tables.map((t) => [t, tableChecksum(t, dump.tables[t])])) as Record<DumpTable, string>,
    mappingVersion: dump.mappingVersion,
    fencingSeq: dump.fencingSeq,
  };
}
