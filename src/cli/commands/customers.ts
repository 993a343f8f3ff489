// cellctl customers list|show|unassign|purge: the mapping of customers to cells.
import { usageError } from '../../shared/errors.js';
import { checkCustomerId } from '../../shared/names.js';
import { defineCommand, defineGroup, names, on, output, required, text } from '../define.js';

const customerId = names('customer', required('customer id', checkCustomerId));

export const customersList = defineCommand({
  command: 'list',
  summary: 'the mapping rows: customer → cell',
  isDefault: true,
  flags: { cell: names('cell', text('--cell <cell>', 'only customers of this cell')), output: output() },
  examples: ['cellctl customers', 'cellctl customers --cell cell-1', 'cellctl customers list -o yaml'],
  handler: () => import('../handlers/customers.js').then((m) => m.list),
});

export const customersShow = defineCommand({
  command: 'show',
  summary: 'one customer in full: mapping, rows per table in every cell, recent moves',
  args: { id: customerId },
  flags: { output: output() },
  examples: ['cellctl customers show c-0001', 'cellctl customers show c-0001 -o yaml'],
  handler: () => import('../handlers/customers.js').then((m) => m.show),
});

export const customersUnassign = defineCommand({
  command: 'unassign',
  summary: 'remove a mapping row that points at no data',
  args: { id: customerId },
  flags: { force: on('--force', 'unassign even though the customer has rows in its cell'), json: on('--json', 'print JSON') },
  examples: ['cellctl customers unassign ghost', 'cellctl customers unassign ghost --force'],
  handler: () => import('../handlers/customers.js').then((m) => m.unassign),
});

export const customersPurge = defineCommand({
  command: 'purge',
  summary: 'remove a stray copy of a customer’s rows from a cell that does not serve it',
  args: { id: customerId },
  flags: {
    cell: names('cell', text('--cell <cell>', 'the cell to remove the stray copy from')),
    yes: on('-y, --yes', 'do not ask for confirmation (needed off a terminal)'),
    json: on('--json', 'print JSON'),
  },
  validate: ({ args, opts }) => {
    if (opts.cell === undefined) throw usageError(`say which cell holds the stray copy: cellctl customers purge ${args.id} --cell <cell> --yes`);
  },
  examples: ['cellctl customers purge c-0001 --cell cell-3', 'cellctl customers purge c-0001 --cell cell-3 --yes'],
  handler: () => import('../handlers/customers.js').then((m) => m.purgeCopy),
});

export const customers = defineGroup({
  command: 'customers',
  summary: 'the mapping: list it, show one customer in full, unassign one, or purge a stray copy',
  subcommands: [customersList, customersShow, customersUnassign, customersPurge],
  examples: [
    'cellctl customers --cell cell-1',
    'cellctl customers show c-0001',
    'cellctl customers unassign ghost',
    'cellctl customers purge c-0001 --cell cell-3 --yes',
  ],
});
