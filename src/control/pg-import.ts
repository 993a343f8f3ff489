// Copying a whole control plane into an empty PostgreSQL one (`cellctl control migrate-to`): every
// table's rows, the sequences and the mapping version, read back for verification, in one transaction.
import { failure } from '../shared/errors.js';
import { canonicalRow, type ControlDump, DUMP_TABLES, type DumpRow, type DumpTable } from './dump.js';
import type { Client, PgConnection } from './pg-connection.js';
import { IMPORT_LOCK, PG_SCHEMA } from './pg-schema.js';

/** Whether the plane holds nothing yet: no cells, customers, migrations or events, mapping version 0. */
export function isEmpty(db: PgConnection): Promise<boolean> {
  return db.tx((client) => emptyIn(client));
}

/**
 * Writes every row of `dump` into the (empty) plane and reads them back for `verify`, all in one
 * transaction: a refusal or a failed verification leaves the plane as empty as it was.
 */
export function importDump<T>(db: PgConnection, dump: ControlDump, verify: (copied: ControlDump) => T): Promise<T> {
  return db.tx(async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [IMPORT_LOCK]);
    if (!(await emptyIn(client)))
      throw failure(`the control plane at ${db.where} is not empty: migrate-to copies only into an empty one`, 'E_CONTROL_NOT_EMPTY');
    await client.query("SELECT set_config('cellctl.importing', 'on', true)");
    for (const table of Object.keys(DUMP_TABLES) as DumpTable[]) await importTable(client, table, dump.tables[table]);
    for (const table of ['migrations', 'events']) {
      await client.query(
        `SELECT setval(pg_get_serial_sequence('${PG_SCHEMA}.${table}', 'id'), GREATEST((SELECT MAX(id) FROM ${table}), 1), (SELECT COUNT(*) > 0 FROM ${table}))`,
      );
    }
    await client.query("UPDATE meta SET value = $1 WHERE key = 'mapping_version'", [String(dump.mappingVersion)]);
    if (dump.fencingSeq > 0) await client.query("SELECT setval('fencing_seq', $1)", [dump.fencingSeq]);
    return verify(await dumpIn(client));
  });
}

async function emptyIn(client: Client): Promise<boolean> {
  const row = (
    await client.query<{ n: number; version: string }>(
      `SELECT (SELECT COUNT(*) FROM cells) + (SELECT COUNT(*) FROM customers) + (SELECT COUNT(*) FROM migrations) + (SELECT COUNT(*) FROM events) AS n,
              (SELECT value FROM meta WHERE key = 'mapping_version') AS version`,
    )
  ).rows[0]!;
  return row.n === 0 && Number(row.version) === 0;
}

async function importTable(client: Client, table: DumpTable, rows: readonly DumpRow[]): Promise<void> {
  const columns = DUMP_TABLES[table];
  const cast = (column: string): string => (column === 'detail' ? '::jsonb' : column === 'managed' ? '::boolean' : '');
  const placeholders = columns.map((column, i) => `$${i + 1}${cast(column)}`).join(', ');
  const insert = `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${placeholders})`;
  for (const row of rows) {
    await client.query(
      insert,
      columns.map((column) => (column === 'managed' ? row[column] === 1 : row[column])),
    );
  }
}

/** Every copied row, read back in the same form as a control.db dump. */
async function dumpIn(client: Client): Promise<ControlDump> {
  const tables = {} as Record<DumpTable, DumpRow[]>;
  for (const table of Object.keys(DUMP_TABLES) as DumpTable[]) {
    tables[table] = (await client.query(`SELECT ${DUMP_TABLES[table].join(', ')} FROM ${table}`)).rows.map((row: Record<string, unknown>) =>
      canonicalRow(table, row),
    );
  }
  const version = (await client.query<{ value: string }>("SELECT value FROM meta WHERE key = 'mapping_version'")).rows[0]!.value;
  const fencing = (await client.query<{ last_value: number; is_called: boolean }>('SELECT last_value, is_called FROM fencing_seq')).rows[0]!;
  return { tables, mappingVersion: Number(version), fencingSeq: fencing.is_called ? fencing.last_value : 0 };
}
