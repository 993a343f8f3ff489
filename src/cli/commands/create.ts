// cellctl create: a cell from a template.
import { checkCellName } from '../../shared/names.js';
import { count, defineCommand, names, on, optional, tcpPort, text } from '../define.js';

export const create = defineCommand({
  command: 'create',
  summary: 'create a cell from a template',
  args: { cell: optional('cell name: lower-case letters, digits and "-"', { parse: checkCellName }) },
  flags: {
    template: names('template', text('-t, --template <name>', 'template (see "cellctl templates")')),
    port: tcpPort('--port <port>', 'port for the cell (default: the next free one)'),
    capacity: count(1_000_000_000)('--capacity <n>', "customers the cell may hold (default: the template's)"),
    node: text('--node <node>', 'runtime swarm: the node to run on, a node id or its cellctl.node label (default: the labelled node with the fewest cells)'),
    json: on('--json', 'print the new cell as JSON'),
  },
  examples: [
    'cellctl create cell-1 --template basic',
    'cellctl create shop-eu --template ecommerce --port 8200 --capacity 500',
    'cellctl create shop-b --template ecommerce --node B',
  ],
  handler: () => import('../handlers/create.js').then((m) => m.run),
});
