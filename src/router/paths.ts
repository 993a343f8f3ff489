// How the router reads a request path. Pure: no URL object on the hot path, just string scanning.
import { CUSTOMER_ID } from '../shared/names.js';

export type RouterTarget =
  | { kind: 'customer'; customerId: string; isCreate: boolean }
  | { kind: 'reference' }
  | { kind: 'health' }
  | { kind: 'bad-customer-id'; raw: string }
  | { kind: 'not-found' };

const CUSTOMERS = '/api/customers/';
const REFERENCE_PREFIXES = ['/api/products'];

export function classifyPath(method: string, url: string): RouterTarget {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  if (path.startsWith(CUSTOMERS)) {
    const rest = path.slice(CUSTOMERS.length);
    const slash = rest.indexOf('/');
    const raw = slash === -1 ? rest : rest.slice(0, slash);
    let customerId: string;
    try {
      customerId = decodeURIComponent(raw);
    } catch {
      return { kind: 'bad-customer-id', raw };
    }
    if (!CUSTOMER_ID.test(customerId)) return { kind: 'bad-customer-id', raw };
    const isCreate = method === 'POST' && (slash === -1 || slash === rest.length - 1);
    return { kind: 'customer', customerId, isCreate };
  }
  if (path === '/health') return { kind: 'health' };
  for (const prefix of REFERENCE_PREFIXES) {
    if (path === prefix || path.startsWith(prefix + '/')) return { kind: 'reference' };
  }
  return { kind: 'not-found' };
}
