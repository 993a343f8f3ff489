// The example systems' wire contracts, as tables: each request their clients send and what their
// code answers (status, every field with its value or type, the error texts). Run directly against a
// cell and through the router, by runContract below. `$cell` stands for the cell that answered;
// `$name` for a value an earlier step saved with `save`.
import { expect } from 'vitest';
import { http } from './helpers.js';

type FieldSpec = unknown;

export interface ContractStep {
  what: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  status: number;
  /** Fields the answer must hold: a value, `$cell`/`$name`, or a type matcher (expect.any(String)). */
  answer?: Record<string, FieldSpec>;
  /** Saves answer fields under names later steps can use as `$name`. */
  save?: Record<string, string>;
  /** Only against a cell directly (the router answers /health itself). */
  directOnly?: boolean;
}

const text = expect.any(String);
/** A time as the examples answer it: Python's `datetime.utcnow().isoformat()`, no zone, six fraction digits. */
const time = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
const number = expect.any(Number);

/** The beginner example: its cell_application.py and the requests of its test_cell_architecture.py. */
export const BASIC_CONTRACT: ContractStep[] = [
  {
    what: 'create',
    method: 'POST',
    path: '/api/customers/customer-001',
    body: { name: 'Alice Johnson', email: 'alice@example.com' },
    status: 201,
    answer: { customer_id: 'customer-001', name: 'Alice Johnson', email: 'alice@example.com', cell_id: '$cell', status: 'created' },
  },
  {
    what: 'create again',
    method: 'POST',
    path: '/api/customers/customer-001',
    body: { name: 'A', email: 'a@example.com' },
    status: 409,
    answer: { error: 'Customer already exists' },
  },
  {
    what: 'create without email',
    method: 'POST',
    path: '/api/customers/customer-002',
    body: { name: 'Bob Smith' },
    status: 400,
    answer: { error: 'Name and email are required' },
  },
  { what: 'create without a body', method: 'POST', path: '/api/customers/customer-002', status: 400, answer: { error: 'Name and email are required' } },
  {
    what: 'create with an email already used (not unique here)',
    method: 'POST',
    path: '/api/customers/customer-003',
    body: { name: 'Alice Two', email: 'alice@example.com' },
    status: 201,
    answer: { customer_id: 'customer-003', cell_id: '$cell', status: 'created' },
  },
  {
    what: 'an e-mail address as the id',
    method: 'POST',
    path: '/api/customers/carol.davis@example.com',
    body: { name: 'Carol Davis', email: 'carol@example.com' },
    status: 201,
    answer: { customer_id: 'carol.davis@example.com', status: 'created' },
  },
  {
    what: 'read',
    method: 'GET',
    path: '/api/customers/customer-001',
    status: 200,
    answer: { customer_id: 'customer-001', name: 'Alice Johnson', email: 'alice@example.com', created_at: time, cell_id: '$cell' },
  },
  { what: 'read an unknown customer', method: 'GET', path: '/api/customers/customer-404', status: 404, answer: { error: 'Customer not found' } },
  {
    what: 'update',
    method: 'PUT',
    path: '/api/customers/customer-001',
    body: { name: 'Alice Johnson-Updated', email: 'alice.updated@example.com' },
    status: 200,
    answer: { customer_id: 'customer-001', name: 'Alice Johnson-Updated', email: 'alice.updated@example.com', created_at: time, cell_id: '$cell' },
  },
  { what: 'update with no data', method: 'PUT', path: '/api/customers/customer-001', body: {}, status: 400, answer: { error: 'No data provided' } },
  {
    what: 'update an unknown customer',
    method: 'PUT',
    path: '/api/customers/customer-404',
    body: { name: 'X' },
    status: 404,
    answer: { error: 'Customer not found' },
  },
  { what: 'health', method: 'GET', path: '/health', status: 200, answer: { status: 'healthy', cell_id: '$cell', database: 'healthy' }, directOnly: true },
  { what: 'metrics', method: 'GET', path: '/metrics', status: 200, answer: { cell_id: '$cell', customer_count: number, timestamp: text }, directOnly: true },
];

/** The intermediate example: its cell_application.py (customers, carts, orders, health, metrics). */
export const ECOMMERCE_CONTRACT: ContractStep[] = [
  {
    what: 'create (a cellctl addition, in the example style)',
    method: 'POST',
    path: '/api/customers/eve',
    body: { name: 'Eve', email: 'eve@example.com', address: { street: '1 Main St', city: 'Porto', tags: ['home'] } },
    status: 201,
    answer: {
      customer_id: 'eve',
      name: 'Eve',
      email: 'eve@example.com',
      address: { street: '1 Main St', city: 'Porto', tags: ['home'] },
      cell_id: '$cell',
      status: 'created',
    },
  },
  {
    what: 'create again',
    method: 'POST',
    path: '/api/customers/eve',
    body: { name: 'Eve', email: 'eve2@example.com' },
    status: 409,
    answer: { error: 'Customer already exists' },
  },
  {
    what: 'read',
    method: 'GET',
    path: '/api/customers/eve',
    status: 200,
    answer: {
      customer_id: 'eve',
      email: 'eve@example.com',
      name: 'Eve',
      address: { street: '1 Main St', city: 'Porto', tags: ['home'] },
      created_at: time,
      cell_id: '$cell',
    },
  },
  { what: 'read an unknown customer', method: 'GET', path: '/api/customers/nobody', status: 404, answer: { error: 'Customer not found' } },
  {
    what: 'update',
    method: 'PUT',
    path: '/api/customers/eve',
    body: { name: 'Eve Adams', address: { city: 'Lisbon' } },
    status: 200,
    answer: { status: 'updated', customer_id: 'eve' },
  },
  { what: 'read the update', method: 'GET', path: '/api/customers/eve', status: 200, answer: { name: 'Eve Adams', address: { city: 'Lisbon' } } },
  { what: 'an empty cart', method: 'GET', path: '/api/customers/eve/cart', status: 200, answer: { customer_id: 'eve', items: [], cell_id: '$cell' } },
  {
    what: 'add without a product',
    method: 'POST',
    path: '/api/customers/eve/cart/items',
    body: { quantity: 1 },
    status: 400,
    answer: { error: 'Product ID required' },
  },
  {
    what: 'add (quantity defaults to 1)',
    method: 'POST',
    path: '/api/customers/eve/cart/items',
    body: { product_id: 'sku-mouse' },
    status: 200,
    answer: { status: 'added', customer_id: 'eve', items: [{ product_id: 'sku-mouse', quantity: 1, added_at: time }] },
  },
  {
    what: 'add the same product again',
    method: 'POST',
    path: '/api/customers/eve/cart/items',
    body: { product_id: 'sku-mouse', quantity: 2 },
    status: 200,
    answer: { items: [{ product_id: 'sku-mouse', quantity: 3, added_at: time }] },
  },
  {
    what: 'add another product',
    method: 'POST',
    path: '/api/customers/eve/cart/items',
    body: { product_id: 'sku-cable', quantity: 2 },
    status: 200,
    answer: { items: [expect.objectContaining({ product_id: 'sku-mouse' }), expect.objectContaining({ product_id: 'sku-cable', quantity: 2 })] },
  },
  {
    what: 'the cart',
    method: 'GET',
    path: '/api/customers/eve/cart',
    status: 200,
    answer: {
      customer_id: 'eve',
      items: [expect.objectContaining({ product_id: 'sku-mouse', quantity: 3 }), expect.objectContaining({ product_id: 'sku-cable', quantity: 2 })],
      cell_id: '$cell',
    },
  },
  {
    what: 'order the cart',
    method: 'POST',
    path: '/api/customers/eve/orders',
    status: 201,
    answer: { order_id: text, status: 'pending', total_amount: 3 * 29 + 2 * 9, cell_id: '$cell' },
    save: { first: 'order_id' },
  },
  { what: 'order an empty cart', method: 'POST', path: '/api/customers/eve/orders', status: 400, answer: { error: 'Cart is empty' } },
  {
    what: 'fill the cart again',
    method: 'POST',
    path: '/api/customers/eve/cart/items',
    body: { product_id: 'sku-stand', quantity: 1 },
    status: 200,
    answer: { status: 'added' },
  },
  { what: 'a second order', method: 'POST', path: '/api/customers/eve/orders', status: 201, answer: { total_amount: 39 }, save: { second: 'order_id' } },
  {
    what: 'orders, newest first',
    method: 'GET',
    path: '/api/customers/eve/orders',
    status: 200,
    answer: {
      customer_id: 'eve',
      cell_id: '$cell',
      orders: [
        expect.objectContaining({
          order_id: '$second',
          customer_id: 'eve',
          status: text,
          total_amount: 39,
          items: [expect.objectContaining({ product_id: 'sku-stand', quantity: 1 })],
          created_at: time,
          updated_at: time,
          cell_id: '$cell',
        }),
        expect.objectContaining({ order_id: '$first', total_amount: 105, items: expect.any(Array) }),
      ],
    },
  },
  {
    what: 'health',
    method: 'GET',
    path: '/health',
    status: 200,
    answer: { cell_id: '$cell', status: 'healthy', checks: { database: 'healthy', cache: 'healthy', queue: 'healthy' } },
    directOnly: true,
  },
  {
    what: 'metrics',
    method: 'GET',
    path: '/metrics',
    status: 200,
    answer: { cell_id: '$cell', customer_count: number, recent_orders_24h: number, pending_orders: number, timestamp: text },
    directOnly: true,
  },
  {
    what: 'products keep a decimal price (an addition)',
    method: 'GET',
    path: '/api/products/sku-mouse',
    status: 200,
    answer: { product_id: 'sku-mouse', name: 'Wireless mouse', price: 29 },
  },
];

/** Replaces `$cell` and `$name` (also inside arrays and asymmetric matchers' plain objects). */
function resolve(spec: unknown, vars: Record<string, unknown>): unknown {
  if (typeof spec === 'string' && spec.startsWith('$')) return vars[spec.slice(1)];
  if (Array.isArray(spec)) return spec.map((item) => resolve(item, vars));
  if (spec && typeof spec === 'object' && Object.getPrototypeOf(spec) === Object.prototype) {
    return Object.fromEntries(Object.entries(spec).map(([key, value]) => [key, resolve(value, vars)]));
  }
  if (spec && typeof spec === 'object' && 'sample' in spec && (spec as { asymmetricMatch?: unknown }).asymmetricMatch) {
    const matcher = spec as { sample: unknown; constructor: { name: string } };
    if (matcher.constructor.name === 'ObjectContaining') return expect.objectContaining(resolve(matcher.sample, vars) as Record<string, unknown>);
  }
  return spec;
}

/**
 * Runs the steps in order against `base`. `cellOf` says which cell answered (the x-cellctl-cell
 * header through the router, the cell's own id directly); `headers` go with every request (a
 * function of the step's path: per-request headers, such as the token of the customer it names).
 */
export async function runContract(
  steps: ContractStep[],
  base: string,
  options: { direct: boolean; cellOf: (headers: Headers) => string; headers?: Record<string, string> | ((path: string) => Promise<Record<string, string>>) },
): Promise<void> {
  const vars: Record<string, unknown> = {};
  for (const step of steps) {
    if (step.directOnly && !options.direct) continue;
    const headers = typeof options.headers === 'function' ? await options.headers(step.path) : (options.headers ?? {});
    const response = await http(step.method, `${base}${step.path}`, step.body, headers);
    vars.cell = options.cellOf(response.headers);
    const where = `${step.what}: ${step.method} ${step.path} → ${response.status} ${JSON.stringify(response.body)}`;
    expect(response.status, where).toBe(step.status);
    if (step.answer) expect(response.body, where).toMatchObject(resolve(step.answer, vars) as Record<string, unknown>);
    for (const [name, field] of Object.entries(step.save ?? {})) vars[name] = response.body[field];
  }
}
