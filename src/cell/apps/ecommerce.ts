// The "ecommerce" example system (the intermediate example's cell): customers with a free-form JSON
// address, products (reference data, cached in memory), carts, orders made from the cart at current
// prices, and an order queue worked inside the cell (pending → processing → fulfilled, with a
// notification). Money is kept in integer cents and answered as decimal numbers, as the example does.
import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { HttpError, type RouteDef } from '../../shared/http.js';
import { type AppContext, type CellApp, databaseCheck, HEALTHY, isHealthy } from './app.js';
import {
  apiTime,
  apiTimes,
  changedText,
  conflictOnDuplicate,
  customerNotFound,
  nameAndEmail,
  nowIso,
  objectBody,
  readCustomerRoute,
  requireCustomer,
} from './customers.js';
import { OrderWorker } from './order-worker.js';
import { notBarredClause } from '../../data/barrier.js';

interface Product {
  product_id: string;
  name: string;
  description: string | null;
  price_cents: number;
  inventory_count: number;
}

const decimal = (cents: number): number => Math.round(cents) / 100;

/** How far behind the queue may fall before health says so. */
const QUEUE_LAG_LIMIT_MS = 60_000;

export function createEcommerceApp({ db, log, env, cellId }: AppContext): CellApp {
  const products = loadProducts(db);
  const worker = new OrderWorker(db, log, {
    intervalMs: Number(env.CELL_WORKER_INTERVAL_MS ?? 100),
    processingMs: Number(env.CELL_ORDER_PROCESSING_MS ?? 200),
  });
  worker.start();

  const statements = {
    countCustomers: db.prepare('SELECT COUNT(*) AS n FROM customers'),
    ordersSince: db.prepare('SELECT COUNT(*) AS n FROM orders WHERE created_at > ?'),
    pendingOrders: db.prepare("SELECT COUNT(*) AS n FROM orders WHERE status = 'pending'"),
    // Events of customers barred by a move wait for it on purpose: not lag.
    oldestQueued: db.prepare(`SELECT MIN(available_at) AS at FROM order_events WHERE state = 'queued' ${notBarredClause(db, 'customer_id')}`),
  };

  const health = () => {
    const oldest = (statements.oldestQueued.get() as { at: number | null }).at;
    const lagMs = oldest === null ? 0 : Math.max(0, Date.now() - oldest);
    const checks = {
      database: databaseCheck(db),
      cache: products.size > 0 ? HEALTHY : 'unhealthy: no products cached',
      queue: !worker.running
        ? 'unhealthy: the order worker is stopped'
        : lagMs >= QUEUE_LAG_LIMIT_MS
          ? `unhealthy: oldest due event ${lagMs} ms late`
          : HEALTHY,
    };
    const healthy = Object.values(checks).every(isHealthy);
    return { healthy, body: { cell_id: cellId, status: healthy ? 'healthy' : 'unhealthy', checks } };
  };

  const metrics = (): Record<string, number> => ({
    customer_count: (statements.countCustomers.get() as { n: number }).n,
    recent_orders_24h: (statements.ordersSince.get(new Date(Date.now() - 86_400_000).toISOString()) as { n: number }).n,
    pending_orders: (statements.pendingOrders.get() as { n: number }).n,
  });

  return {
    routes: [...customerRoutes(db, cellId), ...productRoutes(products), ...cartRoutes(db, cellId, products), ...orderRoutes(db, cellId, products)],
    health,
    metrics,
    close: () => worker.stop(),
  };
}

function loadProducts(db: Database.Database): Map<string, Product> {
  const rows = db.prepare('SELECT product_id, name, description, price_cents, inventory_count FROM products ORDER BY product_id').all() as Product[];
  return new Map(rows.map((row) => [row.product_id, row]));
}

/** The customer resource: GET and PUT as the example; POST (create) and DELETE are additions in its style. */
function customerRoutes(db: Database.Database, cellId: string): RouteDef[] {
  const insert = db.prepare('INSERT INTO customers (customer_id, email, name, address, created_at, updated_at, cell_id) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const addressJson = (data: Record<string, unknown>) => (data.address === undefined || data.address === null ? null : JSON.stringify(data.address));
  return [
    readCustomerRoute(db),
    {
      method: 'POST',
      path: '/api/customers/:id',
      handler: async ({ params, body }) => {
        const customerId = params.id!;
        const data = await objectBody(body);
        const { name, email } = nameAndEmail(data);
        const at = nowIso();
        conflictOnDuplicate(() => insert.run(customerId, email, name, addressJson(data!), at, at, cellId));
        const answer = { customer_id: customerId, name, email, address: data!.address ?? null, cell_id: cellId, status: 'created' };
        return { status: 201, body: answer, headers: { location: `/api/customers/${encodeURIComponent(customerId)}` } };
      },
    },
    {
      method: 'PUT',
      path: '/api/customers/:id',
      handler: async ({ params, body }) => {
        const customerId = params.id!;
        const data = await objectBody(body);
        if (!data) throw new HttpError('no_data', 'No data provided');
        requireCustomer(db, customerId);
        const changes: Record<string, string | null> = changedText(data, ['name', 'email']);
        if ('address' in data) changes.address = addressJson(data);
        const fields = Object.keys(changes);
        if (fields.length > 0) {
          const assignments = [...fields.map((field) => `${field} = ?`), 'updated_at = ?'].join(', ');
          conflictOnDuplicate(() =>
            db.prepare(`UPDATE customers SET ${assignments} WHERE customer_id = ?`).run(...Object.values(changes), nowIso(), customerId),
          );
        }
        return { status: 200, body: { status: 'updated', customer_id: customerId } };
      },
    },
    {
      method: 'DELETE',
      path: '/api/customers/:id',
      handler: ({ params }) => {
        if (db.prepare('DELETE FROM customers WHERE customer_id = ?').run(params.id!).changes === 0) throw customerNotFound();
        return { status: 200, body: { status: 'deleted', customer_id: params.id! } };
      },
    },
  ];
}

const presentProduct = (product: Product) => ({
  product_id: product.product_id,
  name: product.name,
  description: product.description,
  price: decimal(product.price_cents),
  inventory_count: product.inventory_count,
});

/** Additions: the example keeps products but serves no endpoint for them. */
function productRoutes(products: Map<string, Product>): RouteDef[] {
  return [
    { method: 'GET', path: '/api/products', handler: () => ({ status: 200, body: { products: [...products.values()].map(presentProduct) } }) },
    {
      method: 'GET',
      path: '/api/products/:productId',
      handler: ({ params }) => {
        const product = products.get(params.productId!);
        if (!product) throw new HttpError('product_not_found', 'Product not found');
        return { status: 200, body: presentProduct(product) };
      },
    },
  ];
}

interface CartLine {
  product_id: string;
  quantity: number;
  added_at: string;
}

function cartRoutes(db: Database.Database, cellId: string, products: Map<string, Product>): RouteDef[] {
  const lines = db.prepare('SELECT product_id, quantity, added_at FROM cart_items WHERE customer_id = ? ORDER BY added_at, product_id');
  const upsert = db.prepare(
    `INSERT INTO cart_items (customer_id, product_id, quantity, added_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (customer_id, product_id) DO UPDATE SET quantity = quantity + excluded.quantity`,
  );
  const items = (customerId: string) => (lines.all(customerId) as CartLine[]).map(apiTimes);
  return [
    {
      method: 'GET',
      path: '/api/customers/:id/cart',
      handler: ({ params }) => {
        requireCustomer(db, params.id!);
        return { status: 200, body: { customer_id: params.id!, items: items(params.id!), cell_id: cellId } };
      },
    },
    {
      method: 'POST',
      path: '/api/customers/:id/cart/items',
      handler: async ({ params, body }) => {
        const data = (await objectBody(body)) ?? {};
        const productId = data.product_id;
        if (productId === undefined || productId === null || productId === '') throw new HttpError('product_id_required', 'Product ID required');
        const quantity = data.quantity ?? 1;
        if (!Number.isInteger(quantity) || (quantity as number) < 1 || (quantity as number) > 1_000_000) {
          throw new HttpError('invalid_quantity', 'Quantity must be a whole number from 1');
        }
        if (typeof productId !== 'string' || !products.has(productId)) throw new HttpError('product_not_found', 'Product not found', 400);
        requireCustomer(db, params.id!);
        // The write and the answer's read in one transaction: a busy database fails it before it wrote.
        const after = db
          .transaction(() => {
            upsert.run(params.id!, productId, quantity, nowIso());
            return items(params.id!);
          })
          .immediate();
        return { status: 200, body: { status: 'added', customer_id: params.id!, items: after } };
      },
    },
    {
      method: 'DELETE',
      path: '/api/customers/:id/cart/items/:productId',
      handler: ({ params }) => {
        const left = db
          .transaction(() => {
            const removed = db.prepare('DELETE FROM cart_items WHERE customer_id = ? AND product_id = ?').run(params.id!, params.productId!).changes;
            return removed === 0 ? null : items(params.id!);
          })
          .immediate();
        if (left === null) throw new HttpError('not_in_cart', 'Product not in cart');
        return { status: 200, body: { status: 'removed', customer_id: params.id!, items: left } };
      },
    },
  ];
}

interface OrderRow {
  order_id: string;
  customer_id: string;
  status: string;
  total_cents: number;
  created_at: string;
  updated_at: string;
  cell_id: string;
}

/** The order routes' statements, prepared once. */
function orderStatements(db: Database.Database) {
  return {
    cartLines: db.prepare('SELECT product_id, quantity, added_at FROM cart_items WHERE customer_id = ? ORDER BY added_at, product_id'),
    insertOrder: db.prepare(
      "INSERT INTO orders (order_id, customer_id, status, total_cents, created_at, updated_at, cell_id) VALUES (?, ?, 'pending', ?, ?, ?, ?)",
    ),
    insertItem: db.prepare('INSERT INTO order_items (order_id, customer_id, product_id, quantity, unit_price_cents, added_at) VALUES (?, ?, ?, ?, ?, ?)'),
    insertEvent: db.prepare(
      "INSERT INTO order_events (id, order_id, customer_id, kind, state, available_at, created_at) VALUES (?, ?, ?, 'order.placed', 'queued', ?, ?)",
    ),
    clearCart: db.prepare('DELETE FROM cart_items WHERE customer_id = ?'),
    itemsOf: db.prepare('SELECT product_id, quantity, added_at, unit_price_cents FROM order_items WHERE order_id = ? ORDER BY added_at, product_id'),
  };
}
type OrderStatements = ReturnType<typeof orderStatements>;

/** The example's order row: its columns, `total_amount` decimal and `items` as the cart held them (plus each unit price). */
function presentOrder(statements: OrderStatements, row: OrderRow) {
  return {
    order_id: row.order_id,
    customer_id: row.customer_id,
    status: row.status,
    total_amount: decimal(row.total_cents),
    items: (statements.itemsOf.all(row.order_id) as (CartLine & { unit_price_cents: number })[]).map(({ unit_price_cents, ...item }) => ({
      ...apiTimes(item),
      unit_price: decimal(unit_price_cents),
    })),
    created_at: apiTime(row.created_at),
    updated_at: apiTime(row.updated_at),
    cell_id: row.cell_id,
  };
}

/** Places an order from a customer's cart in one transaction: the order, its lines at current prices, the emptied cart and the queued event. */
function orderPlacer(db: Database.Database, statements: OrderStatements, cellId: string, products: Map<string, Product>) {
  const { cartLines, insertOrder, insertItem, insertEvent, clearCart } = statements;
  return db.transaction((customerId: string): OrderRow => {
    const lines = cartLines.all(customerId) as CartLine[];
    if (lines.length === 0) throw new HttpError('cart_empty', 'Cart is empty');
    const priced = lines.map((line) => {
      const product = products.get(line.product_id);
      if (!product) throw new HttpError('product_gone', `Product ${line.product_id} is no longer sold; remove it from the cart`);
      return { ...line, price: product.price_cents };
    });
    const orderId = randomUUID();
    const at = nowIso();
    const totalCents = priced.reduce((sum, line) => sum + line.price * line.quantity, 0);
    insertOrder.run(orderId, customerId, totalCents, at, at, cellId);
    for (const line of priced) insertItem.run(orderId, customerId, line.product_id, line.quantity, line.price, line.added_at);
    insertEvent.run(randomUUID(), orderId, customerId, Date.now(), at);
    clearCart.run(customerId);
    return { order_id: orderId, customer_id: customerId, status: 'pending', total_cents: totalCents, created_at: at, updated_at: at, cell_id: cellId };
  });
}

/** The e-commerce example's order endpoints: place an order from the cart, list, show, and the notifications the order worker wrote. */
function orderRoutes(db: Database.Database, cellId: string, products: Map<string, Product>): RouteDef[] {
  const statements = orderStatements(db);
  const placeOrder = orderPlacer(db, statements, cellId, products);
  return [
    {
      method: 'POST',
      path: '/api/customers/:id/orders',
      handler: ({ params }) => {
        requireCustomer(db, params.id!);
        const order = placeOrder.immediate(params.id!);
        return {
          status: 201,
          body: { order_id: order.order_id, status: 'pending', total_amount: decimal(order.total_cents), cell_id: cellId },
          headers: { location: `/api/customers/${encodeURIComponent(params.id!)}/orders/${order.order_id}` },
        };
      },
    },
    {
      method: 'GET',
      path: '/api/customers/:id/orders',
      handler: ({ params }) => {
        requireCustomer(db, params.id!);
        const rows = db.prepare('SELECT * FROM orders WHERE customer_id = ? ORDER BY created_at DESC, rowid DESC').all(params.id!) as OrderRow[];
        return { status: 200, body: { customer_id: params.id!, orders: rows.map((row) => presentOrder(statements, row)), cell_id: cellId } };
      },
    },
    {
      method: 'GET',
      path: '/api/customers/:id/orders/:orderId',
      handler: ({ params }) => {
        const row = db.prepare('SELECT * FROM orders WHERE order_id = ? AND customer_id = ?').get(params.orderId!, params.id!) as OrderRow | undefined;
        if (!row) throw new HttpError('order_not_found', 'Order not found');
        return { status: 200, body: presentOrder(statements, row) };
      },
    },
    {
      method: 'GET',
      path: '/api/customers/:id/notifications',
      handler: ({ params }) => {
        requireCustomer(db, params.id!);
        const rows = db
          .prepare(
            'SELECT id AS notification_id, order_id, channel, message, created_at FROM notifications WHERE customer_id = ? ORDER BY created_at DESC, rowid DESC',
          )
          .all(params.id!);
        return { status: 200, body: { customer_id: params.id!, notifications: (rows as object[]).map(apiTimes), cell_id: cellId } };
      },
    },
  ];
}
