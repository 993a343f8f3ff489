// cellctl cells register|unregister: cells run elsewhere, known by URL.
import { count, defineCommand, defineGroup, names, on, onUnless, required, text } from '../define.js';

export const cellsRegister = defineCommand({
  command: 'register',
  summary: 'add a cell that runs elsewhere: the router routes to its URL, moves reach its data API',
  args: { cell: required('cell name: lower-case letters, digits and "-"') },
  flags: {
    template: names('template', text('-t, --template <name>', 'the template the cell was made from', { required: true })),
    url: text('--url <url>', "where the router sends the cell's customers: http://HOST:PORT", { required: true }),
    dataUrl: text('--data-url <url>', "where the cell's data API answers: http://HOST:PORT", { required: true }),
    tokenFile: text('--token-file <file>', "file holding the token the cell's data API was started with (required)"),
    capacity: count(1_000_000_000)('--capacity <n>', "customers the cell may hold (default: the template's)"),
    check: onUnless('--no-check', 'register even if the data API does not answer now'),
    json: on('--json', 'print the new cell as JSON'),
  },
  examples: ['cellctl cells register shop-b --template ecommerce --url http://10.0.0.2:8100 --data-url http://10.0.0.2:8101 --token-file b.token'],
  handler: () => import('../handlers/cells.js').then((m) => m.register),
});

export const cellsUnregister = defineCommand({
  command: 'unregister',
  summary: 'forget a registered cell (refuses while customers are mapped to it); the cell itself is untouched',
  args: { cell: names('cell', required('cell name')) },
  examples: ['cellctl cells unregister shop-b'],
  handler: () => import('../handlers/cells.js').then((m) => m.unregister),
});

export const cells = defineGroup({
  command: 'cells',
  summary: 'cells run elsewhere: register one by URL, or unregister it',
  subcommands: [cellsRegister, cellsUnregister],
  examples: ['cellctl cells register --help', 'cellctl cells unregister shop-b'],
});
