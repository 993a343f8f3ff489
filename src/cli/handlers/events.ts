// cellctl events: what happened, from control.db's events table (restarts, state changes, moves);
// --watch keeps printing new ones until Ctrl-C.
import { ExitCode } from '../../shared/errors.js';
import type { EventRecord } from '../../control/plane.js';
import type { Workspace } from '../../workspace/workspace.js';
import { withWorkspace } from '../context.js';
import { printData, printRecord } from '../formats.js';
import { paint, printLine, renderTable, say } from '../output.js';
import type { InputOf, OutputFormat } from '../define.js';
import type { events } from '../commands/events.js';

const kindCell = (kind: string) => (/crash|fail|kill|unhealthy/.test(kind) ? paint.red(kind) : kind);

export async function run(input: InputOf<typeof events>): Promise<void> {
  const { lines: limit, subject, output } = input.opts;
  await withWorkspace(input, async (ws) => {
    const events = await ws.plane.listEvents({ subject, limit });
    if (input.opts.watch) return watch(ws, events, subject, output);
    if (printData(output, events)) return;
    if (events.length === 0)
      return say(
        subject === undefined
          ? 'no events yet'
          : `no events about "${subject}" (events name a cell, the router, a customer or a migration id; "cellctl events" lists them all)`,
      );
    printLine(
      renderTable(
        ['at', 'source', 'event', 'subject', 'message'],
        events.map((event) => [event.at, event.source, kindCell(event.kind), event.subject, event.message]),
        { wide: output === 'wide' },
      ),
    );
  });
}

/** One event a line (a JSON line with --json, a YAML document with -o yaml), as they are recorded. */
async function watch(ws: Workspace, shown: EventRecord[], subject: string | undefined, output: OutputFormat): Promise<void> {
  const print = (event: EventRecord) =>
    output === 'json' || output === 'yaml'
      ? printRecord(output, event)
      : printLine(`${event.at}  ${event.source.padEnd(10)} ${kindCell(event.kind).padEnd(22)} ${event.subject.padEnd(12)} ${event.message}`);
  shown.forEach(print);
  let last = shown.at(-1)?.id ?? 0;
  let stopped = false;
  process.once('SIGINT', () => {
    stopped = true;
    process.exitCode = ExitCode.interrupted;
  });
  while (!stopped) {
    for (const event of await ws.plane.eventsAfter(last, subject)) {
      print(event);
      last = event.id;
    }
    for (let waited = 0; waited < 500 && !stopped; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
