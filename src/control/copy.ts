// Copies a control plane from control.db into an empty PostgreSQL one (`cellctl control migrate-to`):
// every row, the mapping version and the fencing sequence, verified by counts and per-table checksums.
import { failure } from '../shared/errors.js';
import { type DumpSummary, type DumpTable, summarize } from './dump.js';
import type { PgControlPlane } from './pg-plane.js';
import { ControlStore, readSqliteDump } from './store.js';

/** What differs between two summaries, one line each (empty: the copy is the source). */
export function summaryDifferences(expected: DumpSummary, got: DumpSummary): string[] {
  const lines: string[] = [];
  for (const table of Object.keys(expected.counts) as DumpTable[]) {
    if (expected.counts[table] !== got.counts[table]) lines.push(`${table}: ${expected.counts[table]} rows in the source, ${got.counts[table]} copied`);
    else if (expected.checksums[table] !== got.checksums[table]) lines.push(`${table}: the copied rows differ from the source's (checksum)`);
  }
  if (expected.mappingVersion !== got.mappingVersion) lines.push(`mapping version ${expected.mappingVersion} became ${got.mappingVersion}`);
  if (expected.fencingSeq !== got.fencingSeq) lines.push(`fencing sequence ${expected.fencingSeq} became ${got.fencingSeq}`);
  return lines;
}

/**
 * Copies control.db at `sqliteFile` into `target`, which must be empty. All or nothing: a non-empty
 * target or a copy that does not verify leaves the target unchanged. Returns the verified summary.
 */
export async function copyControlPlane(sqliteFile: string, target: PgControlPlane): Promise<DumpSummary> {
  // Opening checks that it is a control.db of this build's schema (and brings an older one up to it).
  ControlStore.open(sqliteFile).close();
  const dump = readSqliteDump(sqliteFile);
  const expected = summarize(dump);
  return target.importDump(dump, (copied) => {
    const got = summarize(copied);
    const differences = summaryDifferences(expected, got);
    if (differences.length > 0)
      throw failure(`the copy into ${target.where} does not match ${sqliteFile}, nothing was kept: ${differences.join('; ')}`, 'E_COPY_MISMATCH');
    return got;
  });
}
