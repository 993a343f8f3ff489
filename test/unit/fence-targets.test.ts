// Moves fence every live router: the pure choice of targets, and MigrationFence against two fake
// router admin APIs (real HTTP on 127.0.0.1) listed by a fake control plane.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ControlPlane, RouterRecord } from '../../src/control/plane.js';
import { chooseFenceTargets, unfencedLive } from '../../src/migration/fence-targets.js';
import { FenceLost, MigrationFence } from '../../src/migration/fence.js';
import { createSecrets } from '../../src/workspace/secrets.js';
import { defaultSettings } from '../../src/workspace/settings.js';
import type { Workspace } from '../../src/workspace/workspace.js';
import { tempDir } from '../helpers.js';

const router = (id: string, live: boolean, adminUrl = `http://127.0.0.1:1/${id}`): RouterRecord => ({
  id,
  adminUrl,
  publicUrl: 'http://127.0.0.1:2',
  pid: 1,
  host: 'h',
  startedAt: '',
  heartbeatAt: '',
  heartbeatAgeMs: live ? 100 : 60_000,
  live,
});

describe('chooseFenceTargets', () => {
  it('fences every live registered router, none that is stale', () => {
    expect(chooseFenceTargets([router('a', true, 'http://h1:8001/'), router('b', false), router('c', true, 'http://h3:8001')])).toEqual([
      { id: 'a', adminUrl: 'http://h1:8001' },
      { id: 'c', adminUrl: 'http://h3:8001' },
    ]);
  });
  it('falls back to the workspace router when no registered router is live', () => {
    expect(chooseFenceTargets([])).toBeNull();
    expect(chooseFenceTargets([router('a', false)])).toBeNull();
  });
  it('names live routers that were not fenced', () => {
    expect(unfencedLive([router('a', true), router('b', true), router('c', false)], ['a'])).toEqual(['b']);
  });
});

interface FakeAdmin {
  url: string;
  calls: string[];
  /** What the next calls answer: 200, an error status, or 'down' (the server is closed). */
  answer: number;
  close(): Promise<void>;
}

const servers: FakeAdmin[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function fakeAdmin(): Promise<FakeAdmin> {
  const fake: FakeAdmin = { url: '', calls: [], answer: 200, close: async () => {} };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      fake.calls.push(req.url ?? '');
      res.writeHead(fake.answer, { 'content-type': 'application/json' });
      res.end(JSON.stringify(fake.answer === 200 ? { fenceId: 'x', waitedMs: 0, held: true, released: 1, mappingVersion: 1 } : { error: 'refused' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise((resolve) => server.close(() => resolve()));
  servers.push(fake);
  return fake;
}

/** A workspace whose control plane lists `routers()` (read at each call, so a test can make one stale). */
function workspaceWith(routers: () => RouterRecord[]): Workspace {
  const home = path.join(tempDir(), 'ws');
  createSecrets(home);
  const plane = { listRouters: async () => routers() } as unknown as ControlPlane;
  return { home, paths: {} as Workspace['paths'], settings: defaultSettings(40_000), plane };
}

describe('MigrationFence with two registered routers', () => {
  it('puts, confirms and lifts the fence on both', async () => {
    const [a, b] = [await fakeAdmin(), await fakeAdmin()];
    const fence = new MigrationFence(workspaceWith(() => [router('a', true, a.url), router('b', true, b.url)]));
    const handle = await fence.put(['c-1']);
    expect(handle.kind).toBe('router');
    await fence.confirm(['c-1'], handle);
    expect(await fence.lift(['c-1'], handle.kind === 'router' ? handle.fenceId : undefined)).toBe(true);
    for (const fake of [a, b]) expect(fake.calls).toEqual(['/admin/fence', '/admin/fence/confirm', '/admin/unfence']);
  });

  it('fails the move when a live router refuses, and lifts the fence the other one put', async () => {
    const [a, b] = [await fakeAdmin(), await fakeAdmin()];
    b.answer = 500;
    const fence = new MigrationFence(workspaceWith(() => [router('a', true, a.url), router('b', true, b.url)]));
    await expect(fence.put(['c-1'])).rejects.toThrow(/router b .*fence; nothing was moved/);
    expect(a.calls).toEqual(['/admin/fence', '/admin/unfence']);
  });

  it('skips a router that is unreachable and no longer live, and fences the other', async () => {
    const [a, b] = [await fakeAdmin(), await fakeAdmin()];
    await b.close();
    let bLive = true;
    const fence = new MigrationFence(workspaceWith(() => [router('a', true, a.url), router('b', bLive, b.url)]));
    // b's heartbeat goes stale once it is found unreachable (it died): the re-check sees that.
    const put = fence.put(['c-1']);
    bLive = false;
    const handle = await put;
    expect(handle.kind === 'router' && handle.routers?.map((target) => target.id)).toEqual(['a']);
    await fence.confirm(['c-1'], handle);
    expect(a.calls).toEqual(['/admin/fence', '/admin/fence/confirm']);
  });

  it('loses the fence when a router that is still live fails to confirm, or a new live router appears unfenced', async () => {
    const [a, b, c] = [await fakeAdmin(), await fakeAdmin(), await fakeAdmin()];
    let routers = [router('a', true, a.url), router('b', true, b.url)];
    const fence = new MigrationFence(workspaceWith(() => routers));
    const handle = await fence.put(['c-1']);
    b.answer = 409;
    await expect(fence.confirm(['c-1'], handle)).rejects.toBeInstanceOf(FenceLost);
    b.answer = 200;
    routers = [...routers, router('c', true, c.url)];
    await expect(fence.confirm(['c-1'], handle)).rejects.toThrow(/router c started during the move/);
  });
});
