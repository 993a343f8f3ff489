// The docker runtime on one real Docker Engine (a private dockerd of this run, engine.ts) and
// cellctl's own image built on it: a workspace made with `init --runtime docker`, cells as containers
// with their data in named volumes, the router as a container reading the workspace folder; customers,
// a move under continuous writes, a crash the engine restarts, logs, stop, delete; and the bad inputs.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cleanup, cli, cliJson, cliOk, FIXTURES, freePort, http, tempDir, waitFor } from '../helpers.js';
import { baseUnavailable, cellctlImage, type Engine, engineUnavailable, runCommand, startDockerd } from './engine.js';

const why = engineUnavailable() ?? baseUnavailable();
if (why !== null) console.log(`skipped: the docker runtime tests need a Docker engine: ${why}`);

/** Debian's docker-compose (1.29), which .ci/run installs. */
const hasCompose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;
if (why === null && !hasCompose) console.log('skipped: export compose brought up for real needs docker-compose (apt-get install docker-compose)');

/** Generous: the engine, the image build and the containers start on a busy 2-core machine. */
const SLOW = 600_000;

describe.skipIf(why !== null)('the docker runtime on one engine', () => {
  let engine: Engine;
  let image: string;
  let home: string;
  let routerPort: number;
  let workspaceId: string;
  const env = () => engine.env;
  const router = () => `http://127.0.0.1:${routerPort}`;

  beforeAll(async () => {
    engine = await startDockerd('runtime');
    image = await cellctlImage(engine);
    home = path.join(tempDir(), 'ws');
    routerPort = await freePort(2);
  }, SLOW);

  afterAll(async () => {
    await cleanup();
    await engine?.stop();
  }, SLOW);

  /** The workspace's containers as the engine lists them by label: name → [role, cell, state]. */
  async function containers(): Promise<Map<string, string[]>> {
    const listed = await engine.docker([
      'ps',
      '--all',
      '--filter',
      `label=cellctl.workspace=${workspaceId}`,
      '--format',
      '{{.Names}} {{.Label "cellctl.role"}} {{.Label "cellctl.cell"}} {{.State}}',
    ]);
    return new Map(
      listed.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [name, ...rest] = line.split(' ');
          return [name!, rest];
        }),
    );
  }

  it(
    'init --runtime docker makes a workspace whose cells are labelled containers with a volume each, and start runs them',
    async () => {
      await cliOk(home, ['init', '--router-port', String(routerPort), '--runtime', 'docker', '--image', image], env());
      const file = path.join(home, 'cellctl.json');
      const settings = JSON.parse(fs.readFileSync(file, 'utf8'));
      expect(settings).toMatchObject({ runtime: 'docker', engine: { image } });
      // The writer below is not paced: a rate limit it cannot reach, so every answer is the move's.
      fs.writeFileSync(file, JSON.stringify({ ...settings, limits: { ...settings.limits, rateLimit: { requests: 1_000_000, windowSeconds: 1 } } }, null, 2));
      workspaceId = settings.workspaceId;
      expect(workspaceId).toMatch(/^[a-z0-9]{6,32}$/);
      for (const cell of ['c1', 'c2']) await cliOk(home, ['create', cell, '--template', 'ecommerce'], env());
      expect(await containers()).toEqual(
        new Map([
          [`cellctl-${workspaceId}-c1`, ['cell', 'c1', 'created']],
          [`cellctl-${workspaceId}-c2`, ['cell', 'c2', 'created']],
        ]),
      );
      const volumes = await engine.docker(['volume', 'ls', '--filter', `label=cellctl.workspace=${workspaceId}`, '--format', '{{.Name}}']);
      expect(volumes.stdout.split('\n').filter(Boolean).sort()).toEqual([`cellctl-${workspaceId}-c1-data`, `cellctl-${workspaceId}-c2-data`]);

      await cliOk(home, ['start', '--timeout', '120'], env());
      const states = await containers();
      expect(states.get(`cellctl-${workspaceId}-router`)).toEqual(['router', '', 'running']);
      expect(states.get(`cellctl-${workspaceId}-c1`)).toEqual(['cell', 'c1', 'running']);
      const status = await cliJson(home, ['status'], env());
      expect(status.runtime).toMatchObject({ kind: 'docker', image, error: null });
      expect(status.cells.map((cell: any) => [cell.id, cell.state, cell.healthy, cell.engine?.container])).toEqual([
        ['c1', 'running', true, `cellctl-${workspaceId}-c1`],
        ['c2', 'running', true, `cellctl-${workspaceId}-c2`],
      ]);
      expect((await cliOk(home, ['status'], env())).stdout).toMatch(/engine \(docker\)\s*│ answers/);
      expect((await cli(home, ['health'], env())).code).toBe(0);
      // The router's id is its container's host name and port, the same after a restart.
      expect(status.routers.map((row: any) => row.id)).toEqual([`cellctl-${workspaceId}-router:${routerPort}`]);
    },
    SLOW,
  );

  it(
    'customers created through the router land in both cells; a move under continuous writes loses and doubles nothing, and answers no 5xx',
    async () => {
      for (let index = 1; index <= 12; index += 1) {
        const created = await http('POST', `${router()}/api/customers/d-${index}`, { name: `D${index}`, email: `d${index}@example.com` });
        expect(created.status).toBe(201);
      }
      const mapping = await cliJson<{ id: string; cellId: string }[]>(home, ['customers'], env());
      expect(new Set(mapping.map((row) => row.cellId))).toEqual(new Set(['c1', 'c2']));

      const mover = mapping.find((row) => row.id === 'd-1')!;
      const target = mover.cellId === 'c1' ? 'c2' : 'c1';
      // A writer adds to the cart, one request at a time, until the move is done (bounded by count too).
      // Each acknowledged add is one more in the line's quantity: the cart's total tells lost or doubled writes.
      let moving = true;
      let acknowledged = 0;
      // Each answer other than 200 with its code: a failure says which answer it was (CI once saw five 503s here).
      const failures: string[] = [];
      const writer = (async () => {
        for (let index = 0; moving && index < 5_000; index += 1) {
          const answer = await http('POST', `${router()}/api/customers/d-1/cart/items`, { product_id: 'sku-cable', quantity: 1 });
          if (answer.status === 200) acknowledged += 1;
          else failures.push(`${answer.status} ${(answer.body as { code?: string } | null)?.code ?? ''}`);
        }
      })();
      await waitFor('a few writes before the move', () => acknowledged >= 5);
      await cliOk(home, ['migrate', 'customer', 'd-1', '--to', target], env());
      const after = acknowledged;
      await waitFor('writes through the target', () => acknowledged >= after + 5);
      moving = false;
      await writer;
      expect(failures).toEqual([]);
      const cart = await http('GET', `${router()}/api/customers/d-1/cart`);
      expect(cart.headers.get('x-cellctl-cell')).toBe(target);
      expect((cart.body as { items: { product_id: string; quantity: number }[] }).items).toEqual([
        expect.objectContaining({ product_id: 'sku-cable', quantity: acknowledged }),
      ]);
      expect((await cli(home, ['audit'], env())).code).toBe(0);
    },
    SLOW,
  );

  it(
    "a cell's process killed on the engine's host is restarted by the engine with its data; status counts the restart",
    async () => {
      const before = await cliJson(home, ['status'], env());
      const pid = before.cells.find((cell: any) => cell.id === 'c1').pid as number;
      process.kill(pid, 'SIGKILL');
      const back = await waitFor(
        'the engine to restart c1',
        async () => {
          const status = await cliJson(home, ['status'], env());
          const cell = status.cells.find((row: any) => row.id === 'c1');
          return cell.state === 'running' && cell.healthy === true && cell.pid !== pid && cell.restarts >= 1 && cell;
        },
        120_000,
      );
      expect(back.restarts).toBeGreaterThanOrEqual(1);
      const customer = (await cliJson<{ id: string; cellId: string }[]>(home, ['customers'], env())).find((row) => row.cellId === 'c1')!;
      expect((await http('GET', `${router()}/api/customers/${customer.id}`)).status).toBe(200);
    },
    SLOW,
  );

  it(
    'logs shows what a container wrote',
    async () => {
      const logs = await cliOk(home, ['logs', 'c2', '-n', '20'], env());
      expect(logs.stdout).toMatch(/c2/);
      const all = await cliOk(home, ['logs', '--all', '-n', '50'], env());
      expect(all.stdout).toMatch(/router/);
    },
    SLOW,
  );

  it(
    'a move to a stopped cell says to start it; drain then delete removes the cell, its container and its volume',
    async () => {
      await cliOk(home, ['stop', 'c2'], env());
      const customer = (await cliJson<{ id: string; cellId: string }[]>(home, ['customers'], env())).find((row) => row.cellId === 'c1')!;
      const refused = await cli(home, ['migrate', 'customer', customer.id, '--to', 'c2'], env());
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/c2.*cellctl start c2/);
      expect(refused.stderr).not.toMatch(/this is a bug/);
      await cliOk(home, ['start', 'c2', '--timeout', '120'], env());
      await cliOk(home, ['drain', 'c2'], env());
      const running = await cli(home, ['delete', 'c2', '--yes'], env());
      expect(running.code).toBe(1);
      expect(running.stderr).toMatch(/cell c2 is running .*cellctl stop c2/);
      await cliOk(home, ['stop', 'c2'], env());
      await cliOk(home, ['delete', 'c2', '--yes'], env());
      expect([...(await containers()).keys()].sort()).toEqual([`cellctl-${workspaceId}-c1`, `cellctl-${workspaceId}-router`]);
      const volumes = await engine.docker(['volume', 'ls', '--filter', `label=cellctl.workspace=${workspaceId}`, '--format', '{{.Name}}']);
      expect(volumes.stdout.trim()).toBe(`cellctl-${workspaceId}-c1-data`);
      expect((await cli(home, ['audit'], env())).code).toBe(0);
    },
    SLOW,
  );

  it(
    'stop stops every container and the data stays: start brings the customers back',
    async () => {
      await cliOk(home, ['stop'], env());
      expect(new Set([...(await containers()).values()].map((row) => row.at(-1)))).toEqual(new Set(['exited']));
      await cliOk(home, ['start', '--timeout', '120'], env());
      const mapping = await cliJson<{ id: string; cellId: string }[]>(home, ['customers'], env());
      for (const row of mapping) expect((await http('GET', `${router()}/api/customers/${row.id}`)).status).toBe(200);
    },
    SLOW,
  );

  it(
    'bad input: an engine that does not answer, a missing image, a second runtime for a workspace, a template the image cannot run: one line each, nothing left',
    async () => {
      const fresh = path.join(tempDir(), 'none');
      const noEngine = await cli(fresh, ['init', '--runtime', 'docker', '--image', image], { DOCKER_HOST: `unix://${path.join(tempDir(), 'no.sock')}` });
      expect(noEngine.code).toBe(1);
      expect(noEngine.stderr).toMatch(/Docker engine at unix:\/\/.*no\.sock does not answer/);
      expect(fs.existsSync(path.join(fresh, 'cellctl.json'))).toBe(false);

      const networksBefore = (await engine.docker(['network', 'ls', '--format', '{{.Name}}'])).stdout;
      const noImage = await cli(fresh, ['init', '--runtime', 'docker', '--image', 'cellctl:no-such-tag'], env());
      expect(noImage.code).toBe(1);
      expect(noImage.stderr).toMatch(/image cellctl:no-such-tag is not on the Docker engine: build it with "cellctl image build --tag cellctl:no-such-tag"/);
      expect((await engine.docker(['network', 'ls', '--format', '{{.Name}}'])).stdout).toBe(networksBefore);
      expect(fs.existsSync(path.join(fresh, 'cellctl.json'))).toBe(false);

      const again = await cli(home, ['init', '--runtime', 'local'], env());
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/already exists with runtime docker/);

      const file = path.join(home, 'cellctl.json');
      fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), templatePaths: [path.join(FIXTURES, 'templates')] }, null, 2));
      const own = await cli(home, ['create', 'n1', '--template', 'notes'], env());
      expect(own.code).not.toBe(0);
      expect(own.stderr).toMatch(/runs its own command.*docker runtime runs the built-in templates/);
      expect((await containers()).has(`cellctl-${workspaceId}-n1`)).toBe(false);
    },
    SLOW,
  );

  it.skipIf(!hasCompose)(
    'export compose: docker-compose runs the same system from the file (customers land in every cell, a move works, down and up keep the data); bad input gets one line',
    async () => {
      await cliOk(home, ['create', 'c3', '--template', 'ecommerce'], env());
      await cliOk(home, ['stop'], env());
      const dir = tempDir();
      const file = path.join(dir, 'docker-compose.yml');
      await cliOk(home, ['export', 'compose', '--file', file], env());
      const doc = parse(fs.readFileSync(file, 'utf8'));
      expect(Object.keys(doc.services).sort()).toEqual(['c1', 'c3', 'router']);
      expect(doc.services.router.ports).toEqual([`127.0.0.1:${routerPort}:${routerPort}`, `127.0.0.1:${routerPort + 1}:${routerPort + 1}`]);
      expect(doc.volumes[`cellctl-${workspaceId}-c1-data`]).toEqual({ external: true, name: `cellctl-${workspaceId}-c1-data` });
      // The same file again: byte for byte (stable names and order, for git).
      expect((await cliOk(home, ['export', 'compose'], env())).stdout.trim()).toBe(fs.readFileSync(file, 'utf8').trim());

      const compose = async (args: string[]) => {
        const result = await runCommand('docker-compose', ['--project-name', 'exported', '--file', file, ...args], {
          env: { ...process.env, ...env() },
          cwd: dir,
          timeoutMs: 300_000,
        });
        if (result.code !== 0) throw new Error(`docker-compose ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
        return result;
      };
      try {
        await compose(['up', '--detach']);
        await waitFor(
          'the router of the compose file to serve',
          async () => (await http('GET', `${router()}/health`).catch(() => null))?.status === 200,
          120_000,
        );
        // c3 never ran before: new customers go to it once the router has seen it pass a health check.
        const token = fs.readFileSync(path.join(home, 'secrets', 'admin-token'), 'utf8').trim();
        await waitFor(
          'the router of the compose file to place customers in both cells',
          async () => {
            const stats = await fetch(`http://127.0.0.1:${routerPort + 1}/admin/stats`, { headers: { authorization: `Bearer ${token}` } })
              .then((response) => response.json() as Promise<{ cells: Record<string, { placing?: boolean }> }>)
              .catch(() => null);
            return stats?.cells.c1?.placing === true && stats.cells.c3?.placing === true;
          },
          120_000,
        );
        const ids = Array.from({ length: 12 }, (_, n) => `compose-${n}`);
        const cells = new Set<string>();
        for (const id of ids) {
          const made = await waitFor(
            `create ${id}`,
            async () => {
              const answer = await http('POST', `${router()}/api/customers/${id}`, { name: id, email: `${id}@example.com` });
              return answer.status === 201 && answer;
            },
            60_000,
          );
          cells.add((made.body as { cell_id: string }).cell_id);
        }
        expect(cells).toEqual(new Set(['c1', 'c3']));
        // cellctl sees the file's containers by their labels.
        const status = await cliJson(home, ['status'], env());
        expect(status.cells.map((cell: { id: string; state: string }) => [cell.id, cell.state])).toEqual([
          ['c1', 'running'],
          ['c3', 'running'],
        ]);
        const mover = (await cliJson<{ id: string; cellId: string }[]>(home, ['customers'], env())).find((row) => row.id === 'compose-0')!;
        const target = mover.cellId === 'c1' ? 'c3' : 'c1';
        await cliOk(home, ['migrate', 'customer', mover.id, '--to', target], env());
        expect(((await http('GET', `${router()}/api/customers/${mover.id}`)).body as { cell_id: string }).cell_id).toBe(target);

        await compose(['down']);
        await compose(['up', '--detach']);
        await waitFor('the router back after down and up', async () => (await http('GET', `${router()}/health`).catch(() => null))?.status === 200, 120_000);
        for (const id of ids) {
          const answer = await waitFor(
            `${id} served again`,
            async () => {
              const got = await http('GET', `${router()}/api/customers/${id}`);
              return got.status === 200 && got;
            },
            60_000,
          );
          expect((answer.body as { customer_id: string }).customer_id).toBe(id);
        }
      } finally {
        await compose(['down']).catch(() => undefined);
      }

      const unwritable = await cli(home, ['export', 'compose', '--file', path.join(dir, 'no', 'such', 'dir', 'x.yml')], env());
      expect(unwritable.code).toBe(1);
      expect(unwritable.stderr.trim()).toMatch(/^error: cannot write .*x\.yml \(ENOENT\): give a file in a folder you can write$/);
      const settingsFile = path.join(home, 'cellctl.json');
      const settings = JSON.parse(fs.readFileSync(settingsFile, 'utf8'));
      fs.writeFileSync(settingsFile, JSON.stringify({ ...settings, engine: { ...settings.engine, image: 'cellctl:gone' } }, null, 2));
      try {
        const noImage = await cli(home, ['export', 'compose'], env());
        expect(noImage.code).toBe(1);
        expect(noImage.stderr).toMatch(/image cellctl:gone is not on the Docker engine at .*: build it with "cellctl image build --tag cellctl:gone"/);
      } finally {
        fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
      }
    },
    SLOW,
  );
});
