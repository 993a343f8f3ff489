// Who owns a running migration, and whether another process may take it over: only once the owner's
// lease lapsed, or at once when the owner ran on this host and its process is gone.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { MigrationLease, MigrationOwner, MigrationRecord } from './records.js';
import { isAlive, processStartTicks } from '../shared/procfs.js';

/** This process as a migration owner (a new token per run). */
export function thisProcessAsOwner(): MigrationOwner {
  return { token: randomUUID(), pid: process.pid, host: os.hostname(), started: processStartTicks(process.pid) };
}

export type OwnerVerdict =
  /** Its owner holds it: hands off. */
  | { kind: 'in-progress'; owner: MigrationLease }
  /** Nobody runs it: resume or abort may take it over. */
  | { kind: 'interrupted'; why: 'owner-gone' | 'lease-lapsed' | 'no-owner' };

export interface OwnerProbe {
  host: string;
  /** Whether `pid` on this host is alive and still the process that started at `started`. */
  sameProcessAlive(pid: number, started: string | null): boolean;
}

export const localProbe: OwnerProbe = {
  host: os.hostname(),
  // A start time that cannot be read now (no /proc access) is not evidence of another process: the lease decides.
  sameProcessAlive: (pid, started) => {
    if (!isAlive(pid)) return false;
    const now = processStartTicks(pid);
    return started === null || now === null || now === started;
  },
};

/** Pure apart from the probe: whether a running migration is being run, or was left behind. */
export function judgeOwner(migration: Pick<MigrationRecord, 'owner'>, now: number, probe: OwnerProbe): OwnerVerdict {
  const owner = migration.owner;
  if (!owner) return { kind: 'interrupted', why: 'no-owner' };
  if (owner.host === probe.host && !probe.sameProcessAlive(owner.pid, owner.started)) return { kind: 'interrupted', why: 'owner-gone' };
  if (owner.leaseUntil <= now) return { kind: 'interrupted', why: 'lease-lapsed' };
  return { kind: 'in-progress', owner };
}

/** "pid 1234", or "pid 1234 on host-b" for another host. */
export const ownerName = (owner: MigrationOwner, localHost: string): string =>
  owner.host === localHost ? `pid ${owner.pid}` : `pid ${owner.pid} on ${owner.host}`;

/** The refusal for a migration another process is running. */
export function busyMessage(id: number, owner: MigrationLease, localHost: string): string {
  const where = ownerName(owner, localHost);
  return `migration ${id} is being run by ${where} (lease until ${new Date(owner.leaseUntil).toISOString()}); wait for it, or stop it${owner.host === localHost ? ` ("kill ${owner.pid}")` : ''} and try again`;
}
