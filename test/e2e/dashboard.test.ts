// The dashboard in a real headless Chromium (Debian's chromium, driven by playwright-core) against
// a real system: cells listed, a killed cell seen going unhealthy and back, a move seen in progress
// then done, an interrupted one marked with its fix, the customer search after the move, the token
// refused when missing, axe-core at both widths, and Ctrl-C.
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cli, cliJson, cleanup, http, ROOT, type RunningSystem, spawnTracked, startSystem, waitFor } from '../helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const skipReason = fs.existsSync(CHROMIUM) ? null : `no ${CHROMIUM} (apt-get install chromium; .ci/run does)`;
if (skipReason) console.warn(`skipping the dashboard browser tests: ${skipReason}`);

/** Long enough for a page sampling once a second to see the killed cell down before its restart. */
const BACKOFF_MS = 3_000;
const WIDE = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 800 };

let system: RunningSystem;
let dashboard: ChildProcess;
let url: string;
let browser: Browser;
let page: Page;
let screens: string;
/** Where the move test left alice, for the search test. */
let movedTo: string;

/** The page script is built by its own tsconfig (npm run build); build it here when it is stale. */
function buildPage(): void {
  const built = path.join(ROOT, 'dist', 'dashboard', 'page', 'app.js');
  const source = path.join(ROOT, 'src', 'dashboard', 'page', 'app.ts');
  if (fs.existsSync(built) && fs.statSync(built).mtimeMs >= fs.statSync(source).mtimeMs) return;
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'tsconfig.page.json')]);
}

async function startDashboard(home: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawnTracked(process.execPath, [CLI, '--home', home, 'dashboard'], { NO_COLOR: '1' });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const found = await waitFor('the dashboard to print its URL', () => /^(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m.exec(out)?.[1]);
  return { child, url: found };
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(screens, `${name}.png`), fullPage: true });
}

/** axe-core's serious and critical violations on the page as it is now. */
async function seriousViolations(): Promise<string[]> {
  const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
  await page.addScriptTag({ path: axePath });
  const results = (await page.evaluate(() => (globalThis as unknown as { axe: { run(): Promise<unknown> } }).axe.run())) as {
    violations: { id: string; impact: string | null; nodes: { target: unknown }[] }[];
  };
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${JSON.stringify(v.nodes.map((n) => n.target))}`);
}

const tile = (id: string, health: string) => `[data-tile="${id}"][data-health="${health}"]`;

describe.skipIf(skipReason !== null)('the dashboard in a browser', () => {
  beforeAll(async () => {
    buildPage();
    screens = fs.mkdtempSync(path.join(os.tmpdir(), 'cellctl-dashboard-screens-'));
    system = await startSystem('basic', ['c1', 'c2'], { supervisor: { backoffInitialMs: BACKOFF_MS } });
    for (const id of ['alice', 'bob', 'carol']) {
      expect((await http('POST', `${system.url}/api/customers/${id}`, { name: id, email: `${id}@example.com` })).status).toBe(201);
    }
    ({ child: dashboard, url } = await startDashboard(system.home));
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM });
    // The page's CSP allows only its own scripts; axe-core is injected by the test.
    page = await (await browser.newContext({ viewport: WIDE, bypassCSP: true })).newPage();
    console.warn(`dashboard screenshots in ${screens}`);
  });

  afterAll(async () => {
    await browser?.close();
    await cleanup();
  });

  it('refuses every request without the token', async () => {
    const base = new URL(url).origin;
    for (const where of ['/', '/events', '/app.js', '/vendor/uPlot.iife.min.js', '/api/customers/alice']) {
      expect((await http('GET', `${base}${where}`)).status).toBe(401);
      expect((await http('GET', `${base}${where}?token=wrong`)).status).toBe(401);
    }
    expect((await http('GET', `${base}/api/customers/alice`, undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
    const token = new URL(url).searchParams.get('token')!;
    expect((await http('GET', `${base}/api/customers/alice`, undefined, { authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it('lists the running cells and the router, healthy, and passes axe-core at 1280 and at 375 wide', async () => {
    await page.goto(url);
    for (const id of ['c1', 'c2', 'router']) await page.waitForSelector(tile(id, 'healthy'));
    await page.waitForSelector('[data-tile="c1"] .chart canvas');
    const cells = await page.locator('#cells [data-tile]').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-tile')));
    expect(cells).toEqual(['c1', 'c2']);
    // The word, not only the colour.
    expect(await page.locator('[data-tile="c1"] .word').textContent()).toBe('healthy');
    await shot('cells-1280');
    expect(await seriousViolations()).toEqual([]);
    await page.setViewportSize(PHONE);
    // Nothing wider than the phone: no sideways scrolling.
    await page.waitForFunction('document.documentElement.scrollWidth <= window.innerWidth');
    await shot('cells-375');
    expect(await seriousViolations()).toEqual([]);
    await page.setViewportSize(WIDE);
  });

  it('shows a cell killed with kill -9 unhealthy, then healthy again within its restart', async () => {
    const status = await cliJson<{ cells: { id: string; pid: number }[] }>(system.home, ['status']);
    const pid = status.cells.find((cell) => cell.id === 'c1')!.pid;
    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();
    await page.waitForSelector(tile('c1', 'unhealthy'), { timeout: 20_000 });
    await shot('c1-killed');
    await page.waitForSelector(`${tile('c1', 'healthy')}:not([data-pid="${pid}"])`, { timeout: BACKOFF_MS + 20_000 });
    expect(Date.now() - killedAt).toBeLessThan(BACKOFF_MS + 20_000);
    expect(Number(await page.getAttribute('[data-tile="c1"]', 'data-restarts'))).toBeGreaterThanOrEqual(1);
    await page.waitForSelector('#events [data-kind="process.crashed"][data-subject="c1"]');
    await shot('c1-restarted');
  });

  it('keeps the crash on its tile and in the incidents strip, filters events by kind and subject, and counts refusals and 4xx by router', async () => {
    // The crash of the test before stays in view after the restart.
    await page.waitForSelector('[data-tile="c1"]:not([data-incidents="0"])');
    expect(await page.locator('[data-tile="c1"] [data-fact="incidents"]').textContent()).toMatch(
      /^\d+ crash\(es\) or restart\(s\) in the last hour, latest at /,
    );
    expect(await page.locator('[data-tile="c2"] [data-fact="incidents"]').textContent()).toBe('');
    await page.waitForSelector('#incidents-strip:not([hidden]) #incidents [data-kind="process.crashed"][data-subject="c1"]');
    expect(await page.locator('[data-tile="c1"] dt', { hasText: 'p99' }).textContent()).toBe('p99, last 10 s');

    await page.selectOption('#event-kind', 'process.crashed');
    await page.waitForFunction("[...document.querySelectorAll('#events li')].every((item) => item.dataset.kind === 'process.crashed')");
    expect(await page.locator('#events li').count()).toBeGreaterThan(0);
    await page.fill('#event-subject', 'c2');
    await page.waitForFunction("document.querySelectorAll('#events li').length === 0");
    await page.selectOption('#event-kind', '');
    await page.fill('#event-subject', '');
    await page.waitForSelector('#events li[data-kind="process.started"]');

    // A route no cell serves (the router refuses it: not_found) and a customer no cell has (its cell answers 404).
    expect((await http('GET', `${system.url}/nope`)).status).toBe(404);
    expect((await http('GET', `${system.url}/api/customers/nobody-at-all`)).status).toBe(404);
    await page.waitForSelector('#traffic-section:not([hidden]) #traffic tr[data-line="refused: not_found"]');
    const cell = (await cliJson<{ cell: string }>(system.home, ['route', 'nobody-at-all'])).cell;
    const fourxx = page.locator(`#traffic tr[data-line="${cell}: 4xx"] td`);
    await fourxx.first().waitFor();
    expect(Number(await fourxx.first().textContent())).toBeGreaterThanOrEqual(1);
    await shot('incidents-filters-traffic');
    expect(await seriousViolations()).toEqual([]);
  });

  it('shows a move started from the CLI in progress, then done', async () => {
    const from = (await cliJson<{ cell: string }>(system.home, ['route', 'alice'])).cell;
    const to = from === 'c1' ? 'c2' : 'c1';
    const pause = path.join(path.dirname(system.home), 'pause-alice');
    const move = cli(system.home, ['migrate', 'customer', 'alice', '--to', to], { CELLCTL_PAUSE_AFTER_STEP: 'verified', CELLCTL_PAUSE_FILE: pause });
    await waitFor('the move to reach "verified"', () => fs.existsSync(`${pause}.reached`));
    const running = '#moves [data-customer="alice"][data-progress="running"]';
    await page.waitForSelector(running);
    // The page may first show a sample taken before "verified" was journaled: wait for the step itself.
    await page.locator(running, { hasText: 'verified' }).waitFor();
    expect(Number(await page.getAttribute(`${running} progress`, 'value'))).toBeCloseTo(4 / 7);
    expect(await page.locator(running).textContent()).toContain('verified');
    await shot('move-in-progress');
    fs.writeFileSync(pause, '');
    expect((await move).code).toBe(0);
    await page.waitForSelector('#moves [data-customer="alice"][data-progress="done"]');
    expect(Number(await page.getAttribute('#moves [data-customer="alice"][data-progress="done"] progress', 'value'))).toBe(1);
    await shot('move-done');
    expect((await cliJson<{ cell: string }>(system.home, ['route', 'alice'])).cell).toBe(to);
    movedTo = to;
  });

  it('marks a move whose process died as interrupted, with the commands that finish it', async () => {
    const from = (await cliJson<{ cell: string }>(system.home, ['route', 'bob'])).cell;
    const pause = path.join(path.dirname(system.home), 'pause-bob');
    const move = cli(system.home, ['migrate', 'customer', 'bob', '--to', from === 'c1' ? 'c2' : 'c1'], {
      CELLCTL_PAUSE_AFTER_STEP: 'verified',
      CELLCTL_PAUSE_FILE: pause,
    });
    const pid = await waitFor('the move to reach "verified"', () => fs.existsSync(`${pause}.reached`) && Number(fs.readFileSync(`${pause}.reached`, 'utf8')));
    process.kill(pid, 'SIGKILL');
    await move;
    const interrupted = '#moves [data-customer="bob"][data-progress="interrupted"]';
    await page.waitForSelector(interrupted);
    const id = await page.getAttribute(interrupted, 'data-move');
    const commands = await page.locator(`${interrupted} code`).allTextContents();
    expect(commands).toEqual([`cellctl migrate resume ${id}`, `cellctl migrate abort ${id}`]);
    await shot('move-interrupted');
    await cliJson(system.home, ['migrate', 'abort', id!]);
    await page.waitForSelector(`#moves [data-move="${id}"][data-progress="aborted"]`);
  });

  it('finds a customer after its move: its new cell, the rule, and its rows there', async () => {
    const to = movedTo;
    await page.fill('#customer', 'alice');
    await page.click('#search button');
    await page.waitForSelector(`[data-customer="alice"][data-cell="${to}"]`);
    const result = await page.locator('#customer-result').textContent();
    expect(result).toContain('mapping');
    expect(result).toMatch(new RegExp(`${to}\\s*customers\\s*1`));
    await shot('search-after-move');
    expect(await seriousViolations()).toEqual([]);
  });

  it('stops on Ctrl-C with exit 130', async () => {
    const exited = new Promise<number | null>((resolve) => dashboard.once('exit', (code) => resolve(code)));
    dashboard.kill('SIGINT');
    expect(await exited).toBe(130);
  });
});
