import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { MigrationOwner } from '../../src/control/plane.js';
import { SqliteControlPlane } from '../../src/control/sqlite-plane.js';
import { ControlLink } from '../../src/router/control-link.js';
import { FenceBook } from '../../src/router/fences.js';
import { MappingTable } from '../../src/router/mapping.js';
import { Upstreams } from '../../src/router/upstreams.js';
import { cleanup, newCell, tempDir } from '../helpers.js';

afterAll(cleanup);

const OWNER: MigrationOwner = { token: 'mover', pid: process.pid, host: 'test', started: null };

async function linked() {
  const file = path.join(tempDir(), 'control.db');
  const plane = SqliteControlPlane.create(file);
  await plane.insertCell(newCell('a', 9001));
  await plane.insertCell(newCell('b', 9003));
  const mapping = new MappingTable('hash');
  const upstreams = new Upstreams(1);
  const fences = new FenceBook({ holdMs: 1000, queueLimit: 10 });
  const link = new ControlLink({
    open: async () => SqliteControlPlane.open(file),
    mapping,
    upstreams,
    fences,
    fenceLeaseMs: () => 10_000,
    log: pino({ level: 'silent' }),
  });
  return { plane, mapping, upstreams, fences, link };
}

describe('the router link to the control plane', () => {
  it('keeps a pin the store has not taken yet mapped through a full reload, then writes it', async () => {
    const { plane, mapping, upstreams, link } = await linked();
    try {
      await plane.pinCustomers([
        { customerId: 'gone', cellId: 'a' },
        { customerId: 'kept', cellId: 'b' },
      ]);
      await link.refresh();
      expect(link.error).toBeNull();
      expect(mapping.size).toBe(2);
      link.pin('new', 'b');
      // A deletion (no changed row) makes the next read a full reload, before the pin is written.
      expect(await plane.unmapCustomer('gone', 'a')).toBe(true);
      await link.refresh();
      expect(mapping.lookup('gone')).not.toEqual({ cellId: 'a', rule: 'mapping' });
      expect(mapping.lookup('new')).toEqual({ cellId: 'b', rule: 'mapping' });
      await link.flushPins();
      expect((await plane.getCustomer('new'))?.cellId).toBe('b');
      await link.refresh();
      expect(mapping.size).toBe(2);
    } finally {
      await link.close();
      upstreams.close();
      await plane.close();
    }
  });

  it('a pin another router made first loses: the store row wins in memory', async () => {
    const { plane, mapping, upstreams, link } = await linked();
    try {
      await link.refresh();
      await plane.pinCustomers([{ customerId: 'raced', cellId: 'a' }]);
      link.pin('raced', 'b');
      await link.flushPins();
      await link.refresh();
      expect(mapping.lookup('raced')).toEqual({ cellId: 'a', rule: 'mapping' });
    } finally {
      await link.close();
      upstreams.close();
      await plane.close();
    }
  });

  it('fences a customer while the journal says its move holds the fence, and lifts it when the move ends', async () => {
    const { plane, fences, upstreams, link } = await linked();
    try {
      await plane.pinCustomers([{ customerId: 'm', cellId: 'a' }]);
      const [migration] = await plane.startMigrations(
        [{ customerId: 'm', sourceCell: 'a', targetCell: 'b', keepSourceUntil: null, batch: null, step: 'checked' }],
        OWNER,
        60_000,
      );
      await link.refresh();
      expect(fences.isFenced('m', Date.now())).toBe(false);
      await plane.recordMigrationStep([migration!.id], OWNER.token, 'fenced', { fenceId: 'elsewhere' }, 60_000);
      await link.refresh();
      expect(fences.isFenced('m', Date.now())).toBe(true);
      await plane.recordMigrationStep([migration!.id], OWNER.token, 'released', {}, 60_000);
      await link.refresh();
      expect(fences.isFenced('m', Date.now())).toBe(false);
      await plane.endMigrations([migration!.id], OWNER.token, 'done');
    } finally {
      await link.close();
      upstreams.close();
      await plane.close();
    }
  });
});
