// cellctl events: what happened, from control.db's events table (restarts, state changes, moves).
import { parsePositiveInt } from '../../shared/names.js';
import { type CommandInput, flag, withWorkspace } from '../context.js';
import { paint, printJson, printLine, renderTable, say } from '../output.js';

export async function run(input: CommandInput): Promise<void> {
  const limit = parsePositiveInt(flag.string(input.opts, 'lines') ?? '50', '--lines', 100_000);
  await withWorkspace(input, (ws) => {
    const events = ws.store.listEvents({ subject: flag.string(input.opts, 'subject'), limit });
    if (flag.bool(input.opts, 'json')) return printJson(events);
    if (events.length === 0) return say('no events yet');
    printLine(
      renderTable(
        ['at', 'source', 'event', 'subject', 'message'],
        events.map((event) => [event.at, event.source, /crash|fail|kill|unhealthy/.test(event.kind) ? paint.red(event.kind) : event.kind, event.subject, event.message]),
      ),
    );
  });
}
