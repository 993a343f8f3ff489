// The one driver of a move's steps (DESIGN.md "Moving a customer", "Online moves"). A move is a list
// of named units, each with its own undo; the driver runs them in order and, when one fails before
// the switch, runs the undos of those done in reverse. What the steps do is behind MoveActions: the
// engine's live implementation moves rows, and --dry-run runs this same driver with an implementation
// that only says what each step would do (Vitess's traffic switcher and its dry-run switcher).

/** The names of a move's steps, in the order the driver runs them. */
export type StepName = 'prepare' | 'capture' | 'copy' | 'catch up' | 'fence' | 'cut over' | 'switch' | 'hand over' | 'release' | 'clean up' | 'purge';

/** What a move is made of. Each `run` step is done by one method; the undo methods undo them before the switch. */
export interface MoveActions {
  /** Drops any earlier copy in the target and bars it there. Undo: dropStaleCopy. */
  prepare(): Promise<void>;
  dropStaleCopy(): Promise<void>;
  /** (online) The source starts recording the customers' changes. Undo: stopCapture. */
  capture(): Promise<void>;
  stopCapture(): Promise<void>;
  /** (online) The rows, page by page, unfenced. */
  copy(): Promise<void>;
  /** (online) The captured changes, in rounds, until few are left. */
  catchUp(): Promise<void>;
  /** The routers hold the customers' requests. Undo: liftFence. */
  fence(): Promise<void>;
  liftFence(): Promise<void>;
  /** Bars the source and finishes the copy (all of it, or the last changes), verified and journaled. Undo: rollBackCopy (drop the copy, unbar the source). */
  cutOver(): Promise<void>;
  rollBackCopy(): Promise<void>;
  /** The mapping moves to the target, with the journal: the point of no return. */
  switch(): Promise<void>;
  /** The target takes the customers' writes. */
  handOver(): Promise<void>;
  /** The held requests go to the target; the journal says released. */
  release(): Promise<void>;
  /** (online) What the copy left on the source goes (the capture). */
  cleanUp(): Promise<void>;
  /** The source's rows go (unless kept by --keep-source). */
  purge(): Promise<void>;
}

export interface MoveStep {
  name: StepName;
  run: () => Promise<void>;
  /** Undoes the step when a later one fails before the switch. */
  undo?: () => Promise<void>;
  /** Undone even when the move was lost to another process (its data is not ours then, but a fence we put is). */
  undoWhenLost?: boolean;
}

/** The steps of a move, before and after the switch, for a copy that is online or fenced. */
export function moveSteps(actions: MoveActions, shape: { online: boolean; keepSource: boolean }): { beforeSwitch: MoveStep[]; afterSwitch: MoveStep[] } {
  const { online, keepSource } = shape;
  const beforeSwitch: MoveStep[] = [
    { name: 'prepare', run: () => actions.prepare(), undo: () => actions.dropStaleCopy() },
    ...(online
      ? [
          { name: 'capture' as const, run: () => actions.capture(), undo: () => actions.stopCapture() },
          { name: 'copy' as const, run: () => actions.copy() },
          { name: 'catch up' as const, run: () => actions.catchUp() },
        ]
      : []),
    { name: 'fence', run: () => actions.fence(), undo: () => actions.liftFence(), undoWhenLost: true },
    { name: 'cut over', run: () => actions.cutOver(), undo: () => actions.rollBackCopy() },
    { name: 'switch', run: () => actions.switch() },
  ];
  const afterSwitch: MoveStep[] = [
    { name: 'hand over', run: () => actions.handOver() },
    { name: 'release', run: () => actions.release() },
    ...(online ? [{ name: 'clean up' as const, run: () => actions.cleanUp() }] : []),
    ...(keepSource ? [] : [{ name: 'purge' as const, run: () => actions.purge() }]),
  ];
  return { beforeSwitch, afterSwitch };
}

/** A move failed before its switch and undoing it failed too: the journal stays running for "migrate abort". */
export class RollbackIncomplete extends Error {
  constructor(
    readonly failed: unknown,
    readonly rollback: unknown,
    describe: (error: unknown) => string,
  ) {
    super(`${describe(failed)}; rolling back failed too (${describe(rollback)})`);
  }
}

export interface DriveOptions {
  /** The error's ownership loss (another process runs the move now), or null. */
  lost(error: unknown): Error | null;
  describe(error: unknown): string;
}

/**
 * Runs the steps before the switch; when one fails, undoes it and those done, latest first, and throws the
 * failure (a RollbackIncomplete when an undo failed too; only `undoWhenLost` undos when the move was
 * lost, then the loss). Then the steps after the switch, which are never undone: resume finishes them.
 */
export async function drive(steps: { beforeSwitch: MoveStep[]; afterSwitch: MoveStep[] }, options: DriveOptions): Promise<void> {
  const done: MoveStep[] = [];
  for (const step of steps.beforeSwitch) {
    try {
      await step.run();
      done.push(step);
    } catch (error) {
      // The failed step's own undo too, first: it may have got partway (a cutover that barred the
      // source, a capture that started but whose answer was lost). Every undo is idempotent.
      await undo([step, ...done.reverse()], error, options);
      throw error;
    }
  }
  for (const step of steps.afterSwitch) await step.run();
}

async function undo(done: readonly MoveStep[], error: unknown, options: DriveOptions): Promise<void> {
  const lost = options.lost(error);
  for (const step of done) {
    if (!step.undo || (lost && !step.undoWhenLost)) continue;
    try {
      await step.undo();
    } catch (failure) {
      if (lost) continue; // the loss is what the caller hears of
      throw options.lost(failure) ?? new RollbackIncomplete(error, failure, options.describe);
    }
  }
  if (lost) throw lost;
}

/**
 * MoveActions that only say what each step would do, for --dry-run: the same driver, run over this,
 * lists the steps the move would take, in its order, with what each does to which cell.
 */
export function describedActions(
  move: { customers: string; from: string; to: string; online: boolean; routers: boolean },
  say: (step: StepName, what: string) => void,
): MoveActions {
  const { customers, from, to } = move;
  const line = (step: StepName, what: string) => async () => say(step, what);
  return {
    prepare: line('prepare', `drop any earlier copy of ${customers} in ${to} and bar ${customers} there`),
    dropStaleCopy: async () => {},
    capture: line('capture', `${from} starts recording every change to ${customers}'s rows (triggers into its change table)`),
    stopCapture: async () => {},
    copy: line('copy', `copy ${customers}'s rows from ${from} to ${to} page by page while ${customers} keeps working`),
    catchUp: line('catch up', `apply the changes ${from} recorded to ${to} in rounds, until few are left`),
    fence: line('fence', move.routers ? `every router holds ${customers}'s requests and waits for those in flight` : `no router runs: nothing to hold`),
    liftFence: async () => {},
    cutOver: line(
      'cut over',
      `bar ${customers} in ${from}, ${move.online ? 'apply the last changes' : 'copy all of its rows'} to ${to}, and verify counts and checksums`,
    ),
    rollBackCopy: async () => {},
    switch: line('switch', `map ${customers} to ${to} (the journal and the mapping in one transaction)`),
    handOver: line('hand over', `${to} takes ${customers}'s writes`),
    release: line('release', `the held requests go to ${to}`),
    cleanUp: line('clean up', `${from} stops recording changes; its triggers and change table go`),
    purge: line('purge', `delete ${customers}'s rows from ${from} (it refuses their writes from then on)`),
  };
}
