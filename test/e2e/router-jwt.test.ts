// JWT mode is the intermediate example's router: every /api path is routed by the token's
// customer_id claim, with or without "Bearer ", and the router's own answers are the example's
// (401 "No authorization token provided" / "Invalid token", 400 "Customer ID not found in token",
// 429 "Rate limit exceeded", 503 "Service unavailable" with details).
import fs from 'node:fs';
import path from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { signCustomerToken } from '../../src/shared/tokens.js';
import { readJwtKey } from '../../src/workspace/secrets.js';
import { ECOMMERCE_CONTRACT, runContract } from '../contracts.js';
import { type CliResult, cli, cliJson, cliOk, cleanup, createCells, http, newWorkspace, rawHttp, statusesIn, waitFor, type Workspace } from '../helpers.js';

afterAll(cleanup);

const CELLS = ['e1', 'e2'];

async function jwtSystem(settings: Record<string, unknown> = {}): Promise<Workspace & { url: string; token: (customerId: string) => Promise<string> }> {
  const ws = await newWorkspace({ auth: 'jwt', supervisor: { backoffInitialMs: 100, healthIntervalMs: 300 }, ...settings });
  await createCells(ws, 'ecommerce', CELLS);
  await cliOk(ws.home, ['start']);
  const key = readJwtKey(ws.home);
  return { ...ws, url: `http://127.0.0.1:${ws.routerPort}`, token: (customerId) => signCustomerToken(key, customerId, 600) };
}

/** Where hashing places each customer among CELLS (worked out once; test/unit/placement.test.ts pins the hash). */
const HOME: Record<string, string> = { amy: 'e1', 'zed-1': 'e2' };

/** Two customer ids that hashing places in different cells. */
function oneIdPerCell(): [string, string] {
  return ['amy', 'zed-1'];
}

const shopper = (id: string) => ({ name: id, email: `${id}@example.com`, address: { city: 'Porto' } });

describe('JWT mode: the intermediate example router', () => {
  it('runs the e-commerce contract with tokens sent raw and with "Bearer "', async () => {
    const ws = await jwtSystem({ limits: { rateLimit: { requests: 1000, windowSeconds: 60 } } });
    const tokens = new Map<string, string>();
    let turn = 0;
    const headers = async (requestPath: string) => {
      // Each request carries the token of the customer its path names (the contract reads another
      // customer, "nobody", with that customer's own token); products go with eve's.
      const customerId = /^\/api\/customers\/([^/?]+)/.exec(requestPath)?.[1] ?? 'eve';
      if (!tokens.has(customerId)) tokens.set(customerId, await ws.token(customerId));
      const token = tokens.get(customerId)!;
      turn += 1;
      return { authorization: turn % 2 === 0 ? token : `Bearer ${token}` };
    };
    await runContract(ECOMMERCE_CONTRACT, ws.url, { direct: false, cellOf: (answer) => answer.get('x-cellctl-cell') ?? '(no cell header)', headers });
    expect(turn).toBeGreaterThan(10);
  });

  it("routes paths with no customer in them (/api/cart, /api/products) to the token customer's cell", async () => {
    const ws = await jwtSystem();
    const [amy, zed] = oneIdPerCell();
    for (const id of [amy, zed]) {
      const created = await http('POST', `${ws.url}/api/customers/${id}`, shopper(id), { authorization: await ws.token(id) });
      expect(created.status).toBe(201);
      expect(created.headers.get('x-cellctl-cell')).toBe(HOME[id]);
    }
    for (const id of [amy, zed]) {
      const home = HOME[id];
      const raw = await ws.token(id);
      for (const [authorization, url] of [
        [raw, '/api/cart'],
        [`Bearer ${raw}`, '/api/orders'],
        [`Bearer ${raw}`, '/api/products'],
        [raw, '/api/products/sku-mouse'],
        [raw, '/api/customers'],
      ] as const) {
        const answer = await http('GET', `${ws.url}${url}`, undefined, { authorization });
        expect(answer.headers.get('x-cellctl-cell'), `${id} ${url}`).toBe(home);
        // The cell answers for itself: a path it has no route for is its own 404, not the router's.
        expect(answer.body?.code, `${id} ${url}`).not.toBe('forbidden');
      }
      const products = await http('GET', `${ws.url}/api/products`, undefined, { authorization: raw });
      expect(products.status).toBe(200);
    }
  });

  it("refuses what the example refuses: no token, a bad or expired one, one without the claim, another customer's path", async () => {
    const ws = await jwtSystem();
    const key = readJwtKey(ws.home);
    const [amy, zed] = oneIdPerCell();
    const amyToken = await ws.token(amy);
    expect((await http('POST', `${ws.url}/api/customers/${amy}`, shopper(amy), { authorization: `Bearer ${amyToken}` })).status).toBe(201);

    const none = await http('GET', `${ws.url}/api/cart`);
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ error: 'No authorization token provided', code: 'unauthorized' });

    const expired = await new SignJWT({ customer_id: amy })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(key);
    const noExpiry = await new SignJWT({ customer_id: amy }).setProtectedHeader({ alg: 'HS256' }).sign(key);
    for (const bad of [amyToken.slice(0, -3) + 'abc', 'not.a.jwt', expired, `Bearer ${expired}`, noExpiry]) {
      const refused = await http('GET', `${ws.url}/api/customers/${amy}`, undefined, { authorization: bad });
      expect(refused.status, bad).toBe(401);
      expect(refused.body, bad).toMatchObject({ error: 'Invalid token', code: 'unauthorized' });
    }

    const claimless = await new SignJWT({ sub: amy }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(key);
    const noClaim = await http('GET', `${ws.url}/api/cart`, undefined, { authorization: `Bearer ${claimless}` });
    expect(noClaim.status).toBe(400);
    expect(noClaim.body).toMatchObject({ error: 'Customer ID not found in token', code: 'no_customer_claim' });

    const crossed = await http('GET', `${ws.url}/api/customers/${zed}/cart`, undefined, { authorization: amyToken });
    expect(crossed.status).toBe(403);
    expect(crossed.body).toMatchObject({ error: expect.any(String), code: 'forbidden' });
    expect(crossed.headers.get('x-cellctl-cell')).toBeNull();

    // Outside /api the router has no route, token or not; a dot segment stays refused (sent raw:
    // fetch would resolve it).
    expect((await http('GET', `${ws.url}/nope`, undefined, { authorization: amyToken })).status).toBe(404);
    const dots = await rawHttp(
      ws.routerPort,
      `GET /api/products/%2e%2e/customers/${zed} HTTP/1.1\r\nhost: test\r\nauthorization: ${amyToken}\r\nconnection: close\r\n\r\n`,
    );
    expect(statusesIn(dots.text)).toEqual([400]);
    expect(dots.text).toContain('"code":"bad_path"');
  });

  it('rate-limits by the claim customer: 429 "Rate limit exceeded" with Retry-After, others unaffected', async () => {
    const ws = await jwtSystem({ limits: { rateLimit: { requests: 3, windowSeconds: 600 } } });
    const [amy, zed] = oneIdPerCell();
    const amyToken = await ws.token(amy);
    const statuses = [];
    for (const url of ['/api/cart', '/api/products', `/api/customers/${amy}`])
      statuses.push((await http('GET', `${ws.url}${url}`, undefined, { authorization: amyToken })).status);
    expect(statuses).not.toContain(429);
    const limited = await http('GET', `${ws.url}/api/orders`, undefined, { authorization: amyToken });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: 'Rate limit exceeded', code: 'rate_limited' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await http('GET', `${ws.url}/api/cart`, undefined, { authorization: await ws.token(zed) })).status).not.toBe(429);
  });

  it('answers 503 "Service unavailable" with details when the token customer\'s cell is down, and holds a fenced claim customer', async () => {
    const ws = await jwtSystem({ limits: { rateLimit: { requests: 1000, windowSeconds: 60 }, fenceHoldMs: 60_000, fenceLeaseMs: 60_000 } });
    const [amy, zed] = oneIdPerCell();
    const amyToken = await ws.token(amy);
    const zedToken = await ws.token(zed);
    for (const [id, token] of [
      [amy, amyToken],
      [zed, zedToken],
    ] as const)
      expect((await http('POST', `${ws.url}/api/customers/${id}`, shopper(id), { authorization: token })).status).toBe(201);
    const amyCell = HOME[amy]!;
    const zedCell = HOME[zed]!;
    await waitFor('both creates pinned', async () => (await cliJson(ws.home, ['customers'])).length === 2);

    // A move of amy paused with its fence up: amy's claim-routed request waits, then goes to the target.
    const file = path.join(ws.home, '..', 'pause-verified'); // the fence is up from "fenced" to "released"
    const move = cli(ws.home, ['migrate', 'customer', amy, '--to', zedCell], { CELLCTL_PAUSE_AFTER_STEP: 'verified', CELLCTL_PAUSE_FILE: file });
    let moveEnded: CliResult | null = null;
    void move.then((result) => (moveEnded = result));
    await waitFor('the move to put its fence up', () => {
      if (moveEnded) throw new Error(`the move ended early: ${JSON.stringify(moveEnded)}`);
      return fs.existsSync(`${file}.reached`);
    });
    let answered = false;
    const held = http('GET', `${ws.url}/api/cart`, undefined, { authorization: amyToken }).then((answer) => {
      answered = true;
      return answer;
    });
    // zed is not fenced: answered while amy's request is held.
    expect((await http('GET', `${ws.url}/api/cart`, undefined, { authorization: zedToken })).headers.get('x-cellctl-cell')).toBe(zedCell);
    const stats = await waitFor('the router to hold amy', async () => {
      const answer = await http('GET', `http://127.0.0.1:${ws.adminPort}/admin/stats`, undefined, {
        authorization: `Bearer ${fs.readFileSync(path.join(ws.home, 'secrets', 'admin-token'), 'utf8').trim()}`,
      });
      return answer.body.fences.find((fence: { customerId: string; held: number }) => fence.customerId === amy && fence.held === 1);
    });
    expect(stats).toBeTruthy();
    expect(answered).toBe(false);
    fs.writeFileSync(file, '');
    expect((await move).code).toBe(0);
    expect((await held).headers.get('x-cellctl-cell')).toBe(zedCell);

    // zed's cell stops: zed gets the example's 503, amy (now in the same cell) too; a request for
    // a customer elsewhere would be served (the blast radius tests cover that).
    await cliOk(ws.home, ['stop', zedCell]);
    const down = await waitFor('a 503 for zed', async () => {
      const answer = await http('GET', `${ws.url}/api/cart`, undefined, { authorization: zedToken });
      return answer.status === 503 && answer;
    });
    expect(down.body).toMatchObject({ error: 'Service unavailable', code: 'cell_unavailable', details: expect.any(String), cell: zedCell });
    expect(amyCell).not.toBe(zedCell);
  });
});
