// cellctl route: which cell serves a customer, and why.
import { checkCustomerId } from '../../shared/names.js';
import { defineCommand, names, output, required } from '../define.js';

export const route = defineCommand({
  command: 'route',
  summary: 'which cell serves a customer, and by which rule',
  args: { customer: names('customer', required('customer id', checkCustomerId)) },
  flags: { output: output() },
  examples: ['cellctl route c-0001', 'cellctl route new-customer --json'],
  handler: () => import('../handlers/route.js').then((m) => m.run),
});
