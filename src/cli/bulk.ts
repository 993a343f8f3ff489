// Running bulk moves (drain, rebalance) from the CLI: a progress bar, and Ctrl-C stopping cleanly
// after the current batch so that running the same command again carries on.
import { runMoves } from '../migration/bulk.js';
import type { Move } from '../migration/plan.js';
import type { Workspace } from '../workspace/workspace.js';
import { ExitCode } from '../shared/errors.js';
import { say, startBar } from './output.js';

export async function runMovesInterruptibly(ws: Workspace, moves: Move[], batchSize: number, label: string, quiet: boolean): ReturnType<typeof runMoves> {
  let stop = false;
  const onInterrupt = () => {
    stop = true;
    say('\ninterrupted: finishing the current batch; run the same command again to continue');
  };
  process.once('SIGINT', onInterrupt);
  const bar = startBar(label, moves.length, quiet);
  try {
    const result = await runMoves(ws, moves, batchSize, bar, () => stop);
    // An unfinished run ends as an interrupted command does: exit 130, as a shell reports one.
    if (result.interrupted) process.exitCode = ExitCode.interrupted;
    return result;
  } finally {
    bar.finish();
    process.removeListener('SIGINT', onInterrupt);
  }
}
