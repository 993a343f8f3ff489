// cellctl cell-agent: the data API beside a user's app's SQLite file.
import { defineCommand, on, text } from '../define.js';

export const cellAgent = defineCommand({
  command: 'cell-agent',
  summary: "serve a user's app's data API (moves, barrier) beside its SQLite file",
  description:
    "Serve the cell data API for the SQLite file of a cell whose template runs its own command, installing the write-barrier triggers on the template's customer tables. The supervisor runs one beside each such cell.",
  flags: {
    db: text('--db <file>', "the app's SQLite file"),
    template: text('-t, --template <name-or-dir>', 'template folder, or a built-in template name'),
    cellId: text('--cell-id <id>', 'the cell the file belongs to'),
    port: text('--port <port>', 'port of the data API'),
    host: text('--host <host>', 'address the data API listens on', { default: '127.0.0.1' }),
    tokenFile: text('--token-file <file>', 'file holding the data API token'),
    removeTriggers: on('--remove-triggers', 'remove the barrier triggers from --db and exit'),
  },
  examples: [
    'cellctl cell-agent --db cells/notes-1/data.db --template ./templates/notes --cell-id notes-1 --port 8101 --token-file notes-1.token',
    'cellctl cell-agent --db cells/notes-1/data.db --remove-triggers',
  ],
  handler: () => import('../handlers/cell-agent.js').then((m) => m.run),
});
