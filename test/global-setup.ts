// Before the suite: the build must exist. After it: no process started by any test may be left.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, processesUnder, ROOT, TEST_PREFIX } from './helpers.js';
import { sweepHosts } from './hosts/netns.js';

export function setup(): void {
  // Simulated hosts (test/hosts) are named after the run, so the teardown below finds them.
  process.env.CELLCTL_HOSTS_RUN = String(process.pid);
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error(`no build: run "npm run build" first (${CLI} needs dist/)`);
}

export function teardown(): void {
  const namespaces = sweepHosts(String(process.pid));
  const leftovers = fs
    .readdirSync(os.tmpdir())
    .filter((name) => name.startsWith(TEST_PREFIX))
    .flatMap((name) => processesUnder(path.join(os.tmpdir(), name)));
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  if (namespaces.length > 0) throw new Error(`network namespaces left after the suite (now deleted): ${namespaces.join(', ')}`);
  if (leftovers.length > 0) throw new Error(`processes left running after the suite (now killed): ${leftovers.join(', ')}`);
}
