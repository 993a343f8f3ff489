import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FenceBook, nearestRank } from '../../src/router/fences.js';
import { classifyPath, pathHazard } from '../../src/router/paths.js';
import { RateLimiter } from '../../src/router/ratelimit.js';
import { Upstreams } from '../../src/router/upstreams.js';
import type { CellRecord } from '../../src/control/records.js';
import { waitFor } from '../helpers.js';

describe('path classification', () => {
  it.each([
    ['GET', '/api/customers/acme', { kind: 'customer', customerId: 'acme', isCreate: false }],
    ['POST', '/api/customers/acme', { kind: 'customer', customerId: 'acme', isCreate: true }],
    ['POST', '/api/customers/acme/', { kind: 'customer', customerId: 'acme', isCreate: true }],
    ['POST', '/api/customers/acme/orders', { kind: 'customer', customerId: 'acme', isCreate: false }],
    ['GET', '/api/customers/acme/cart?x=1', { kind: 'customer', customerId: 'acme', isCreate: false }],
    ['GET', '/api/products', { kind: 'reference' }],
    ['GET', '/api/products/sku-1', { kind: 'reference' }],
    ['GET', '/health', { kind: 'health' }],
    ['GET', '/api/productsX', { kind: 'api' }],
    ['GET', '/api/customers', { kind: 'api' }],
    ['GET', '/api/cart', { kind: 'api' }],
    ['GET', '/api/', { kind: 'not-found' }],
    ['GET', '/api', { kind: 'not-found' }],
    ['GET', '/admin/stats', { kind: 'not-found' }],
  ])('%s %s', (method, url, expected) => expect(classifyPath(method, url)).toEqual(expected));

  it.each(['/api/customers/a%20b', '/api/customers/%E0%A4%A0', '/api/customers/' + 'x'.repeat(129)])('rejects the malformed id in %s', (url) => {
    expect(classifyPath('GET', url).kind).toBe('bad-customer-id');
  });
});

// Every target a URL parser (the cell's) would resolve to another path, in raw and encoded forms.
const HAZARDS = [
  '/api/products/%',
  '/api/customers/c-0001/orders/%zz',
  '/api/products/../customers/c-0002',
  '/api/customers/c-0001/..',
  '/api/customers/c-0001/../c-0002',
  '/api/customers/c-0001/%2e%2e/c-0002',
  '/api/customers/c-0001/%2E%2E/c-0002',
  '/api/customers/c-0001/%2E./c-0002',
  '/api/customers/c-0001/.%2e/c-0002',
  '/api/customers/c-0001/./orders',
  '/api/customers/c-0001/%2e/orders',
  '/api/customers/c-0001/.',
  '/api/products/../../metrics',
  '/..',
  '/./health',
  '/api/customers/c-0001%2f..%2fc-0002',
  '/api/customers/c-0001/..%2Fc-0002',
  '/api/products\\..\\customers\\c-0002',
  '/api/products/..%5ccustomers%5cc-0002',
  '/api/products/..%5Ccustomers',
  '//api/customers/c-0002',
  '/api/customers//c-0002',
  '/api/customers/c-0001//orders',
  '/api/customers/c-0001#/../c-0002',
  '/api/customers/c-0001/\t../c-0002',
  '/api/customers/c 1',
  'http://cell/api/customers/c-0002',
  '*',
  '',
];
const SAFE = [
  '/',
  '/health',
  '/api/customers/c-0001',
  '/api/customers/c-0001/',
  '/api/customers/c-0001/orders',
  '/api/customers/c-0001/.x',
  '/api/customers/c-0001/...',
  '/api/customers/c-0001/x..',
  '/api/customers/c%2d0001',
  '/api/products/sku.1',
  '/api/customers/c-0001/%2e%2ex',
];

describe('paths a cell would read differently', () => {
  it.each(HAZARDS)('refuses %j', (path) => {
    expect(pathHazard(path)).not.toBeNull();
    expect(classifyPath('GET', path).kind).toBe('bad-path');
    expect(classifyPath('PUT', `${path}?x=1`).kind).toBe('bad-path');
  });

  it.each(SAFE)('accepts %j, which a URL parser leaves as it is', (path) => {
    expect(pathHazard(path)).toBeNull();
    expect(new URL(path, 'http://cell').pathname).toBe(path);
  });

  it('leaves the query alone: dots and slashes after "?" are not the path', () => {
    expect(classifyPath('GET', '/api/customers/c-0001?next=/../x%2f')).toEqual({ kind: 'customer', customerId: 'c-0001', isCreate: false });
  });
});

describe('rate limiter', () => {
  it('admits at most N in any window of W seconds, exact at the boundary (a controlled clock)', () => {
    const limiter = new RateLimiter(3, 10);
    expect([0, 4_000, 9_999].map((at) => limiter.take('a', at).allowed)).toEqual([true, true, true]);
    // The 4th within 10 s of the first is refused, with the wait until the first leaves the window.
    expect(limiter.take('a', 9_999)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.take('b', 9_999).allowed).toBe(true);
    // Exactly one window after the first, the first has left it: one more is admitted, and only one.
    expect(limiter.take('a', 10_000).allowed).toBe(true);
    expect(limiter.take('a', 10_000)).toEqual({ allowed: false, retryAfterSeconds: 4 });
    expect(limiter.take('a', 14_000).allowed).toBe(true);
  });

  it('refuses as the example does: 10 s after a burst of 100, none of 20 (a token bucket admitted 16)', () => {
    const limiter = RateLimiter.perWindow(100, 60);
    for (let i = 0; i < 100; i += 1) expect(limiter.take('a', 0).allowed).toBe(true);
    expect(Array.from({ length: 20 }, () => limiter.take('a', 10_000).allowed).filter(Boolean)).toHaveLength(0);
    expect(limiter.take('a', 60_000).allowed).toBe(true);
  });

  it('keeps only what is in the window, growing as needed: a huge limit costs no memory up front', () => {
    const limiter = new RateLimiter(1_000_000, 1);
    for (let i = 0; i < 1_000; i += 1) expect(limiter.take('a', i).allowed).toBe(true);
    expect(limiter.take('a', 5_000).allowed).toBe(true);
  });

  it('sweeps the logs of customers silent for a whole window', () => {
    const limiter = new RateLimiter(10, 10);
    limiter.take('a', 0);
    limiter.take('b', 55_000);
    limiter.sweep(60_000);
    expect(limiter.size).toBe(1);
  });
});

describe('fences', () => {
  it('holds a fenced customer until release', async () => {
    const fences = new FenceBook({ holdMs: 5000, queueLimit: 10 });
    await fences.fence(['a'], 'f1', 10_000, 1000);
    expect(fences.isFenced('a', Date.now())).toBe(true);
    const held = fences.hold('a');
    expect(fences.release('a')).toBe(1);
    await expect(held).resolves.toBe('released');
  });

  it('waits for requests already in flight before the fence is up', async () => {
    const fences = new FenceBook({ holdMs: 5000, queueLimit: 10 });
    fences.begin('a');
    let drained = false;
    const fencing = fences.fence(['a'], 'f1', 10_000, 5000).then((result) => (drained = result.drained));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(drained).toBe(false);
    fences.end('a');
    await fencing;
    expect(drained).toBe(true);
  });

  it('reports a drain timeout', async () => {
    const fences = new FenceBook({ holdMs: 5000, queueLimit: 10 });
    fences.begin('a');
    await expect(fences.fence(['a'], 'f1', 10_000, 30)).resolves.toEqual({ drained: false, inFlight: 1 });
  });

  it('answers queue-full past the queue limit and timeout past the hold limit', async () => {
    const fences = new FenceBook({ holdMs: 30, queueLimit: 1 });
    await fences.fence(['a'], 'f1', 10_000, 1000);
    const first = fences.hold('a');
    await expect(fences.hold('a')).resolves.toBe('queue-full');
    await expect(first).resolves.toBe('timeout');
  });

  it('lets traffic through once the lease lapses, and a lapsed fence cannot be confirmed', async () => {
    const fences = new FenceBook({ holdMs: 5000, queueLimit: 10 });
    await fences.fence(['a'], 'f1', 20, 1000);
    expect(fences.confirm(['a'], 'f1', 1000, Date.now())).toBe(true);
    await fences.fence(['b'], 'f2', 20, 1000);
    await expect(fences.hold('b')).resolves.toBe('released');
    expect(fences.confirm(['b'], 'f2', 1000, Date.now())).toBe(false);
    expect(fences.confirm(['a'], 'other-fence', 1000, Date.now())).toBe(false);
  });
});

describe('which cells the router sends requests to', () => {
  const cell = (id: string, port: number) =>
    ({
      id,
      port,
      template: 'basic',
      templateDir: '',
      schemaVersion: 1,
      capacity: 10,
      healthPath: '/health',
      status: 'active',
      createdAt: '',
      firstHealthyAt: '',
    }) as CellRecord;

  it('does not try a cell that timed out again until it is marked up (a passing health check), however long that takes', () => {
    const upstreams = new Upstreams(4);
    upstreams.sync([cell('c1', 1), cell('c2', 2)]);
    const c1 = upstreams.get('c1')!;
    upstreams.markDown(c1, 'timed out after 10000 ms', true);
    expect(upstreams.mayTry(c1)).toBe(false);
    expect(upstreams.mayTry(upstreams.get('c2')!)).toBe(true);
    upstreams.markDown(c1, 'health check timed out', true);
    expect(upstreams.mayTry(c1)).toBe(false);
    upstreams.markUp(c1);
    expect(upstreams.mayTry(c1)).toBe(true);
    upstreams.close();
  });

  it('says a check passed only when that call ran it: a check already in flight is no proof of health (a new cell is assumed healthy)', async () => {
    const pending: http.ServerResponse[] = [];
    const server = http.createServer((_req, res) => pending.push(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const upstreams = new Upstreams(4);
    try {
      upstreams.sync([{ ...cell('c1', 1), url, dataUrl: url }]);
      const c1 = upstreams.get('c1')!;
      expect(c1.healthy).toBe(true); // assumed: never checked
      const first = upstreams.check(c1, '/health');
      await waitFor('the first check to reach the cell', () => pending.length === 1);
      expect(await upstreams.check(c1, '/health')).toBe(false);
      pending.shift()!.writeHead(503).end();
      expect(await first).toBe(false);
      const second = upstreams.check(c1, '/health');
      await waitFor('the second check to reach the cell', () => pending.length === 1);
      pending.shift()!.writeHead(200).end();
      expect(await second).toBe(true);
    } finally {
      upstreams.close();
      server.close();
    }
  });

  it('keeps trying a cell that refuses connections: finding out again costs nothing', () => {
    const upstreams = new Upstreams(4);
    upstreams.sync([cell('c1', 1)]);
    const c1 = upstreams.get('c1')!;
    upstreams.markDown(c1, 'timed out', true);
    upstreams.markDown(c1, 'ECONNREFUSED');
    expect(upstreams.mayTry(c1)).toBe(true);
    expect(c1.healthy).toBe(false);
    upstreams.close();
  });
});

describe('write-pause quantiles (nearest rank)', () => {
  it.each([
    [100, 0.99, 99],
    [100, 0.5, 50],
    [200, 0.99, 198],
    [30, 0.99, 30],
    [30, 0.5, 15],
    [1, 0.99, 1],
    [10, 1, 10],
  ])('of the values 1..%d at %d is %d', (n, q, expected) => {
    expect(
      nearestRank(
        Array.from({ length: n }, (_, i) => i + 1),
        q,
      ),
    ).toBe(expected);
  });
});
