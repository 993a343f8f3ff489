// cellctl control migrate-to: moves a stopped workspace's control plane from control.db into
// PostgreSQL (copied and verified), keeping control.db under another name so nothing is lost.
import fs from 'node:fs';
import { copyControlPlane } from '../../control/copy.js';
import { isPostgresUrl, printableLocation } from '../../control/open.js';
import { PgControlPlane } from '../../control/pg-plane.js';
import { failure, usageError } from '../../shared/errors.js';
import { processesFromPidFiles } from '../../supervisor/stop.js';
import { workspacePaths } from '../../workspace/paths.js';
import { controlLocation, writeControlUrl } from '../../workspace/secrets.js';
import { isWorkspace } from '../../workspace/workspace.js';
import { homeOf } from '../context.js';
import { cellctlCommand, say, sayDone } from '../output.js';
import type { InputOf } from '../define.js';
import type { controlMigrateTo } from '../commands/control.js';

/** The name control.db keeps after a migration: dated, so a second one never overwrites the first. */
export const migratedName = (file: string, at: Date): string => `${file}.migrated-${at.toISOString().replace(/[:.]/g, '-')}`;

/** Refuses while any process of the workspace runs: they would keep writing control.db meanwhile. */
function requireStopped(home: string): void {
  const running = processesFromPidFiles(home);
  if (running.length === 0) return;
  throw failure(
    `${running.map((proc) => proc.name).join(', ')} still run${running.length === 1 ? 's' : ''} and may write the control plane meanwhile: run "${cellctlCommand()} --home ${home} stop" first, then migrate-to again`,
  );
}

export async function run(input: InputOf<typeof controlMigrateTo>): Promise<void> {
  const home = homeOf(input);
  const url = input.args.url.trim();
  if (!isWorkspace(home)) throw usageError(`${home} is not a cellctl workspace: pass the right --home`);
  if (!isPostgresUrl(url))
    throw failure(`migrate-to takes a PostgreSQL URL (postgres://user:password@host:5432/database), got ${printableLocation(url)}`, 'E_CONTROL_URL');
  const current = controlLocation(home);
  if (isPostgresUrl(current)) {
    say(`the control plane of ${home} is already in PostgreSQL (${printableLocation(current)}); nothing changed`);
    return;
  }
  requireStopped(home);
  const target = await PgControlPlane.connect(url);
  try {
    const summary = await copyControlPlane(current, target);
    say(
      `copied and verified: ${Object.entries(summary.counts)
        .map(([table, rows]) => `${rows} ${table}`)
        .join(', ')}`,
    );
  } finally {
    await target.close();
  }
  writeControlUrl(home, url);
  const kept = migratedName(workspacePaths(home).controlDb, new Date());
  for (const suffix of ['', '-wal', '-shm']) if (fs.existsSync(current + suffix)) fs.renameSync(current + suffix, kept + suffix);
  sayDone(`the control plane of ${home} is now ${printableLocation(url)}; control.db is kept as ${kept}`);
}
