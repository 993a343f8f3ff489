// The migration journal's writes in a PostgreSQL control plane, each inside a transaction the plane
// opens: new migrations with their fencing number, and compare-and-set writes on the owner.
import type { Client } from './pg-connection.js';
import type { NewMigration } from './plane.js';
import { FENCING_LOCK } from './pg-schema.js';
import {
  type MigrationOwner,
  type MigrationRecord,
  type MigrationRow,
  type MigrationState,
  type MigrationStep,
  OwnershipLost,
  toMigration,
} from './records.js';

const now = (): string => new Date().toISOString();

/** Inside a transaction: waits for every earlier draw of a fencing number to commit (FENCING_LOCK). */
export async function lockFencing(client: Client): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [FENCING_LOCK]);
}

export async function insertMigrations(client: Client, inputs: readonly NewMigration[], owner: MigrationOwner, leaseMs: number): Promise<MigrationRecord[]> {
  await lockFencing(client);
  const fencing = (await client.query<{ n: number }>("SELECT nextval('fencing_seq') AS n")).rows[0]!.n;
  const records: MigrationRecord[] = [];
  for (const input of inputs) {
    const at = now();
    try {
      const row = await client.query<MigrationRow>(
        `INSERT INTO migrations (customer_id, source_cell, target_cell, step, state, keep_source_until, batch, started_at, updated_at,
                                 owner, owner_pid, owner_host, owner_started, lease_until, fencing)
         VALUES ($1, $2, $3, $4, 'running', $5, $6, $7, $7, $8, $9, $10, $11, $12, $13) RETURNING *`,
        [
          input.customerId,
          input.sourceCell,
          input.targetCell,
          input.step,
          input.keepSourceUntil,
          input.batch,
          at,
          owner.token,
          owner.pid,
          owner.host,
          owner.started,
          Date.now() + leaseMs,
          fencing,
        ],
      );
      records.push(toMigration(row.rows[0]!));
    } catch (error) {
      // Which customer, for the refusal told after the rollback.
      if (error && typeof error === 'object') (error as { customerId?: string }).customerId = input.customerId;
      throw error;
    }
  }
  return records;
}

/** A compare-and-set on the owner over every id: all rows change, or none (OwnershipLost names the lost ones). */
export async function ownedWrite(client: Client, ids: readonly number[], owner: string, sql: string, params: unknown[]): Promise<void> {
  const wanted = [...new Set(ids)];
  const result = await client.query<{ id: number }>(sql, [wanted, owner, ...params]);
  const changed = new Set(result.rows.map((row) => row.id));
  const lost = wanted.filter((id) => !changed.has(id));
  if (lost.length > 0) throw new OwnershipLost(lost);
}

export function recordStep(
  client: Client,
  ids: readonly number[],
  owner: string,
  step: MigrationStep,
  detail?: Record<string, unknown>,
  leaseMs?: number,
): Promise<void> {
  return ownedWrite(
    client,
    ids,
    owner,
    `UPDATE migrations SET step = $3, detail = merge_patch(detail, $4::jsonb), updated_at = $5, lease_until = COALESCE($6::bigint, lease_until)
     WHERE id = ANY($1) AND owner = $2 AND state = 'running' RETURNING id`,
    [step, JSON.stringify(detail ?? {}), now(), leaseMs === undefined ? null : Date.now() + leaseMs],
  );
}

export function endOwned(
  client: Client,
  ids: readonly number[],
  owner: string,
  state: Exclude<MigrationState, 'running'>,
  error: string | null,
): Promise<void> {
  return ownedWrite(
    client,
    ids,
    owner,
    "UPDATE migrations SET state = $3, error = $4, updated_at = $5 WHERE id = ANY($1) AND owner = $2 AND state = 'running' RETURNING id",
    [state, error, now()],
  );
}
