import { describe, expect, it } from 'vitest';
import type { MigrationRecord } from '../../src/control/plane.js';
import { migrationRecord } from '../helpers.js';
import { FenceBook } from '../../src/router/fences.js';
import { journalFenceId, journalFences } from '../../src/router/journal-fences.js';
import { advertisedUrl, routerId } from '../../src/router/registration.js';

const NOW = 1_000_000;

const migration = (id: number, step: MigrationRecord['step'], extra: Partial<MigrationRecord> = {}): MigrationRecord =>
  migrationRecord({ id, customerId: `cust-${id}`, step, owner: { token: 't', pid: 1, host: 'h', started: null, leaseUntil: NOW + 60_000 }, ...extra });

describe('fences from the migration journal', () => {
  it('fences customers of running moves from step fenced through switched, and no others', () => {
    const steps = ['checked', 'fenced', 'copied', 'verified', 'switched', 'released', 'purged'] as const;
    const wanted = journalFences(
      steps.map((step, i) => migration(i + 1, step)),
      () => false,
      NOW,
      10_000,
    );
    expect([...wanted.keys()]).toEqual(['cust-2', 'cust-3', 'cust-4', 'cust-5']);
    expect(wanted.get('cust-2')).toEqual({ fenceId: journalFenceId(2), leaseUntil: NOW + 10_000 });
  });

  it('skips ended moves, moves whose owner lease lapsed, and moves whose mover fenced this router itself', () => {
    const wanted = journalFences(
      [
        migration(1, 'fenced', { state: 'done' }),
        migration(2, 'copied', { owner: { token: 't', pid: 1, host: 'h', started: null, leaseUntil: NOW - 1 } }),
        migration(3, 'copied', { owner: null }),
        migration(4, 'verified', { detail: { fenceId: 'given-here' } }),
        migration(5, 'verified', { detail: { fenceId: 'given-elsewhere' } }),
      ],
      (id) => id === 'given-here',
      NOW,
      10_000,
    );
    expect([...wanted.keys()]).toEqual(['cust-5']);
  });

  it('a fence lasts no longer than the owner lease', () => {
    const short = migration(1, 'fenced', { owner: { token: 't', pid: 1, host: 'h', started: null, leaseUntil: NOW + 500 } });
    expect(journalFences([short], () => false, NOW, 10_000).get('cust-1')?.leaseUntil).toBe(NOW + 500);
  });

  it('the fence book adopts a journal fence only where no mover fence is up, and remembers ids movers gave it', async () => {
    const book = new FenceBook({ holdMs: 1000, queueLimit: 10 });
    await book.fence(['x'], 'mover-1', 10_000, 100);
    expect(book.wasGiven('mover-1')).toBe(true);
    expect(book.wasGiven('mover-2')).toBe(false);
    expect(book.adopt('x', 'journal:1', Date.now() + 10_000)).toBe(false);
    expect(book.adopt('y', 'journal:2', Date.now() + 10_000)).toBe(true);
    expect(book.isFenced('y', Date.now())).toBe(true);
    expect(book.adopt('y', 'journal:2', Date.now() + 20_000)).toBe(true);
    expect(book.release('y', 'journal:2')).toBe(0);
    expect(book.isFenced('y', Date.now())).toBe(false);
  });
});

describe('router registration', () => {
  it('advertises the bind address, the host address for a wildcard bind, or --advertise', () => {
    expect(advertisedUrl({ bindHost: '127.0.0.1', port: 8001 })).toBe('http://127.0.0.1:8001');
    expect(advertisedUrl({ bindHost: '0.0.0.0', port: 8001 }, () => '10.0.0.5')).toBe('http://10.0.0.5:8001');
    expect(advertisedUrl({ bindHost: '::', port: 8001 }, () => 'fd00::5')).toBe('http://[fd00::5]:8001');
    expect(advertisedUrl({ bindHost: '0.0.0.0', port: 8001, advertise: 'router-a.internal' })).toBe('http://router-a.internal:8001');
  });

  it('names a router by host and public port', () => {
    expect(routerId('host-a', 8000)).toBe('host-a:8000');
  });
});
