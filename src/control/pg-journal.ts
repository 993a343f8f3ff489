// The migration journal's writes in a PostgreSQL control plane, each inside a transaction the plane
// opens: new migrations with their fencing number, and compare-and-set writes on the owner.
import type { Client, Queryable } from './pg-connection.js';
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

/**
 * A compare-and-set on the owner over every id, in one statement (one round trip, no transaction of
 * its own): all rows change, or none — the rows are locked and counted first, and changed only if
 * every one is still running under `owner`. When not, a second read names the lost ones
 * (OwnershipLost). `set` is the SET clause; its parameters start at $3.
 */
export async function ownedWrite(client: Queryable, ids: readonly number[], owner: string, set: string, params: unknown[]): Promise<void> {
  const wanted = [...new Set(ids)];
  const result = await client.query<{ id: number }>(
    `WITH owned AS (SELECT id FROM migrations WHERE id = ANY($1) AND owner = $2 AND state = 'running' FOR UPDATE)
     UPDATE migrations SET ${set} WHERE id IN (SELECT id FROM owned) AND (SELECT COUNT(*) FROM owned) = cardinality($1) RETURNING id`,
    [wanted, owner, ...params],
  );
  if (result.rows.length === wanted.length) return;
  const still = await client.query<{ id: number }>("SELECT id FROM migrations WHERE id = ANY($1) AND owner = $2 AND state = 'running'", [wanted, owner]);
  const ours = new Set(still.rows.map((row) => row.id));
  const lost = wanted.filter((id) => !ours.has(id));
  throw new OwnershipLost(lost.length > 0 ? lost : wanted);
}

export function recordStep(
  client: Queryable,
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
    'step = $3, detail = merge_patch(detail, $4::jsonb), updated_at = $5, lease_until = COALESCE($6::bigint, lease_until)',
    [step, JSON.stringify(detail ?? {}), now(), leaseMs === undefined ? null : Date.now() + leaseMs],
  );
}

export function endOwned(
  client: Queryable,
  ids: readonly number[],
  owner: string,
  state: Exclude<MigrationState, 'running'>,
  error: string | null,
): Promise<void> {
  return ownedWrite(client, ids, owner, 'state = $3, error = $4, updated_at = $5', [state, error, now()]);
}
