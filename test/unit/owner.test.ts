// Whether a running migration's owner still runs it: the lease, and a dead owner on this host.
import { describe, expect, it } from 'vitest';
import type { MigrationLease } from '../../src/control/records.js';
import { judgeOwner, type OwnerProbe } from '../../src/control/ownership.js';

const now = 1_000_000;
const lease = (over: Partial<MigrationLease>): MigrationLease => ({ token: 't', pid: 10, host: 'here', started: '5', leaseUntil: now + 5_000, ...over });
const probe = (alive: boolean): OwnerProbe => ({ host: 'here', sameProcessAlive: () => alive });

describe('judgeOwner', () => {
  it.each([
    ['no owner recorded (a journal from an older cellctl)', null, true, { kind: 'interrupted', why: 'no-owner' }],
    ['an owner on this host that is alive, lease live', lease({}), true, { kind: 'in-progress' }],
    ['an owner on this host that is gone, lease live', lease({}), false, { kind: 'interrupted', why: 'owner-gone' }],
    ['an owner on this host that is alive (stopped), lease lapsed', lease({ leaseUntil: now }), true, { kind: 'interrupted', why: 'lease-lapsed' }],
    ['an owner on another host, lease live (its pid means nothing here)', lease({ host: 'there' }), false, { kind: 'in-progress' }],
    ['an owner on another host, lease lapsed', lease({ host: 'there', leaseUntil: now - 1 }), false, { kind: 'interrupted', why: 'lease-lapsed' }],
  ] as const)('%s', (_name, owner, alive, expected) => {
    expect(judgeOwner({ owner }, now, probe(alive))).toMatchObject(expected);
  });

  it('asks the probe about the recorded pid and start time', () => {
    const asked: unknown[] = [];
    judgeOwner({ owner: lease({ pid: 77, started: '99' }) }, now, { host: 'here', sameProcessAlive: (pid, started) => (asked.push([pid, started]), true) });
    expect(asked).toEqual([[77, '99']]);
  });
});
