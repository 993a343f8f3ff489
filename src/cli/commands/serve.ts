// cellctl serve: one cell in the foreground.
import { defineCommand, text } from '../define.js';

export const serve = defineCommand({
  command: 'serve',
  summary: 'run one cell in the foreground, configured by CELL_* variables',
  description: 'Run a built-in cell app in the foreground. Reads CELL_ID, PORT, CELL_DB and CELL_HOME; creates CELL_DB from the template if it does not exist.',
  flags: {
    template: text('-t, --template <name>', 'template whose app to run (basic or ecommerce)', { required: true }),
    dataPort: text('--data-port <port>', "also serve the cell's data API on this port"),
    dataHost: text('--data-host <host>', 'address the data API listens on', { default: '127.0.0.1' }),
    tokenFile: text('--token-file <file>', 'file holding the data API token (with --data-port)'),
  },
  examples: [
    'CELL_ID=dev PORT=9100 CELL_DB=/tmp/dev.db CELL_HOME=/tmp cellctl serve --template ecommerce',
    'CELL_ID=dev PORT=9100 CELL_DB=/tmp/dev.db CELL_HOME=/tmp cellctl serve --template basic --data-port 9101 --token-file dev.token',
  ],
  handler: () => import('../handlers/serve.js').then((m) => m.run),
});
