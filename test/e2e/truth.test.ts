// What operators read must match what customers see (issue 12): health counts refused customers,
// placement only reaches cells that run and are of the workspace's kind, naming a process touches
// only it, settings reach the running router.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expositionProblems } from '../exposition.js';
import {
  CLI,
  cli,
  cliJson,
  cliOk,
  cleanup,
  createCells,
  FIXTURES,
  http,
  newWorkspace,
  rawHttp,
  statusesIn,
  track,
  waitFor,
  type Workspace,
} from '../helpers.js';

afterAll(cleanup);

/** Why the CLI cannot be run on a terminal here (util-linux's script gives it one), or null. */
const TERMINAL_SKIP = spawnSync('script', ['--version']).error ? 'no "script" command (util-linux) to give the CLI a terminal' : null;

/** The CLI's output on a terminal `columns` wide (a pseudo-terminal by util-linux's script), lines ended by \n. */
async function onTerminal(home: string, args: string[], columns: number): Promise<string> {
  const quoted = [process.execPath, CLI, '--home', home, ...args].map((word) => `'${word.replace(/'/g, "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qefc', `stty cols ${columns} rows 50; exec ${quoted}`, '/dev/null'], {
    env: { ...process.env, NO_COLOR: '1', TERM: 'xterm' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  await new Promise((resolve) => child.once('close', resolve));
  return out.replace(/\r\n/g, '\n');
}

const fast = { supervisor: { backoffInitialMs: 100, healthIntervalMs: 300 }, limits: { rateLimit: { requests: 100_000, windowSeconds: 1 } } };
const shopper = (id: string) => ({ name: `Shopper ${id}`, email: `${id}@example.com` });

async function shop(cells: string[], settings: Record<string, unknown> = {}): Promise<Workspace & { url: string }> {
  const ws = await newWorkspace({ ...fast, ...settings });
  await createCells(ws, 'ecommerce', cells);
  await cliOk(ws.home, ['start']);
  return { ...ws, url: `http://127.0.0.1:${ws.routerPort}` };
}

describe('health counts the customers who would be refused', () => {
  it('exits 3 while a cell that holds customers is stopped, and says how many and what helps', async () => {
    const ws = await shop(['c1', 'c2']);
    expect((await http('POST', `${ws.url}/api/customers/ann`, shopper('ann'))).status).toBe(201);
    const cell = (await cliJson(ws.home, ['route', 'ann'])).cell as string;
    await cliOk(ws.home, ['stop', cell]);
    expect((await http('GET', `${ws.url}/api/customers/ann/orders`)).status).toBe(503);
    const health = await cli(ws.home, ['health']);
    expect(health.code).toBe(3);
    expect(health.stderr).toContain(`cellctl start ${cell}`);
    const json = JSON.parse((await cli(ws.home, ['health', '--json'])).stdout);
    expect(json).toMatchObject({ healthy: false, customersAffected: 1, details: [{ customers: 1, fix: `cellctl start ${cell}` }] });
    await cliOk(ws.home, ['start', cell]);
    expect((await cli(ws.home, ['health'])).code).toBe(0);
    await cliOk(ws.home, ['stop']);
  });

  it('exits 3 while an interrupted move fences a customer, and 0 once it is resumed', async () => {
    const ws = await shop(['c1', 'c2']);
    expect((await http('POST', `${ws.url}/api/customers/bo`, shopper('bo'))).status).toBe(201);
    const source = (await cliJson(ws.home, ['route', 'bo'])).cell as string;
    const killed = await cli(ws.home, ['migrate', 'customer', 'bo', '--to', source === 'c1' ? 'c2' : 'c1'], { CELLCTL_FAULT_AFTER_STEP: 'copied' });
    expect(killed.code).not.toBe(0);
    const [running] = await cliJson(ws.home, ['migrate', 'list', '--state', 'running']);
    const json = JSON.parse((await cli(ws.home, ['health', '--json'])).stdout);
    expect(json).toMatchObject({ healthy: false, customersAffected: 1 });
    expect(json.details[0].fix).toContain(`cellctl migrate resume ${running.id}`);
    expect((await cli(ws.home, ['health'])).code).toBe(3);
    await cliOk(ws.home, ['migrate', 'resume', String(running.id)]);
    expect((await cli(ws.home, ['health'])).code).toBe(0);
    await cliOk(ws.home, ['stop']);
  });
});

describe('placement reaches only cells that have run healthy', () => {
  it('a created but never started cell gets no new customers; once started it does', async () => {
    const ws = await shop(['c1', 'c2']);
    await createCells(ws, 'ecommerce', ['c3']);
    const placed = async (prefix: string): Promise<string[]> => {
      const cells: string[] = [];
      for (let i = 0; i < 20; i += 1) {
        const created = await http('POST', `${ws.url}/api/customers/${prefix}-${i}`, shopper(`${prefix}-${i}`));
        expect(created.status, `${prefix}-${i}`).toBe(201);
        cells.push(created.headers.get('x-cellctl-cell')!);
      }
      return cells;
    };
    expect(await placed('early')).not.toContain('c3');
    expect((await cliJson(ws.home, ['route', 'early-x'])).cell).not.toBe('c3');
    await cliOk(ws.home, ['start', 'c3']);
    expect(await placed('late')).toContain('c3');
    await cliOk(ws.home, ['stop']);
  });
});

describe('placement keeps to the workspace template', () => {
  it('new customers land only in cells of the placement template; other cells by assign', async () => {
    const ws = await newWorkspace(fast);
    await createCells(ws, 'ecommerce', ['e1', 'e2']);
    await createCells(ws, 'basic', ['b1', 'b2']);
    await cliOk(ws.home, ['start']);
    const url = `http://127.0.0.1:${ws.routerPort}`;
    for (let i = 0; i < 16; i += 1) {
      const created = await http('POST', `${url}/api/customers/kind-${i}`, shopper(`kind-${i}`));
      expect(created.status, `kind-${i}`).toBe(201);
      expect(created.headers.get('x-cellctl-cell')).toMatch(/^e/);
    }
    expect((await cliJson(ws.home, ['status'])).placementTemplate).toBe('ecommerce');
    expect((await cliOk(ws.home, ['status'])).stdout).toContain('ecommerce');
    await cliOk(ws.home, ['assign', 'customer', 'plain', '--cell', 'b1']);
    expect((await cliJson(ws.home, ['route', 'plain'])).cell).toBe('b1');
    await cliOk(ws.home, ['stop']);
  });

  it('up on an existing workspace uses its placement template, not the default', async () => {
    const ws = await newWorkspace(fast);
    await cliOk(ws.home, ['create', 'first', '--template', 'basic', '--port', String(ws.routerPort + 10)]);
    await cliOk(ws.home, ['up', '--cells', '1', '--customers', '3']);
    const cells = await cliJson(ws.home, ['list']);
    expect(cells.map((cell: { template: string }) => cell.template)).toEqual(['basic', 'basic']);
    await cliOk(ws.home, ['stop']);
  });
});

describe('naming a process touches only that process', () => {
  it('restart router restarts only the router; start router starts no stopped cell', async () => {
    const ws = await newWorkspace(fast);
    await createCells(ws, 'basic', ['c1', 'c2']);
    await cliOk(ws.home, ['start']);
    await cliOk(ws.home, ['stop', 'c2']);
    const before = await cliJson(ws.home, ['status']);
    await cliOk(ws.home, ['restart', 'router']);
    const after = await cliJson(ws.home, ['status']);
    expect(after.router.pid).not.toBe(before.router.pid);
    expect(after.cells.map((cell: { id: string; state: string; pid: number | null }) => [cell.id, cell.state, cell.pid])).toEqual([
      ['c1', 'running', before.cells[0].pid],
      ['c2', 'stopped', null],
    ]);
    await cliOk(ws.home, ['stop', 'router']);
    await cliOk(ws.home, ['start', 'router']);
    const started = await cliJson(ws.home, ['status']);
    expect(started.router.state).toBe('running');
    expect(started.cells.map((cell: { state: string; pid: number | null }) => [cell.state, cell.pid])).toEqual([
      ['running', before.cells[0].pid],
      ['stopped', null],
    ]);
    const typo = await cli(ws.home, ['stop', 'routr']);
    expect(typo.code).toBe(1); // not found, as for a cell, customer or migration
    expect(typo.stderr).toMatch(/router/);
    await cliOk(ws.home, ['stop']);
  });
});

describe('settings reach the running router', () => {
  it('config set auth jwt makes the running router require tokens at once, no cell restarted; status says what it enforces', async () => {
    const ws = await newWorkspace(fast);
    await createCells(ws, 'basic', ['c1']);
    await cliOk(ws.home, ['start']);
    const url = `http://127.0.0.1:${ws.routerPort}/api/customers/ann`;
    expect((await http('POST', url, { name: 'Ann', email: 'ann@example.com' })).status).toBe(201);
    const before = await cliJson(ws.home, ['status']);
    const set = await cliOk(ws.home, ['config', 'set', 'auth', 'jwt']);
    // Applied by this call, or a moment earlier by the router's own watch of cellctl.json.
    expect(set.stderr).toMatch(/running router (applied: auth|already enforces)/);
    expect((await http('GET', url)).status).toBe(401);
    const token = (await cliOk(ws.home, ['token', 'ann'])).stdout.trim();
    expect((await http('GET', url, undefined, { authorization: `Bearer ${token}` })).status).toBe(200);
    const after = await cliJson(ws.home, ['status']);
    expect(after.router).toMatchObject({ auth: 'jwt', pid: before.router.pid, enforcing: { auth: 'jwt' } });
    expect(after.cells[0].pid).toBe(before.cells[0].pid);
    expect((await cliOk(ws.home, ['config', 'get', 'auth'])).stdout.trim()).toBe('jwt');
    expect((await cliJson(ws.home, ['config', 'view'])).limits.maxBodyBytes).toBe(1024 * 1024);

    // A hand edit reaches the router by its own watch of cellctl.json, but turning authentication off
    // is never applied on the fly: the router keeps requiring tokens until it is restarted.
    const file = path.join(ws.home, 'cellctl.json');
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), auth: 'none' }, null, 2));
    await waitFor('the router to hold the edit for a restart', async () => (await cliJson(ws.home, ['status'])).router.enforcing.needsRestart.includes('auth'));
    expect((await http('GET', url)).status).toBe(401);
    expect((await cliJson(ws.home, ['status'])).router.enforcing.auth).toBe('jwt');
    await cliOk(ws.home, ['restart', 'router']);
    expect((await http('GET', url)).status).toBe(200);
    expect((await cliJson(ws.home, ['status'])).router.enforcing.auth).toBe('none');
    await cliOk(ws.home, ['stop']);
  });

  it('refuses an invalid value or an unknown name as a usage error that says the file is unchanged, in the words of config get', async () => {
    const ws = await newWorkspace();
    const file = path.join(ws.home, 'cellctl.json');
    const before = fs.readFileSync(file, 'utf8');
    const bad = await cli(ws.home, ['config', 'set', 'auth', 'sometimes']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error: auth sometimes is refused (auth: must be one of "none", "jwt"); cellctl.json is unchanged\n');
    const big = await cli(ws.home, ['config', 'set', 'limits.maxBodyBytes', 'big']);
    expect(big.code).toBe(2);
    expect(big.stderr).toMatch(/^error: limits\.maxBodyBytes big is refused \(limits\.maxBodyBytes: .*\); cellctl\.json is unchanged\n$/);
    const unknown = await cli(ws.home, ['config', 'set', 'limits.nope', '1']);
    const unknownGet = await cli(ws.home, ['config', 'get', 'limits.nope']);
    expect([unknown.code, unknown.stderr]).toEqual([2, 'error: no setting named "limits.nope": "cellctl config view" lists them\n']);
    expect([unknownGet.code, unknownGet.stderr]).toEqual([unknown.code, unknown.stderr]);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    // A file broken by hand is still named, with its field.
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(before), auth: 'sometimes' }, null, 2));
    const broken = await cli(ws.home, ['config', 'view']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/cellctl\.json is invalid: auth: must be one of "none", "jwt"/);
  });
});

/** Local addresses that listen on `port` (from /proc/net/tcp: no traffic needed). */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return fs
    .readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A')
    .map((fields) => fields[1]!.split(':')[0]!);
}

describe('where the router listens', () => {
  it('binds 127.0.0.1 by default; routerHost exposes it, with a warning while auth is none', async () => {
    const ws = await newWorkspace(fast);
    await createCells(ws, 'basic', ['c1']);
    const start = await cliOk(ws.home, ['start']);
    expect(start.stderr).not.toMatch(/warning/);
    expect(listeners(ws.routerPort)).toEqual(['0100007F']);
    const set = await cliOk(ws.home, ['config', 'set', 'routerHost', '0.0.0.0']);
    expect(set.stderr).toMatch(/warning: .*auth/);
    expect(set.stderr).toMatch(/restart router/);
    // What waits for a restart is not also called enforced.
    expect(set.stderr).not.toMatch(/already enforces/);
    expect((await cliJson(ws.home, ['status'])).router.enforcing.needsRestart).toEqual(['routerHost']);
    const restart = await cliOk(ws.home, ['restart', 'router']);
    expect(restart.stderr).toMatch(/warning: .*auth/);
    expect(listeners(ws.routerPort)).toEqual(['00000000']);
    await cliOk(ws.home, ['stop']);
  });
});

describe('one customer in full, and a mapping that points nowhere', () => {
  it('customers show tells mapping, rows and moves; unassign removes an empty mapping and refuses one with rows or a running move; audit names the fix', async () => {
    const ws = await shop(['c1', 'c2']);
    expect((await http('POST', `${ws.url}/api/customers/gone`, shopper('gone'))).status).toBe(201);
    expect((await http('DELETE', `${ws.url}/api/customers/gone`)).status).toBe(200);
    await cliOk(ws.home, ['assign', 'customer', 'ghost', '--cell', 'c1']);
    expect((await http('POST', `${ws.url}/api/customers/real`, shopper('real'))).status).toBe(201);

    const audit = await cli(ws.home, ['audit', '--json']);
    expect(audit.code).toBe(4);
    const findings = JSON.parse(audit.stdout).findings as { customerId: string; advice: string }[];
    expect(findings.map((f) => f.customerId)).toEqual(['ghost', 'gone']);
    for (const finding of findings) expect(finding.advice).toContain(`cellctl customers unassign ${finding.customerId}`);

    const real = await cliJson(ws.home, ['customers', 'show', 'real']);
    expect(real.cell).toMatch(/^c[12]$/);
    expect(real.rows[real.cell]).toMatchObject({ customers: 1 });
    const gone = await cliJson(ws.home, ['customers', 'show', 'gone']);
    expect(gone).toMatchObject({ cell: expect.any(String), rows: {} });

    const refused = await cli(ws.home, ['customers', 'unassign', 'real']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/--force/);
    expect((await cliJson(ws.home, ['route', 'real'])).rule).toBe('mapping');

    await cliOk(ws.home, ['customers', 'unassign', 'gone']);
    await cliOk(ws.home, ['unassign', 'customer', 'ghost']);
    expect((await cli(ws.home, ['audit'])).code).toBe(0);
    expect((await cliJson(ws.home, ['customers'])).map((c: { id: string }) => c.id)).toEqual(['real']);

    const target = real.cell === 'c1' ? 'c2' : 'c1';
    expect((await cli(ws.home, ['migrate', 'customer', 'real', '--to', target], { CELLCTL_FAULT_AFTER_STEP: 'fenced' })).code).not.toBe(0);
    const moving = await cli(ws.home, ['customers', 'unassign', 'real', '--force']);
    expect(moving.code).toBe(1);
    expect(moving.stderr).toMatch(/migration \d+/);
    const [running] = await cliJson(ws.home, ['migrate', 'list', '--state', 'running']);
    await cliOk(ws.home, ['migrate', 'resume', String(running.id)]);
    expect((await cliJson(ws.home, ['customers', 'show', 'real'])).moves[0]).toMatchObject({ id: running.id, to: target, state: 'done' });
    await cliOk(ws.home, ['stop']);
  });
});

describe('Prometheus', () => {
  it('metrics --prometheus and the router scrape target give one valid exposition for the whole system', async () => {
    const ws = await newWorkspace(fast);
    await createCells(ws, 'basic', ['c1', 'c2']);
    await cliOk(ws.home, ['start']);
    expect((await http('POST', `http://127.0.0.1:${ws.routerPort}/api/customers/p1`, { name: 'P', email: 'p@example.com' })).status).toBe(201);
    const printed = (await cliOk(ws.home, ['metrics', '--prometheus'])).stdout;
    expect(expositionProblems(printed)).toEqual([]);
    for (const cell of ['c1', 'c2']) expect(printed).toContain(`cellctl_cell_up{cell="${cell}"} 1`);
    expect(printed).toMatch(/^cellctl_router_requests_total\{/m);

    // The scrape target: the admin port's /metrics, no token.
    const scraped = await fetch(`http://127.0.0.1:${ws.adminPort}/metrics`);
    expect(scraped.status).toBe(200);
    const text = await scraped.text();
    expect(expositionProblems(text)).toEqual([]);
    expect(text).toContain('cellctl_cell_up{cell="c2"} 1');
    expect((await http('GET', `http://127.0.0.1:${ws.adminPort}/admin/stats`)).status).toBe(401);
    // Only for requests that name this machine: a page of another site that rebinds its DNS name to
    // 127.0.0.1 sends that name as Host, and is refused.
    const scrapeAs = async (host: string) => {
      const { text } = await rawHttp(ws.adminPort, `GET /metrics HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`);
      return statusesIn(text)[0];
    };
    expect(await scrapeAs('attacker.example:80')).toBe(403);
    expect(await scrapeAs(`127.0.0.1:${ws.adminPort}`)).toBe(200);
    expect(await scrapeAs(`localhost:${ws.adminPort}`)).toBe(200);
    expect(await scrapeAs(`${os.hostname()}:${ws.adminPort}`)).toBe(200);

    await cliOk(ws.home, ['stop', 'c2']);
    const partial = await (await fetch(`http://127.0.0.1:${ws.adminPort}/metrics`)).text();
    expect(expositionProblems(partial)).toEqual([]);
    expect(partial).toContain('cellctl_cell_up{cell="c2"} 0');
    await cliOk(ws.home, ['stop']);
  });
});

describe('smaller truths', () => {
  it('migrate show names a migration id, a too-high router port is one clear line, hints say npx cellctl and move elsewhere', async () => {
    const ws = await newWorkspace();
    const show = await cli(ws.home, ['migrate', 'show', 'abc']);
    expect(show.code).toBe(2);
    expect(show.stderr).toMatch(/not a migration id/);
    const high = await cli(path.join(path.dirname(ws.home), 'high'), ['init', '--router-port', '65436']);
    expect(high.code).toBe(2);
    expect(high.stderr.trim().split('\n')).toHaveLength(1);
    expect(high.stderr).toMatch(/--router-port 65436/);

    const up = await cliOk(ws.home, ['up', '--cells', '2', '--customers', '2', '--template', 'basic'], { PATH: path.dirname(process.execPath) });
    const route = await cliJson(ws.home, ['route', 'c-0001']);
    expect(up.stderr).toContain('npx cellctl');
    const move = /migrate customer c-0001 --to (\S+)/.exec(up.stderr);
    expect(move?.[1]).toBeDefined();
    expect(move![1]).not.toBe(route.cell);
    await cliOk(ws.home, ['stop']);
  });

  it('start names the router admin port when something else holds it', async () => {
    const ws = await newWorkspace(fast);
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(ws.adminPort, '127.0.0.1', () => resolve()));
    try {
      const start = await cli(ws.home, ['start', '--timeout', '20']);
      expect(start.code).toBe(1);
      expect(start.stderr).toMatch(new RegExp(`admin port \\(routerAdminPort\\) ${ws.adminPort} is already in use`));
    } finally {
      squatter.close();
      await cli(ws.home, ['stop']);
    }
  });

  it('templatePaths takes a template folder itself and warns about a missing one', async () => {
    const ws = await newWorkspace({ templatePaths: [path.join(FIXTURES, 'templates', 'notes'), path.join(FIXTURES, 'nope')] });
    const listed = await cliOk(ws.home, ['templates', '--json']);
    expect(JSON.parse(listed.stdout).map((row: { name: string }) => row.name)).toContain('notes');
    expect(listed.stderr).toMatch(/nope.*does not exist/);
  });

  it('status --watch into a pipe writes no screen codes, and Ctrl-C exits 130', async () => {
    const ws = await newWorkspace();
    const watch = track(spawn(process.execPath, [CLI, '--home', ws.home, 'status', '--watch'], { env: { ...process.env, NO_COLOR: '1' } }));
    let frames = '';
    watch.stdout!.on('data', (chunk) => (frames += chunk));
    await waitFor('two frames', () => (frames.match(/supervisor/g) ?? []).length >= 2, 15_000);
    watch.kill('SIGINT');
    expect(await new Promise((resolve) => watch.once('exit', (code) => resolve(code)))).toBe(130);
    expect(frames).not.toContain('\x1b');
  });

  it('drill kill on a cell without customers does not report a failed recovery', async () => {
    const ws = await newWorkspace(fast);
    await createCells(ws, 'basic', ['c1', 'c2']);
    await cliOk(ws.home, ['start']);
    await cliOk(ws.home, ['assign', 'customer', 'only', '--cell', 'c1']);
    const drill = await cli(ws.home, ['drill', 'kill', 'c2', '--duration', '2', '--json']);
    expect(drill.code, drill.stderr).toBe(0);
    expect(JSON.parse(drill.stdout)).toMatchObject({ victim: 'c2', recoveryMeasured: false, contained: true });
    await cliOk(ws.home, ['stop']);
  });
});

describe('people read it', () => {
  it('logs reads as time, level, message (raw with --json), --all interleaves every process, --since filters; events --watch; version; completion', async () => {
    const ws = await newWorkspace(fast);
    await createCells(ws, 'basic', ['c1']);
    await cliOk(ws.home, ['start']);
    const pretty = (await cliOk(ws.home, ['logs', 'supervisor', '-n', '5'])).stdout.trim().split('\n');
    for (const line of pretty) expect(line).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} (INFO|WARN|ERROR|DEBUG) /);
    const raw = (await cliOk(ws.home, ['logs', 'supervisor', '-n', '5', '--json'])).stdout.trim().split('\n');
    for (const line of raw) expect(typeof JSON.parse(line).msg).toBe('string');
    const all = (await cliOk(ws.home, ['logs', '--all', '-n', '200'])).stdout.trim().split('\n');
    for (const name of ['supervisor', 'router', 'c1']) expect(all.some((line) => line.includes(`[${name}]`))).toBe(true);
    const times = all.map((line) => line.slice(0, 23)).filter((time) => /^\d{4}-/.test(time));
    expect(times).toEqual([...times].sort());
    expect((await cliOk(ws.home, ['logs', '--all', '--since', '2099-01-01T00:00:00Z'])).stdout).toBe('');

    const watch = track(
      spawn(process.execPath, [CLI, '--home', ws.home, 'events', '--watch', '--json', '-n', '1'], { env: { ...process.env, NO_COLOR: '1' } }),
    );
    let seen = '';
    watch.stdout!.on('data', (chunk) => (seen += chunk));
    await waitFor('the latest event', () => seen.includes('\n'));
    await cliOk(ws.home, ['stop', 'c1']);
    await waitFor('the stop, watched', () => seen.split('\n').some((line) => line.includes('"process.stopped"') && line.includes('"c1"')));
    watch.kill('SIGINT');
    expect(await new Promise((resolve) => watch.once('exit', (code) => resolve(code)))).toBe(130);

    const version = JSON.parse(fs.readFileSync(path.join(path.dirname(CLI), '..', 'package.json'), 'utf8')).version;
    expect((await cliOk(null, ['version'])).stdout).toContain(version);
    const script = (await cliOk(null, ['completion', 'bash'])).stdout;
    const file = path.join(path.dirname(ws.home), 'completion.bash');
    fs.writeFileSync(file, script);
    const completed = await new Promise<string>((resolve) => {
      const shell = spawn('bash', [
        '-c',
        `source ${file}; COMP_WORDS=(cellctl sta); COMP_CWORD=1; _cellctl; echo "\${COMPREPLY[@]}"; COMP_WORDS=(cellctl logs --a); COMP_CWORD=2; _cellctl; echo "\${COMPREPLY[@]}"`,
      ]);
      let out = '';
      shell.stdout.on('data', (chunk) => (out += chunk));
      shell.once('exit', () => resolve(out));
    });
    expect(completed.split('\n')[0]!.split(' ').sort()).toEqual(['start', 'status']);
    expect(completed.split('\n')[1]).toBe('--all');
    await cliOk(ws.home, ['stop']);
  });

  it('on an 80-column terminal every table fits, never breaking a URL or a command; into a pipe nothing wraps; -o wide shows every column', async () => {
    const ws = await newWorkspace();
    await createCells(ws, 'ecommerce', ['cell-1', 'cell-2']);
    const long = 'a.customer.with.a.rather.long.id.for.its.own.good@example.com';
    await cliOk(ws.home, ['assign', 'customer', long, '--cell', 'cell-1']);
    expect((await cliOk(ws.home, ['status', '-o', 'wide'])).stdout).toMatch(/uptime.*restarts/);
    expect((await cli(ws.home, ['status', '-o', 'tall'])).code).toBe(2);
    const tables = [['status'], ['list'], ['templates'], ['customers'], ['events'], ['audit']];
    if (TERMINAL_SKIP) console.warn(`tables on a terminal not checked: ${TERMINAL_SKIP}`);
    else
      for (const args of tables) {
        const out = await onTerminal(ws.home, args, 80);
        expect(out.length, args.join(' ')).toBeGreaterThan(0);
        const tableLines = out.split('\n').filter((line) => /^[┌│├└]/.test(line));
        expect(tableLines.length, args.join(' ')).toBeGreaterThan(0);
        for (const line of tableLines) expect(line.length, `${args.join(' ')}: ${line}`).toBeLessThanOrEqual(80);
        // A command to copy is never cut, in a table or under it.
        if (args[0] === 'audit') expect(out).toContain(`"cellctl customers unassign ${long}"`);
      }
    // Into a pipe: each row on one line, the long id whole on it.
    const customers = (await cliOk(ws.home, ['customers'])).stdout;
    expect(customers.split('\n').filter((line) => line.includes(long))).toHaveLength(1);
  });
});
