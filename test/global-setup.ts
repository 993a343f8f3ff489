// Before the suite: the build must exist, and the run gets a folder of its own that every test folder
// goes in (helpers.ts tempDir, pg.ts, test/engine's dockerds). After it: no process started under that
// folder may be left, nor anything mounted in it; whatever is, is killed (with every process below
// it: a dockerd's containerd, shims and containers) or unmounted, and fails the run. Other runs on the
// machine (their own folders, network namespaces, dockerds and address pools) are left alone.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { releasePools } from './engine/pools.js';
import { CLI, killAndWait, processesUnder, ROOT, RUN_DIR_ENV, RUN_PREFIX, unmountUnder, withDescendants } from './helpers.js';
import { sweepHosts } from './hosts/netns.js';

/** This run's folder, once setup made it (not read back from the environment: that may name an outer run's). */
let run: string | null = null;

export function setup(): void {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error(`no build: run "npm run build" first (${CLI} needs dist/)`);
  // Always a new folder, even when started from another run (whose folder the environment names).
  run = fs.mkdtempSync(path.join(os.tmpdir(), RUN_PREFIX));
  // Searchable by others: a test PostgreSQL runs as the `postgres` user in a folder of its own inside.
  fs.chmodSync(run, 0o711);
  // The workers and everything they start inherit these.
  process.env[RUN_DIR_ENV] = run;
  // Simulated hosts (test/hosts) are named after the run, so the teardown below finds them.
  process.env.CELLCTL_HOSTS_RUN = String(process.pid);
}

/**
 * Vitest logs an error thrown here and still exits 0, so a leftover fails the run by the exit code
 * (vitest leaves process.exitCode as set and lets the process end by itself).
 */
export async function teardown(): Promise<void> {
  if (run === null) return;
  // Processes first: a dockerd left in a simulated host (test/engine/swarm.ts) has containers in
  // namespaces of their own, found below its shims only while those live.
  const leftovers = withDescendants(processesUnder(run));
  await killAndWait(leftovers, 10_000);
  const namespaces = sweepHosts(String(process.pid));
  const mounts = unmountUnder(run);
  const pools = releasePools(run);
  fs.rmSync(run, { recursive: true, force: true, maxRetries: 3 });
  const problems = [
    ...(namespaces.length > 0 ? [`network namespaces left after the suite (now deleted): ${namespaces.join(', ')}`] : []),
    ...(leftovers.length > 0 ? [`processes left running after the suite (now killed): ${leftovers.join(', ')}`] : []),
    ...(mounts.length > 0 ? [`mounts left after the suite (now unmounted): ${mounts.join(', ')}`] : []),
    ...(pools.length > 0 ? [`engine address pools left claimed after the suite (now released): ${pools.join(', ')}`] : []),
  ];
  if (problems.length === 0) return;
  process.exitCode = 1;
  console.error(`\n FAIL  the suite's teardown (test/global-setup.ts):\n${problems.map((line) => `  ${line}`).join('\n')}\n`);
}
