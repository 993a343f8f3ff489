// cellctl assign customer <id>: pin a customer to a cell.
import { checkCustomerId } from '../../shared/names.js';
import { defineCommand, names, on, required, text } from '../define.js';
import { theWordCustomer } from './unassign.js';

export const assign = defineCommand({
  command: 'assign',
  summary: 'pin a customer to a cell: assign customer <id> [--cell C]',
  args: {
    what: required('the word "customer"', theWordCustomer('usage: cellctl assign customer <id> [--cell C]')),
    id: names('customer', required('customer id', checkCustomerId)),
  },
  flags: {
    cell: names('cell', text('--cell <cell>', 'cell to pin to (default: the placement policy decides)')),
    force: on('--force', 'pin even past the cell capacity'),
    json: on('--json', 'print JSON'),
  },
  examples: ['cellctl assign customer acme --cell cell-2', 'cellctl assign customer acme'],
  handler: () => import('../handlers/assign.js').then((m) => m.run),
});
