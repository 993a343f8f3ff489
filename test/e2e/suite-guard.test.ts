// The suite's own guard (test/global-setup.ts), run as a nested vitest on the fixture tests of
// test/fixtures/suite-guard with a temporary folder of its own (TMPDIR): a run that leaves a process
// behind fails and says which, one that does not passes, each run keeps its test folders in a run
// folder it removes at the end, and a run's teardown leaves another run's processes alone.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, FIXTURES, isAlive, ROOT, tempDir, track } from '../helpers.js';

const CONFIG = path.join(FIXTURES, 'suite-guard', 'vitest.config.ts');
const VITEST = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
/** A nested run starts vitest and one fixture file: slow on a loaded machine, never close to this. */
const NESTED_MS = 240_000;

interface NestedRun {
  code: number | null;
  output: string;
}

/** `vitest run` of one fixture file with `tmp` as its temporary folder; its exit code and all it printed. */
function nestedRun(tmp: string, fixture: string): Promise<NestedRun> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
  const child = track(
    spawn(process.execPath, [VITEST, 'run', '--config', CONFIG, path.join('test', 'fixtures', 'suite-guard', fixture)], {
      cwd: ROOT,
      env: { ...env, TMPDIR: tmp, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

/** Other runs' folders in the nested run's temporary folder: this version's run folder, and an earlier version's test folder. */
const OTHERS = [path.join('cellctl-run-other', 'cellctl-test-home'), 'cellctl-test-other'];

/** A process in each of OTHERS, as another run's tests start them (a workspace's CELLCTL_HOME). */
function otherRunsProcesses(tmp: string): number[] {
  return OTHERS.map((folder) => {
    const home = path.join(tmp, folder);
    fs.mkdirSync(home, { recursive: true });
    return track(spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { env: { ...process.env, CELLCTL_HOME: home }, stdio: 'ignore' })).pid!;
  });
}

/** The folders a nested run left in its temporary folder, but for the other runs'. */
const leftFolders = (tmp: string): string[] => fs.readdirSync(tmp).filter((name) => !OTHERS.some((folder) => folder.split(path.sep)[0] === name));

describe("the suite's guard against processes left running", () => {
  afterAll(cleanup);

  it(
    "fails a run that leaves a process, kills it, and leaves other runs' processes alone",
    async () => {
      const tmp = tempDir();
      const others = otherRunsProcesses(tmp);
      const run = await nestedRun(tmp, 'leaves-a-process.fixture.ts');
      const left = /left running: (\d+) in (\S+)/.exec(run.output);
      expect(left, run.output).not.toBeNull();
      const [, pid, home] = left!;
      expect(run.code, run.output).not.toBe(0);
      expect(run.output).toContain(`processes left running after the suite (now killed): ${pid}`);
      // The fixture's test folder is in a run folder of its own, which the teardown removes.
      expect(path.relative(tmp, home!)).toMatch(/^cellctl-run-[^/]+\/cellctl-test-/);
      expect(isAlive(Number(pid))).toBe(false);
      expect(others.filter(isAlive)).toEqual(others);
      expect(leftFolders(tmp)).toEqual([]);
    },
    NESTED_MS,
  );

  it(
    "passes a run that stops what it started, and leaves other runs' processes alone",
    async () => {
      const tmp = tempDir();
      const others = otherRunsProcesses(tmp);
      const run = await nestedRun(tmp, 'cleans-up.fixture.ts');
      expect(run.output).toMatch(/started: \d+ in /);
      expect(run.output).not.toContain('left running');
      expect(run.code, run.output).toBe(0);
      expect(others.filter(isAlive)).toEqual(others);
      expect(leftFolders(tmp)).toEqual([]);
    },
    NESTED_MS,
  );
});
