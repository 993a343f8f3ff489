// cellctl across hosts, twice: (a) the router and control.db on host A; (b) the control plane in
// PostgreSQL on A, the supervised router on A and `cellctl router serve` on B, and cellctl run from B
// too, with an operator's folder on B's disk. Cells on B and C (each started there with `cellctl serve`
// and its data API, each with a folder of its own as its disk), registered by URL. Hosts are network
// namespaces (netns.ts); every command and client runs inside its host.
import Database from 'better-sqlite3';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cleanup, tempDir, waitFor } from '../helpers.js';
import { pgAvailable, startPg, type TestPg } from '../pg.js';
import { type Host, type Hosts, hostsUnavailable, makeHosts, type RunResult } from './netns.js';

const why = hostsUnavailable();
if (why) console.warn(`simulated-hosts tests skipped: ${why}`);
const pgState = pgAvailable();

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REQUESTS = path.join(HERE, 'requests.mjs');
const WRITER = path.join(HERE, 'writer.mjs');
const PG_READY = path.join(HERE, 'pg-ready.mjs');
/** Ports inside the namespaces: each host has its own, so fixed ones never collide. */
const ROUTER_PORT = 8000;
const STALE_ROUTER_PORT = 8010;
/** B's router: not 8000, since a router's id is `<hostname>:<port>` and the hosts share one hostname. */
const B_ROUTER_PORT = 8020;
const CELL_PORT = 8100;
const DATA_PORT = 8101;
const router = `http://127.0.0.1:${ROUTER_PORT}`;

interface Answer {
  status: number;
  body: any;
  cell: string | null;
}

interface Tally {
  ackedAdds: number;
  ackedOrders: number;
  refused: number;
  serverErrors: string[];
  unexpected: string[];
}

const shopper = (id: string) => ({ name: `Shopper ${id}`, email: `${id}@example.com` });

/** The control plane: control.db with one router on A, or PostgreSQL on A with routers on A and B. */
type ControlSetup = 'sqlite' | 'postgres';

function hostsSuite(setup: ControlSetup): void {
  let net: Hosts;
  let a: Host;
  let b: Host;
  let c: Host;
  let root: string;
  let home: string;
  const disks: Record<string, string> = {};
  const cells: Record<string, ChildProcess> = {};
  let pgServer: TestPg | null = null;
  let bRouter: ChildProcess | null = null;
  /** Every router in front of the cells: A's, and in (b) B's. */
  let routers: string[] = [router];

  const env = (extra: NodeJS.ProcessEnv = {}) => ({ ...process.env, NO_COLOR: '1', CI: 'true', ...extra });

  /** cellctl run on host A, the control host. */
  const cellctl = (args: string[], extra: NodeJS.ProcessEnv = {}, at = home): Promise<RunResult> =>
    a.run(process.execPath, [CLI, '--home', at, ...args], { env: env(extra), timeoutMs: 180_000 });
  const cellctlOk = async (args: string[], extra: NodeJS.ProcessEnv = {}, at = home): Promise<RunResult> => {
    const result = await cellctl(args, extra, at);
    if (result.code !== 0) throw new Error(`cellctl ${args.join(' ')} exited ${result.code}\n${result.stderr}`);
    return result;
  };
  const cellctlJson = async (args: string[]): Promise<any> => JSON.parse((await cellctlOk([...args, '--json'])).stdout);

  /** Requests sent from host A, in order. */
  const send = async (list: { method: string; url: string; body?: unknown }[]): Promise<Answer[]> => {
    const result = await a.run(process.execPath, [REQUESTS, JSON.stringify(list)], { timeoutMs: 120_000 });
    return JSON.parse(result.stdout) as Answer[];
  };
  const one = async (method: string, url: string, body?: unknown): Promise<Answer> => (await send([{ method, url, body }]))[0]!;

  /** `cellctl serve` of an ecommerce cell on its host, app and data API on the host's address. */
  async function startCell(host: Host): Promise<void> {
    const disk = disks[host.name]!;
    cells[host.name] = host.exec(
      process.execPath,
      [CLI, 'serve', '--template', 'ecommerce', '--data-port', String(DATA_PORT), '--data-host', host.ip, '--token-file', path.join(disk, 'data.token')],
      {
        env: env({ CELL_ID: host.name, PORT: String(CELL_PORT), CELL_HOST: host.ip, CELL_DB: path.join(disk, 'data.db'), CELL_HOME: disk }),
        stdio: 'ignore',
      },
    );
    await waitFor(`cell ${host.name} answering on ${host.ip}`, async () => (await one('GET', `http://${host.ip}:${CELL_PORT}/health`)).status === 200, 60_000);
  }

  /** Rows of a customer in a cell's data.db, read from its host's disk. */
  function rowsIn(host: Host, customerId: string): Record<string, number> {
    const db = new Database(path.join(disks[host.name]!, 'data.db'), { readonly: true, fileMustExist: true });
    try {
      const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE customer_id = ?`).get(customerId) as { n: number }).n;
      return Object.fromEntries(['customers', 'cart_items', 'orders', 'order_items', 'order_events'].map((table) => [table, count(table)]));
    } finally {
      db.close();
    }
  }
  const none = { customers: 0, cart_items: 0, orders: 0, order_items: 0, order_events: 0 };

  const mappedCell = async (customerId: string): Promise<string> => (await cellctlJson(['route', customerId])).cell;

  /** A customer created through the router, pinned first to `cell` so a test knows where it starts. */
  async function customerOn(cell: string, id: string, orders = 2): Promise<void> {
    await cellctlOk(['assign', 'customer', id, '--cell', cell]);
    const created = await one('POST', `${router}/api/customers/${id}`, shopper(id));
    expect(created.status).toBe(201);
    expect(created.cell).toBe(cell);
    for (let i = 0; i < orders; i += 1) {
      expect((await one('POST', `${router}/api/customers/${id}/cart/items`, { product_id: 'sku-mouse', quantity: 1 })).status).toBe(200);
      expect((await one('POST', `${router}/api/customers/${id}/orders`)).status).toBe(201);
    }
    await servedEverywhere(id, cell);
  }

  /** Waits until every router serves the customer from `cell` (another router learns a pin at its next refresh). */
  async function servedEverywhere(id: string, cell: string): Promise<void> {
    for (const url of routers) {
      await waitFor(`${url} serving ${id} from ${cell}`, async () => {
        const answer = await one('GET', `${url}/api/customers/${id}`);
        return answer.status === 200 && answer.cell === cell;
      });
    }
  }

  /** Each router's tally, summed. */
  const total = (tallies: Tally[]) => ({
    ackedAdds: tallies.reduce((sum, t) => sum + t.ackedAdds, 0),
    ackedOrders: tallies.reduce((sum, t) => sum + t.ackedOrders, 0),
  });

  /** `cellctl router serve` on B, on B's address (public and admin, so A's movers reach it), same workspace folder. */
  async function startRouterOnB(): Promise<void> {
    const args = ['--home', home, 'router', 'serve', '--port', String(B_ROUTER_PORT), '--admin-port', String(B_ROUTER_PORT + 1)];
    bRouter = b.exec(process.execPath, [CLI, ...args, '--host', b.ip, '--admin-host', b.ip], { env: env(), stdio: 'ignore' });
    const url = `http://${b.ip}:${B_ROUTER_PORT}`;
    await waitFor(`B's router answering on ${url}`, async () => {
      if (bRouter!.exitCode !== null) throw new Error(`router serve on B exited ${bRouter!.exitCode}`);
      return (await one('GET', `${url}/health`)).status === 200;
    });
    routers = [router, url];
  }

  /** A throwaway PostgreSQL run by host A, on A's address, checked from inside A. */
  async function startPgOnA(): Promise<TestPg> {
    return startPg({
      listen: a.ip,
      // `ip netns exec` needs root: the switch to the postgres user happens inside the host.
      spawn: (file, args, { uid, gid, ...options }) => a.exec('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', file, ...args], options),
      ready: async (url) => (await a.run(process.execPath, [PG_READY, url], { env: env(), timeoutMs: 10_000 })).code === 0,
    });
  }

  /** A writer process on host A, writing to one customer through `url` until told to stop. */
  function startWriter(customerId: string, url = router) {
    const stopFile = path.join(root, `stop-${customerId}-${Date.now()}`);
    const child = a.exec(process.execPath, [WRITER, url, customerId, stopFile, '3000', '150000'], { env: env() });
    let out = '';
    let acked = 0;
    child.stdout!.on('data', (data: Buffer) => {
      out += data.toString('utf8');
      const last = /acked (\d+)\n(?![\s\S]*acked)/.exec(out);
      if (last) acked = Number(last[1]);
    });
    const ended = new Promise<Tally>((resolve) => child.once('close', () => resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Tally)));
    return {
      /** Resolves once `count` more writes were acknowledged (or the writer ended). */
      progressed: (count: number) => {
        const target = acked + count;
        return waitFor(`${count} more acknowledged writes to ${customerId}`, () => acked >= target || child.exitCode !== null, 60_000);
      },
      stop: async (): Promise<Tally> => {
        fs.writeFileSync(stopFile, '');
        return ended;
      },
    };
  }

  /** A move run from host A that waits after `step` until the test lets it go on (CELLCTL_PAUSE_FILE). */
  async function pausedMove(customerId: string, target: string, step: string) {
    const file = path.join(root, `pause-${customerId}-${step}`);
    const done = cellctl(['migrate', 'customer', customerId, '--to', target, '--json'], { CELLCTL_PAUSE_AFTER_STEP: step, CELLCTL_PAUSE_FILE: file });
    let ended: RunResult | null = null;
    void done.then((result) => (ended = result));
    await waitFor(`the move of ${customerId} to reach "${step}"`, () => fs.existsSync(`${file}.reached`) || ended !== null, 60_000);
    if (ended) throw new Error(`the move of ${customerId} ended before "${step}": ${JSON.stringify(ended)}`);
    return { done, goOn: () => fs.writeFileSync(file, '') };
  }

  /** Quantities a customer has in orders and cart, and its orders, read through the router. */
  async function written(customerId: string) {
    const [orders, cart] = await send([
      { method: 'GET', url: `${router}/api/customers/${customerId}/orders` },
      { method: 'GET', url: `${router}/api/customers/${customerId}/cart` },
    ]);
    expect(orders!.status).toBe(200);
    const list = orders!.body.orders as { items: { quantity: number }[] }[];
    const ordered = list.reduce((sum, order) => sum + order.items.reduce((s, item) => s + item.quantity, 0), 0);
    const inCart = (cart!.body.items as { quantity: number }[]).reduce((sum, item) => sum + item.quantity, 0);
    return { orders: list.length, quantity: ordered + inCart, cell: orders!.cell };
  }

  /**
   * Runs `move` (a `migrate customer … --json`) while a writer per router writes to the customer: every
   * acknowledged write ends up in `to` once, none was refused or answered 5xx, `from` keeps no row.
   */
  async function moveUnderWrites(customerId: string, from: Host, to: Host, move: () => Promise<RunResult>): Promise<void> {
    const before = await written(customerId);
    const writers = routers.map((url) => startWriter(customerId, url));
    let moved: RunResult;
    let tallies: Tally[];
    try {
      await Promise.all(writers.map((writer) => writer.progressed(20)));
      moved = await move();
      await Promise.all(writers.map((writer) => writer.progressed(20)));
    } finally {
      // Stopped whatever happens: a writer left running outlives the test.
      tallies = await Promise.all(writers.map((writer) => writer.stop()));
    }
    expect(moved.code, moved.stderr).toBe(0);
    expect(JSON.parse(moved.stdout)).toMatchObject({ from: from.name, to: to.name });
    for (const tally of tallies) {
      expect(tally.serverErrors).toEqual([]);
      expect(tally.unexpected).toEqual([]);
      expect(tally.refused).toBe(0);
      expect(tally.ackedAdds + tally.ackedOrders).toBeGreaterThanOrEqual(40);
    }
    const acked = total(tallies);
    await servedEverywhere(customerId, to.name);
    const after = await written(customerId);
    expect(after.cell).toBe(to.name);
    expect(after.orders).toBe(before.orders + acked.ackedOrders);
    expect(after.quantity).toBe(before.quantity + acked.ackedAdds);
    expect(rowsIn(to, customerId).orders).toBe(after.orders);
    expect(rowsIn(from, customerId)).toEqual(none);
  }

  beforeAll(async () => {
    net = makeHosts(['a', 'b', 'c']);
    ({ a, b, c } = net.hosts as Record<'a' | 'b' | 'c', Host>);
    root = tempDir();
    home = path.join(root, 'a', 'ws');
    for (const host of [b, c]) {
      disks[host.name] = path.join(root, host.name);
      fs.mkdirSync(disks[host.name]!, { recursive: true });
      fs.writeFileSync(path.join(disks[host.name]!, 'data.token'), `token-of-${host.name}-${'x'.repeat(24)}\n`, { mode: 0o600 });
    }
    if (setup === 'postgres') pgServer = await startPgOnA();
    const control = pgServer ? ['--control', pgServer.url()] : [];
    await cellctlOk(['init', '--router-port', String(ROUTER_PORT), '--template', 'ecommerce', ...control]);
    await cellctlOk(['config', 'set', 'limits.rateLimit', JSON.stringify({ requests: 1_000_000, windowSeconds: 1 })]);
    // A lost host answers nothing at all: the router's own timeout decides how soon its customers hear.
    await cellctlOk(['config', 'set', 'limits.upstreamTimeoutMs', '3000']);
    await Promise.all([startCell(b), startCell(c)]);
    await cellctlOk(['start', 'router']);
    for (const host of [b, c]) {
      await cellctlOk([
        'cells',
        'register',
        host.name,
        '--template',
        'ecommerce',
        '--url',
        `http://${host.ip}:${CELL_PORT}`,
        '--data-url',
        `http://${host.ip}:${DATA_PORT}`,
        '--token-file',
        path.join(disks[host.name]!, 'data.token'),
      ]);
    }
    if (setup === 'postgres') await startRouterOnB();
  }, 240_000);

  afterAll(async () => {
    if (bRouter && bRouter.exitCode === null) {
      const exited = new Promise((resolve) => bRouter!.once('exit', resolve));
      bRouter.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    }
    if (home && fs.existsSync(path.join(home, 'cellctl.json'))) await cellctl(['stop', '--timeout', '5']).catch(() => undefined);
    // Stopped by pid before its host goes, so it shuts down cleanly; the host's teardown kills it if this fails.
    await pgServer?.stop().catch(() => undefined);
    net?.teardown();
    await cleanup();
  }, 120_000);

  it('places customers created through every router in the cells on B and C; every router serves every customer', async () => {
    const status = await cellctlJson(['status']);
    expect(status.cells).toEqual([
      expect.objectContaining({ id: 'b', state: 'registered', url: `http://${b.ip}:${CELL_PORT}` }),
      expect.objectContaining({ id: 'c', state: 'registered', url: `http://${c.ip}:${CELL_PORT}` }),
    ]);
    expect(status.controlPlane.kind).toBe(setup);
    const placed = new Map<string, string>();
    const through = new Map<string, string>();
    const enough = () =>
      routers.every((url) => ['b', 'c'].every((cell) => [...placed].filter(([id, at]) => at === cell && through.get(id) === url).length >= 1));
    for (let n = 0; n < 60 && !(enough() && placed.size >= 4); n += 1) {
      const id = `p-${n}`;
      const url = routers[n % routers.length]!;
      const created = await waitFor(`customer ${id} created through ${url}`, async () => {
        const answer = await one('POST', `${url}/api/customers/${id}`, shopper(id));
        return answer.status === 201 ? answer : undefined;
      });
      placed.set(id, created.cell!);
      through.set(id, url);
    }
    expect(new Set(placed.values())).toEqual(new Set(['b', 'c']));
    expect(enough()).toBe(true);
    for (const [id, cell] of placed) await servedEverywhere(id, cell);
    const mapping = await cellctlJson(['customers']);
    for (const [id, cell] of placed) {
      expect(mapping).toContainEqual(expect.objectContaining({ id, cellId: cell }));
      expect(rowsIn(cell === 'b' ? b : c, id).customers).toBe(1);
      expect(rowsIn(cell === 'b' ? c : b, id).customers).toBe(0);
    }
    const health = await cellctl(['health', '--json']);
    expect(health.code, health.stdout + health.stderr).toBe(0);
  });

  it('moves a customer from B to C under continuous writes through every router: nothing lost, nothing doubled, no 5xx', async () => {
    await customerOn('b', 'mover', 2);
    // The move fences every live router: here, all of them.
    const live = ((await cellctlJson(['status'])).routers as { live: boolean; publicUrl: string }[]).filter((r) => r.live);
    expect(live).toHaveLength(routers.length);
    await moveUnderWrites('mover', b, c, () => cellctl(['migrate', 'customer', 'mover', '--to', 'c', '--json']));
    expect(await mappedCell('mover')).toBe('c');
    const audit = await cellctl(['audit']);
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
  });

  it('moves a customer online from B to C and back under writes through every router: copied unfenced, nothing lost or doubled, no capture left on either host', async () => {
    await customerOn('b', 'big', 3);
    await cellctlOk(['config', 'set', 'limits.onlineMoveRows', '0']);
    try {
      for (const [from, to] of [
        [b, c],
        [c, b],
      ] as const) {
        let report: { copy?: { mode: string } } = {};
        await moveUnderWrites('big', from, to, async () => {
          const moved = await cellctl(['migrate', 'customer', 'big', '--to', to.name, '--json']);
          if (moved.code === 0) report = JSON.parse(moved.stdout);
          return moved;
        });
        expect(report.copy).toEqual({ mode: 'online', why: null });
        for (const host of [b, c]) {
          const db = new Database(path.join(disks[host.name]!, 'data.db'), { readonly: true, fileMustExist: true });
          const left = db.prepare("SELECT name FROM sqlite_master WHERE name LIKE '_cellctl_capture%' OR name LIKE '_cellctl_changes%'").all();
          db.close();
          expect(left, `capture left on ${host.name}`).toEqual([]);
        }
      }
    } finally {
      await cellctlOk(['config', 'set', 'limits.onlineMoveRows', '200']);
    }
    expect(await mappedCell('big')).toBe('b');
  });

  /**
   * An operator's folder on B's disk for the system whose workspace folder is on A: cellctl.json and
   * the secrets a command run elsewhere uses (the control plane's URL, the routers' admin token, the
   * registered cells' data API tokens), copied with their modes; nothing of A's processes or the cells' disks.
   */
  function operatorHome(dir: string): string {
    const copy = (relative: string) => {
      fs.mkdirSync(path.dirname(path.join(dir, relative)), { recursive: true, mode: 0o700 });
      fs.copyFileSync(path.join(home, relative), path.join(dir, relative));
      fs.chmodSync(path.join(dir, relative), 0o600);
    };
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const file of ['cellctl.json', 'secrets/control-url', 'secrets/admin-token', 'secrets/cells/b.token', 'secrets/cells/c.token']) copy(file);
    return dir;
  }

  // Only where the control plane is a server every host reaches: control.db is a file on A's disk.
  if (setup === 'postgres')
    it('works from host B with a folder on B: status, customers, route; a move C → B under writes through every router loses and doubles nothing; audit and health pass', async () => {
      const ops = operatorHome(path.join(root, 'b', 'ops'));
      const fromB = (args: string[]): Promise<RunResult> => b.run(process.execPath, [CLI, '--home', ops, ...args], { env: env(), timeoutMs: 180_000 });
      const fromBJson = async (args: string[]): Promise<any> => {
        const result = await fromB([...args, '--json']);
        if (result.code !== 0) throw new Error(`cellctl ${args.join(' ')} on B exited ${result.code}\n${result.stderr}`);
        return JSON.parse(result.stdout);
      };
      const status = await fromBJson(['status']);
      expect(status.controlPlane.kind).toBe('postgres');
      expect(status.cells).toEqual([
        expect.objectContaining({ id: 'b', state: 'registered', healthy: true, url: `http://${b.ip}:${CELL_PORT}` }),
        expect.objectContaining({ id: 'c', state: 'registered', healthy: true, url: `http://${c.ip}:${CELL_PORT}` }),
      ]);
      const liveRouters = (report: { routers: { live: boolean; publicUrl: string }[] }) =>
        report.routers
          .filter((r) => r.live)
          .map((r) => r.publicUrl)
          .sort();
      expect(liveRouters(status)).toEqual([...routers].sort());

      await customerOn('c', 'from-b', 2);
      expect(await fromBJson(['customers'])).toContainEqual(expect.objectContaining({ id: 'from-b', cellId: 'c' }));
      expect((await fromBJson(['route', 'from-b'])).cell).toBe('c');
      // A's supervised router binds its admin API to loopback: B cannot fence it, and is told how to fix that.
      const refused = await fromB(['migrate', 'customer', 'from-b', '--to', 'b']);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/loopback[\s\S]*routerAdminHost/);
      expect(await mappedCell('from-b')).toBe('c');
      await cellctlOk(['config', 'set', 'routerAdminHost', a.ip]);
      await cellctlOk(['restart', 'router']);
      await waitFor("A's router registered with its admin API on A's address", async () => {
        const report = await fromBJson(['status']);
        return (
          liveRouters(report).length === routers.length && report.routers.some((r: { adminUrl: string }) => r.adminUrl === `http://${a.ip}:${ROUTER_PORT + 1}`)
        );
      });
      await servedEverywhere('from-b', 'c');

      await moveUnderWrites('from-b', c, b, () => fromB(['migrate', 'customer', 'from-b', '--to', 'b', '--json']));
      expect((await fromBJson(['route', 'from-b'])).cell).toBe('b');
      const audit = await fromB(['audit']);
      expect(audit.code, audit.stdout + audit.stderr).toBe(0);
      const health = await fromB(['health']);
      expect(health.code, health.stdout + health.stderr).toBe(0);
      expect(health.stderr).toMatch(/2 live router\(s\) and 2 cell\(s\)/);
      // start there would run a second supervisor and router: refused, saying what the folder is for.
      const started = await fromB(['start']);
      expect(started.code).toBe(1);
      expect(started.stderr).toMatch(/runs no cell of its own, and 2 router\(s\) elsewhere are live .*it is an operator's folder.*cellctl router serve/);
      expect((await fromBJson(['status'])).supervisor.state).toBe('stopped');
    }, 240_000);

  // Only where a router runs on another host than the control plane: B's, with PostgreSQL on A.
  if (setup === 'postgres')
    it('a router cut off from the control plane while its clients still reach it refuses a customer moved meanwhile (503 mapping_unconfirmed), and serves it from the new cell once it reaches the plane again', async () => {
      await customerOn('b', 'cutoff', 1);
      const bUrl = `http://${b.ip}:${B_ROUTER_PORT}`;
      /** Clients on B itself: they reach B's router whatever B's route to A says. */
      const sendOnB = async (list: { method: string; url: string; body?: unknown }[]): Promise<Answer[]> =>
        JSON.parse((await b.run(process.execPath, [REQUESTS, JSON.stringify(list)], { timeoutMs: 120_000 })).stdout) as Answer[];
      const bRouterLive = async (live: boolean) =>
        ((await cellctlJson(['status'])).routers as { live: boolean; publicUrl: string }[]).some((r) => r.publicUrl === bUrl && r.live === live);
      await waitFor("B's router live", () => bRouterLive(true), 30_000);
      // A rule in B dropping what B sends to PostgreSQL's port on A: the cell on B still answers A's
      // movers, B's router still answers its clients and A's admin calls, only the control plane is out of reach.
      const rule = ['to', `${a.ip}/32`, 'ipproto', 'tcp', 'dport', String(pgServer!.port), 'prohibit'];
      const cut = await b.run('ip', ['rule', 'add', ...rule]);
      expect(cut.code, cut.stderr).toBe(0);
      try {
        // Its heartbeat stops: the move below skips it, so it must not answer from the mapping it holds.
        await waitFor("B's router stale", () => bRouterLive(false), 30_000);
        await waitFor(
          "B's router refusing",
          async () => (await sendOnB([{ method: 'GET', url: `${bUrl}/api/customers/cutoff` }]))[0]!.body?.code === 'mapping_unconfirmed',
          30_000,
        );
        const moved = await cellctlOk(['migrate', 'customer', 'cutoff', '--to', 'c', '--json']);
        expect(JSON.parse(moved.stdout)).toMatchObject({ from: 'b', to: 'c' });
        const late = await sendOnB([
          { method: 'POST', url: `${bUrl}/api/customers/cutoff`, body: shopper('cutoff') },
          { method: 'POST', url: `${bUrl}/api/customers/cutoff/cart/items`, body: { product_id: 'sku-cable', quantity: 1 } },
          { method: 'PUT', url: `${bUrl}/api/customers/cutoff`, body: { name: 'Renamed while cut off' } },
          { method: 'GET', url: `${bUrl}/api/customers/cutoff` },
        ]);
        expect(late.map((answer) => [answer.status, answer.body?.code, answer.cell])).toEqual(late.map(() => [503, 'mapping_unconfirmed', null]));
        expect(rowsIn(b, 'cutoff')).toEqual(none);
      } finally {
        await b.run('ip', ['rule', 'del', ...rule]);
      }
      // Back in reach: it confirms its mapping (the switch included) and serves the customer from C.
      await waitFor(
        "B's router serving cutoff from C",
        async () => {
          const [answer] = await sendOnB([{ method: 'GET', url: `${bUrl}/api/customers/cutoff` }]);
          return answer!.status === 200 && answer!.cell === 'c';
        },
        120_000,
      );
      const [added] = await sendOnB([{ method: 'POST', url: `${bUrl}/api/customers/cutoff/cart/items`, body: { product_id: 'sku-cable', quantity: 1 } }]);
      expect([added!.status, added!.cell]).toEqual([200, 'c']);
      await servedEverywhere('cutoff', 'c');
      expect((await written('cutoff')).quantity).toBe(2); // the order of one made at the start, and the add through B
      expect(rowsIn(b, 'cutoff')).toEqual(none);
      const audit = await cellctl(['audit']);
      expect(audit.code, audit.stdout + audit.stderr).toBe(0);
    }, 300_000);

  it('a stale router that never got the fence is refused by the source, never acknowledged and lost', async () => {
    await customerOn('b', 'stale', 1);
    // A second router on A with a control store of its own (a copy would share PostgreSQL and not be
    // stale): the same cells, "stale" mapped to B forever, and no move it ever hears of.
    const staleHome = path.join(root, 'a', 'stale-ws');
    await cellctlOk(['init', '--router-port', String(STALE_ROUTER_PORT), '--template', 'ecommerce'], {}, staleHome);
    await cellctlOk(['config', 'set', 'routerAdminPort', String(STALE_ROUTER_PORT + 1)], {}, staleHome);
    await cellctlOk(['config', 'set', 'limits.rateLimit', JSON.stringify({ requests: 1_000_000, windowSeconds: 1 })], {}, staleHome);
    for (const host of [b, c]) {
      const where = ['--url', `http://${host.ip}:${CELL_PORT}`, '--data-url', `http://${host.ip}:${DATA_PORT}`];
      await cellctlOk(
        ['cells', 'register', host.name, '--template', 'ecommerce', ...where, '--token-file', path.join(disks[host.name]!, 'data.token')],
        {},
        staleHome,
      );
    }
    await cellctlOk(['assign', 'customer', 'stale', '--cell', 'b'], {}, staleHome);
    await cellctlOk(['start', 'router'], {}, staleHome);
    const staleUrl = `http://127.0.0.1:${STALE_ROUTER_PORT}`;
    try {
      const before = await written('stale');
      const fresh = routers.map((url) => startWriter('stale', url));
      const stale = startWriter('stale', staleUrl);
      await Promise.all([...fresh, stale].map((writer) => writer.progressed(10)));
      await cellctlOk(['migrate', 'customer', 'stale', '--to', 'c', '--json']);
      await Promise.all(fresh.map((writer) => writer.progressed(10)));
      // After the switch the stale router still sends the customer's writes to B: B refuses them.
      const late = await send(
        Array.from({ length: 5 }, () => ({
          method: 'POST',
          url: `${staleUrl}/api/customers/stale/cart/items`,
          body: { product_id: 'sku-cable', quantity: 1 },
        })),
      );
      expect(late.map((answer) => answer.status >= 200 && answer.status < 300)).toEqual(late.map(() => false));
      const freshTallies = await Promise.all(fresh.map((writer) => writer.stop()));
      const staleTally = await stale.stop();
      for (const tally of freshTallies) expect(tally.serverErrors).toEqual([]);
      expect(staleTally.unexpected).toEqual([]);
      // Every write any router acknowledged is in the customer's one cell, once.
      const acked = total([...freshTallies, staleTally]);
      await servedEverywhere('stale', 'c');
      const after = await written('stale');
      expect(after.cell).toBe('c');
      expect(after.orders).toBe(before.orders + acked.ackedOrders);
      expect(after.quantity).toBe(before.quantity + acked.ackedAdds);
      expect(rowsIn(b, 'stale')).toEqual(none);
      expect(rowsIn(c, 'stale').orders).toBe(after.orders);
    } finally {
      await cellctl(['stop', '--timeout', '5'], {}, staleHome);
    }
  });

  it('cutting B off in the middle of a move ends, after resume, with the customer wholly in one cell', async () => {
    await customerOn('b', 'cut', 3);
    const expected = rowsIn(b, 'cut');
    const move = await pausedMove('cut', 'c', 'verified');
    net.cutLink(b);
    move.goOn();
    const interrupted = await move.done;
    expect(interrupted.code, interrupted.stdout).not.toBe(0);
    net.restoreLink(b);
    await waitFor('B reachable again', async () => (await one('GET', `http://${b.ip}:${CELL_PORT}/health`)).status === 200, 60_000);
    const running = await cellctlJson(['migrate', 'list', '--state', 'running']);
    for (const migration of running) await cellctlOk(['migrate', 'resume', String(migration.id)]);
    expect(await cellctlJson(['migrate', 'list', '--state', 'running'])).toEqual([]);
    const home = await mappedCell('cut');
    const [there, away] = home === 'c' ? [c, b] : [b, c];
    expect(rowsIn(there, 'cut')).toEqual(expected);
    expect(rowsIn(away, 'cut')).toEqual(none);
    await servedEverywhere('cut', home);
    for (const url of routers) {
      const read = await one('GET', `${url}/api/customers/cut/orders`);
      expect(read.status).toBe(200);
      expect(read.cell).toBe(home);
      expect(read.body.orders).toHaveLength(3);
      // Its source no longer bars it (a finished move purged it; a rolled-back one lifted the barrier).
      expect((await one('POST', `${url}/api/customers/cut/cart/items`, { product_id: 'sku-cable', quantity: 1 })).status).toBe(200);
    }
    const audit = await cellctl(['audit']);
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
  }, 240_000);

  it('losing host C fails only the customers on C, on every router', async () => {
    // The customers placed by the first test: never moved, so nothing but the lost host stands in their way.
    const everyone = (await cellctlJson(['customers'])) as { id: string; cellId: string }[];
    const mapping = everyone.filter((row) => row.id.startsWith('p-'));
    const onB = mapping.filter((row) => row.cellId === 'b').map((row) => row.id);
    const onC = mapping.filter((row) => row.cellId === 'c').map((row) => row.id);
    expect(onB.length).toBeGreaterThan(0);
    expect(onC.length).toBeGreaterThan(0);
    net.destroy(c);
    for (const url of routers) {
      const reads = await send([...onB, ...onC].map((id) => ({ method: 'GET', url: `${url}/api/customers/${id}` })));
      expect(reads.slice(0, onB.length).map((answer) => answer.status)).toEqual(onB.map(() => 200));
      expect(reads.slice(onB.length).map((answer) => answer.status >= 500)).toEqual(onC.map(() => true));
    }
    const health = await cellctl(['health', '--json']);
    expect(health.code).toBe(3);
    const verdict = JSON.parse(health.stdout);
    const lost = everyone.filter((row) => row.cellId === 'c').length;
    expect(verdict.customersAffected).toBe(lost);
    expect(verdict.details).toEqual([expect.objectContaining({ customers: lost })]);
    expect(verdict.details[0].problem).toMatch(/\bc\b/);
  }, 120_000);
}

describe.skipIf(why !== null)('cellctl with cells on other hosts (control.db and one router on A)', () => hostsSuite('sqlite'));

describe.skipIf(why !== null || !pgState.ok)(
  `cellctl with cells on other hosts (control plane in PostgreSQL on A, routers on A and B)${pgState.ok ? '' : ` (skipped: ${pgState.reason})`}`,
  () => hostsSuite('postgres'),
);
