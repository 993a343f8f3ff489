// cellctl unassign customer <id>: the same as "cellctl customers unassign <id>".
import { usageError } from '../../shared/errors.js';
import { checkCustomerId } from '../../shared/names.js';
import { defineCommand, names, on, required } from '../define.js';

/** The first word of `assign customer <id>` and `unassign customer <id>`. */
export const theWordCustomer = (usage: string) => (raw: string) => {
  if (raw !== 'customer') throw usageError(usage);
  return raw;
};

export const unassign = defineCommand({
  command: 'unassign',
  summary: 'remove a customer mapping row: unassign customer <id> (same as "customers unassign")',
  args: {
    what: required('the word "customer"', theWordCustomer('usage: cellctl unassign customer <id> [--force]')),
    id: names('customer', required('customer id', checkCustomerId)),
  },
  flags: { force: on('--force', 'even though the customer has rows in its cell'), json: on('--json', 'print JSON') },
  examples: ['cellctl unassign customer ghost'],
  handler: () => import('../handlers/customers.js').then((m) => m.unassign),
});
