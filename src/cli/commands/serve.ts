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
    registerUrl: text(
      '--register-url <url>',
      'once serving, record in the control plane that this cell answers at URL (its data API at --register-data-url): a cell an orchestrator runs registers itself',
    ),
    registerDataUrl: text('--register-data-url <url>', 'where its data API answers (with --register-url)'),
    controlUrlFile: text('--control-url-file <file>', 'file holding the PostgreSQL URL of the control plane (with --register-url)'),
  },
  examples: [
    'CELL_ID=dev PORT=9100 CELL_DB=/tmp/dev.db CELL_HOME=/tmp cellctl serve --template ecommerce',
    'CELL_ID=dev PORT=9100 CELL_DB=/tmp/dev.db CELL_HOME=/tmp cellctl serve --template basic --data-port 9101 --token-file dev.token',
    'cellctl serve --template ecommerce --data-port 8081 --data-host 0.0.0.0 --token-file /run/secrets/cellctl/token --register-url http://c1.shop.svc:8080 --register-data-url http://c1.shop.svc:8081 --control-url-file /run/secrets/cellctl/control-url',
  ],
  handler: () => import('../handlers/serve.js').then((m) => m.run),
});
