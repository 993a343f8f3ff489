// Which customers the migration journal says are fenced: a router that started during a move (so no
// mover put a fence on it over the admin API) holds those customers as if it had been asked to.
import type { MigrationRecord, MigrationStep } from '../control/plane.js';

/** The journal steps during which a move holds its router fence: put before 'fenced' is journaled, lifted after 'switched'. */
export const FENCED_STEPS: ReadonlySet<MigrationStep> = new Set<MigrationStep>(['fenced', 'copied', 'verified', 'switched']);

export interface JournalFence {
  fenceId: string;
  leaseUntil: number;
}

/** The fence id a router gives a fence it learned from migration `id` (never one a mover uses). */
export const journalFenceId = (migrationId: number): string => `journal:${migrationId}`;

/**
 * The fences the journal asks for, by customer. A running migration at a fenced step fences its
 * customer while its owner's lease lasts (a mover that died holds no one for ever), for at most
 * `fenceLeaseMs` past `now` (renewed on every read, so a router that can no longer read the journal
 * lets go as an admin fence would). Skipped: migrations whose router fence this router was given
 * over the admin API (`given`): that mover lifts it itself.
 */
export function journalFences(
  running: readonly MigrationRecord[],
  given: (fenceId: string) => boolean,
  now: number,
  fenceLeaseMs: number,
): Map<string, JournalFence> {
  const wanted = new Map<string, JournalFence>();
  for (const migration of running) {
    if (migration.state !== 'running' || !FENCED_STEPS.has(migration.step)) continue;
    const moverFence = migration.detail.fenceId;
    if (typeof moverFence === 'string' && given(moverFence)) continue;
    const ownerLease = migration.owner?.leaseUntil ?? 0;
    if (ownerLease <= now) continue;
    wanted.set(migration.customerId, { fenceId: journalFenceId(migration.id), leaseUntil: Math.min(ownerLease, now + fenceLeaseMs) });
  }
  return wanted;
}
