// The one driver of a move's steps (src/migration/driver.ts): order, undo before the switch, a move
// lost to another process, an undo that fails, and the dry run as the same driver over actions that
// only describe.
import { describe, expect, it } from 'vitest';
import { describedActions, drive, type MoveActions, moveSteps, RollbackIncomplete } from '../../src/migration/driver.js';

class Lost extends Error {}

/** Actions that record what ran; `failAt` throws there (a Lost when `lost`), `undoFails` throws in that undo. */
function recorder(failAt: string | null, options: { lost?: boolean; undoFails?: string } = {}) {
  const log: string[] = [];
  const act = (name: string) => async () => {
    log.push(name);
    if (name === failAt) throw options.lost ? new Lost('taken over') : new Error(`${name} failed`);
    if (name === options.undoFails) throw new Error(`${name} failed too`);
  };
  const names: (keyof MoveActions)[] = [
    'prepare',
    'dropStaleCopy',
    'capture',
    'stopCapture',
    'copy',
    'catchUp',
    'fence',
    'liftFence',
    'cutOver',
    'rollBackCopy',
    'switch',
    'handOver',
    'release',
    'cleanUp',
    'purge',
  ];
  const actions = Object.fromEntries(names.map((name) => [name, act(name)])) as unknown as MoveActions;
  return { log, actions };
}

const options = { lost: (error: unknown) => (error instanceof Lost ? error : null), describe: (error: unknown) => String((error as Error).message) };

describe('the move driver', () => {
  it('runs an online move in order, and a fenced one without capture, copy, catch-up and clean-up; --keep-source leaves the purge out', async () => {
    const online = recorder(null);
    await drive(moveSteps(online.actions, { online: true, keepSource: false }), options);
    expect(online.log).toEqual(['prepare', 'capture', 'copy', 'catchUp', 'fence', 'cutOver', 'switch', 'handOver', 'release', 'cleanUp', 'purge']);
    const fenced = recorder(null);
    await drive(moveSteps(fenced.actions, { online: false, keepSource: true }), options);
    expect(fenced.log).toEqual(['prepare', 'fence', 'cutOver', 'switch', 'handOver', 'release']);
  });

  it('undoes the steps done, latest first, when one before the switch fails, and throws that failure', async () => {
    const run = recorder('switch');
    await expect(drive(moveSteps(run.actions, { online: true, keepSource: false }), options)).rejects.toThrow('switch failed');
    expect(run.log).toEqual([
      'prepare',
      'capture',
      'copy',
      'catchUp',
      'fence',
      'cutOver',
      'switch',
      'rollBackCopy',
      'liftFence',
      'stopCapture',
      'dropStaleCopy',
    ]);
  });

  it('undoes the failed step too, first: a cutover that barred the source before it failed is unbarred', async () => {
    const run = recorder('cutOver');
    await expect(drive(moveSteps(run.actions, { online: false, keepSource: false }), options)).rejects.toThrow('cutOver failed');
    expect(run.log).toEqual(['prepare', 'fence', 'cutOver', 'rollBackCopy', 'liftFence', 'dropStaleCopy']);
  });

  it('a move lost to another process lifts only its own fence, and says it was lost', async () => {
    const run = recorder('cutOver', { lost: true });
    await expect(drive(moveSteps(run.actions, { online: true, keepSource: false }), options)).rejects.toBeInstanceOf(Lost);
    expect(run.log.slice(run.log.indexOf('cutOver') + 1)).toEqual(['liftFence']);
  });

  it('an undo that fails stops the rollback with both errors: the journal stays running for abort', async () => {
    const run = recorder('catchUp', { undoFails: 'stopCapture' });
    const error = await drive(moveSteps(run.actions, { online: true, keepSource: false }), options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RollbackIncomplete);
    expect((error as Error).message).toBe('catchUp failed; rolling back failed too (stopCapture failed too)');
    expect(run.log.at(-1)).toBe('stopCapture');
  });

  it('the dry run is the same driver over actions that describe each step', async () => {
    const lines: string[] = [];
    const actions = describedActions({ customers: 'c-1', from: 'a', to: 'b', online: true, routers: true }, (step, what) => lines.push(`${step}: ${what}`));
    await drive(moveSteps(actions, { online: true, keepSource: false }), options);
    expect(lines.map((line) => line.split(':')[0])).toEqual([
      'prepare',
      'capture',
      'copy',
      'catch up',
      'fence',
      'cut over',
      'switch',
      'hand over',
      'release',
      'clean up',
      'purge',
    ]);
    expect(lines[5]).toBe('cut over: bar c-1 in a, apply the last changes to b, and verify counts and checksums');
  });
});
