// Test-only hooks, inert unless a test sets their variables: a pause point where a test can act in
// the middle of an operation and then let it go on, waiting for events rather than for time.
import fs from 'node:fs';

/**
 * With CELLCTL_PAUSE_AFTER_STEP=<name> and CELLCTL_PAUSE_FILE=<path>, the process writes
 * `<path>.reached` (holding its pid) when it gets to the point called `name` and waits until `<path>`
 * exists (at most 5 minutes).
 */
export async function pausePoint(name: string): Promise<void> {
  const file = process.env.CELLCTL_PAUSE_FILE;
  if (process.env.CELLCTL_PAUSE_AFTER_STEP !== name || !file) return;
  // Written whole, then renamed: a test that sees the file always reads the pid (a reader once saw it empty).
  fs.writeFileSync(`${file}.reached.tmp`, String(process.pid));
  fs.renameSync(`${file}.reached.tmp`, `${file}.reached`);
  const deadline = Date.now() + 300_000;
  while (!fs.existsSync(file) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}
