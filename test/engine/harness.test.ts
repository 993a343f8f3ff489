// The engine-test harness itself: two private dockerds side by side, each with its own socket,
// folder and address pool; stop() leaves no process, mount, folder or pool claim; and the suite's
// teardown catches a dockerd a run left running (with its containers and mounts), and fails the run,
// without touching another run's engine.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, FIXTURES, mountsUnder, ROOT, runDir, track, withDescendants } from '../helpers.js';
import { type Engine, engineUnavailable, startDockerd } from './engine.js';

const why = engineUnavailable();
if (why) console.warn(`engine tests skipped: ${why}`);

const alive = (pid: number): boolean => {
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
};

/** The /16 a subnet lies in, as `10.x.0.0/16`. */
const sixteenOf = (subnet: string): string => `${subnet.split('.').slice(0, 2).join('.')}.0.0/16`;

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
    expect(below.filter(alive)).toEqual([]);
    expect(mountsUnder(a!.dir)).toEqual([]);
    expect(fs.existsSync(a!.dir)).toBe(false);
    expect(fs.existsSync(`/tmp/cellctl-engine-pools/${a!.pool.split('.')[1]}`)).toBe(false);
    // The other engine is untouched.
    expect((await b!.docker(['info', '--format', '{{.ServerVersion}}'])).code).toBe(0);
  });

  it("the suite's teardown kills a dockerd left running with its containers, unmounts, fails the run, and leaves other runs' engines alone", async () => {
    const outer = await startDockerd('outer');
    engines.push(outer);
    // Short: containerd's socket path must fit in 107 bytes, under two run folders.
    const tmp = fs.mkdtempSync(path.join(runDir(), 'g'));
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
    const vitest = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
    const config = path.join(FIXTURES, 'engine-guard', 'vitest.config.ts');
    const child = track(
      spawn(process.execPath, [vitest, 'run', '--config', config], {
        cwd: ROOT,
        env: { ...env, TMPDIR: tmp, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

    const left = /left running: dockerd (\d+) in (\S+) with pool (\S+); container process (\d+)/.exec(output);
    expect(left, output).not.toBeNull();
    const [, dockerd, dir, pool, container] = left!;
    expect(code, output).not.toBe(0);
    expect(output).toMatch(new RegExp(`processes left running after the suite \\(now killed\\): .*\\b${dockerd}\\b`));
    expect(output).toMatch(new RegExp(`processes left running after the suite \\(now killed\\): .*\\b${container}\\b`));
    expect(output).toContain('mounts left after the suite (now unmounted)');
    expect(output).toContain(`engine address pools left claimed after the suite (now released): ${pool}`);
    expect([dockerd, container].map(Number).filter(alive)).toEqual([]);
    expect(mountsUnder(tmp)).toEqual([]);
    expect(fs.existsSync(dir!)).toBe(false);
    expect(fs.readdirSync(tmp)).toEqual([]);
    // This run's engine, in another run's folder as the nested run sees it, still serves.
    expect((await outer.docker(['info', '--format', '{{.ServerVersion}}'])).code).toBe(0);
    expect(alive(outer.pid)).toBe(true);
  });
});
