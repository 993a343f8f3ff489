// The engine-test harness itself: two private dockerds side by side, each with its own socket,
// folder and address pool; stop() leaves no process, mount, folder or pool claim; and the suite's
// teardown catches a dockerd a run left running (with its containers and mounts), and fails the run,
// without touching another run's engine — also one left in a simulated host by a test file that crashed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, FIXTURES, isAlive, mountsUnder, ROOT, runDir, track, withDescendants } from '../helpers.js';
import { hostsUnavailable, listNamespaces } from '../hosts/netns.js';
import { type Engine, engineUnavailable, startDockerd } from './engine.js';

const why = engineUnavailable();
if (why) console.warn(`engine tests skipped: ${why}`);

/** The /16 a subnet lies in, as `10.x.0.0/16`. */
const sixteenOf = (subnet: string): string => `${subnet.split('.').slice(0, 2).join('.')}.0.0/16`;

/**
 * A nested vitest run of a fixture folder's config, with the suite's global setup and teardown, in
 * `tmp` (its TMPDIR: short, as containerd's socket path must fit in 107 bytes under two run folders).
 */
async function nestedRun(fixtures: string, tmp: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
  const vitest = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
  const config = path.join(FIXTURES, fixtures, 'vitest.config.ts');
  const child = track(
    spawn(process.execPath, [vitest, 'run', '--config', config], {
      cwd: ROOT,
      env: { ...env, ...extraEnv, TMPDIR: tmp, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, output };
}

describe.skipIf(why !== null)('the engine-test harness', () => {
  const engines: Engine[] = [];
  afterAll(async () => {
    await Promise.all(engines.map((engine) => engine.stop()));
    await cleanup();
  });

  it('runs two dockerds side by side, each on its own socket and pool; stop() leaves nothing behind', async () => {
    const [a, b] = await Promise.all([startDockerd('a'), startDockerd('b')]);
    engines.push(a!, b!);
    expect(a!.pool).not.toBe(b!.pool);
    expect(a!.host).not.toBe(b!.host);
    for (const engine of [a!, b!]) {
      const made = await engine.docker(['network', 'create', 'n']);
      expect(made.code, made.stderr).toBe(0);
      const subnet = (await engine.docker(['network', 'inspect', 'n', '--format', '{{(index .IPAM.Config 0).Subnet}}'])).stdout.trim();
      expect(sixteenOf(subnet)).toBe(engine.pool);
      expect((await engine.docker(['info', '--format', '{{.DockerRootDir}}'])).stdout.trim()).toBe(path.join(engine.dir, 'data'));
    }
    const below = withDescendants([a!.pid]);
    expect(below.length).toBeGreaterThan(1); // dockerd and its containerd
    await a!.stop();
    expect(below.filter(isAlive)).toEqual([]);
    expect(mountsUnder(a!.dir)).toEqual([]);
    expect(fs.existsSync(a!.dir)).toBe(false);
    expect(fs.existsSync(`/tmp/cellctl-engine-pools/${a!.pool.split('.')[1]}`)).toBe(false);
    // The other engine is untouched.
    expect((await b!.docker(['info', '--format', '{{.ServerVersion}}'])).code).toBe(0);
  });

  it("the suite's teardown kills a dockerd left running with its containers, unmounts, fails the run, and leaves other runs' engines alone", async () => {
    const outer = await startDockerd('outer');
    engines.push(outer);
    const tmp = fs.mkdtempSync(path.join(runDir(), 'g'));
    const { code, output } = await nestedRun('engine-guard', tmp);

    const left = /left running: dockerd (\d+) in (\S+) with pool (\S+); container process (\d+)/.exec(output);
    expect(left, output).not.toBeNull();
    const [, dockerd, dir, pool, container] = left!;
    expect(code, output).not.toBe(0);
    expect(output).toMatch(new RegExp(`processes left running after the suite \\(now killed\\): .*\\b${dockerd}\\b`));
    expect(output).toMatch(new RegExp(`processes left running after the suite \\(now killed\\): .*\\b${container}\\b`));
    expect(output).toContain('mounts left after the suite (now unmounted)');
    expect(output).toContain(`engine address pools left claimed after the suite (now released): ${pool}`);
    expect([dockerd, container].map(Number).filter(isAlive)).toEqual([]);
    expect(mountsUnder(tmp)).toEqual([]);
    expect(fs.existsSync(dir!)).toBe(false);
    expect(fs.readdirSync(tmp)).toEqual([]);
    // This run's engine, in another run's folder as the nested run sees it, still serves.
    expect((await outer.docker(['info', '--format', '{{.ServerVersion}}'])).code).toBe(0);
    expect(isAlive(outer.pid)).toBe(true);
  });

  it.skipIf(hostsUnavailable() !== null)(
    "the suite's teardown kills a dockerd a crashed test file left in a simulated host, with its container, namespaces, mounts and pool, and fails the run",
    async () => {
      const tmp = fs.mkdtempSync(path.join(runDir(), 'h'));
      const report = path.join(tmp, 'report.json');
      const { code, output } = await nestedRun('swarm-guard', tmp, { GUARD_REPORT: report });
      expect(fs.existsSync(report), output).toBe(true);
      const left = JSON.parse(fs.readFileSync(report, 'utf8')) as { dockerd: number; dir: string; pool: string; container: number; namespace: string };
      expect(code, output).not.toBe(0);
      for (const pid of [left.dockerd, left.container])
        expect(output).toMatch(new RegExp(`processes left running after the suite \\(now killed\\): .*\\b${pid}\\b`));
      expect(output).toMatch(new RegExp(`network namespaces left after the suite \\(now deleted\\): .*${left.namespace}`));
      expect(output).toContain('mounts left after the suite (now unmounted)');
      expect(output).toContain(`engine address pools left claimed after the suite (now released): ${left.pool}`);
      expect([left.dockerd, left.container].filter(isAlive)).toEqual([]);
      expect(listNamespaces().filter((ns) => ns.startsWith(left.namespace.replace(/A$/, '')))).toEqual([]);
      expect(mountsUnder(tmp)).toEqual([]);
      expect(fs.existsSync(left.dir)).toBe(false);
      expect(fs.readdirSync(tmp)).toEqual(['report.json']);
    },
  );
});
