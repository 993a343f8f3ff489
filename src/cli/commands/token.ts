// cellctl token: a JWT for a customer.
import { checkCustomerId } from '../../shared/names.js';
import { count, defineCommand, names, required } from '../define.js';

export const token = defineCommand({
  command: 'token',
  summary: 'print a JWT for a customer (JWT auth mode)',
  args: { customer: names('customer', required('customer id', checkCustomerId)) },
  flags: { ttl: count(31_536_000)('--ttl <seconds>', 'lifetime', { default: '3600' }) },
  examples: ['curl -H "Authorization: Bearer $(cellctl token c-0001)" http://127.0.0.1:8000/api/customers/c-0001'],
  handler: () => import('../handlers/token.js').then((m) => m.run),
});
