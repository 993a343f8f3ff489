// The "ecommerce" example system: customers with an address, products (reference data, cached in
// memory), carts, orders made from the cart at current prices, and an order queue processed by a
// worker inside the cell (pending → processing → fulfilled, with a notification).
import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { HttpError, parseWith, type RouteDef } from '../../shared/http.js';
import { type AppContext, type CellApp, databaseCheck, type HealthCheck } from './app.js';
import { customerRoutes, findCustomer } from './customers.js';
import { OrderWorker } from './order-worker.js';

interface Product {
  id: string;
  name: string;
  price_cents: number;
}

interface CartLine {
  product_id: string;
  quantity: number;
}

const cartItemSchema = z.strictObject({
  productId: z.string().min(1, 'is required'),
  quantity: z.number().int().min(1).max(1000),
});

export function createEcommerceApp({ db, log, env }: AppContext): CellApp {
  const products = loadProducts(db);
  const worker = new OrderWorker(db, log, {
    intervalMs: Number(env.CELL_WORKER_INTERVAL_MS ?? 100),
    processingMs: Number(env.CELL_ORDER_PROCESSING_MS ?? 200),
  });
  worker.start();

  const statements = {
    countCustomers: db.prepare('SELECT COUNT(*) AS n FROM customers'),
    ordersSince: db.prepare('SELECT COUNT(*) AS n FROM orders WHERE created_at >= ?'),
    pendingOrders: db.prepare("SELECT COUNT(*) AS n FROM orders WHERE status <> 'fulfilled'"),
    oldestQueued: db.prepare("SELECT MIN(available_at) AS at FROM order_events WHERE state = 'queued'"),
  };

  const checks = (): HealthCheck[] => {
    const oldest = (statements.oldestQueued.get() as { at: number | null }).at;
    const lagMs = oldest === null ? 0 : Math.max(0, Date.now() - oldest);
    return [
      databaseCheck(db),
      { name: 'cache', ok: products.size > 0, detail: `${products.size} products cached` },
      { name: 'queue', ok: worker.running && lagMs < 60_000, detail: `oldest due event ${lagMs} ms late` },
    ];
  };

  const metrics = (): Record<string, number> => ({
    customers: (statements.countCustomers.get() as { n: number }).n,
    orders_24h: (statements.ordersSince.get(new Date(Date.now() - 86_400_000).toISOString()) as { n: number }).n,
    pending_orders: (statements.pendingOrders.get() as { n: number }).n,
    products_cached: products.size,
  });

  return {
    routes: [...customerRoutes(db, true), ...productRoutes(products), ...cartRoutes(db, products), ...orderRoutes(db, products)],
    checks,
    metrics,
    close: () => worker.stop(),
  };
}

function loadProducts(db: Database.Database): Map<string, Product> {
  const rows = db.prepare('SELECT id, name, price_cents FROM products ORDER BY id').all() as Product[];
  return new Map(rows.map((row) => [row.id, row]));
}

const presentProduct = (product: Product) => ({ id: product.id, name: product.name, priceCents: product.price_cents });

function productRoutes(products: Map<string, Product>): RouteDef[] {
  return [
    { method: 'GET', path: '/api/products', handler: () => ({ status: 200, body: { products: [...products.values()].map(presentProduct) } }) },
    {
      method: 'GET',
      path: '/api/products/:productId',
      handler: ({ params }) => {
        const product = products.get(params.productId!);
        if (!product) throw new HttpError(404, `product ${params.productId} not found`, 'not_found');
        return { status: 200, body: presentProduct(product) };
      },
    },
  ];
}

function cartRoutes(db: Database.Database, products: Map<string, Product>): RouteDef[] {
  const lines = db.prepare('SELECT product_id, quantity FROM cart_items WHERE customer_id = ? ORDER BY added_at, product_id');
  const upsert = db.prepare(
    `INSERT INTO cart_items (customer_id, product_id, quantity, added_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (customer_id, product_id) DO UPDATE SET quantity = quantity + excluded.quantity`,
  );
  const presentCart = (customerId: string) => {
    const items = (lines.all(customerId) as CartLine[]).map((line) => {
      const product = products.get(line.product_id);
      const unitPriceCents = product?.price_cents ?? 0;
      return { productId: line.product_id, name: product?.name ?? null, quantity: line.quantity, unitPriceCents, lineTotalCents: unitPriceCents * line.quantity };
    });
    return { customerId, items, totalCents: items.reduce((sum, item) => sum + item.lineTotalCents, 0) };
  };
  return [
    {
      method: 'GET',
      path: '/api/customers/:id/cart',
      handler: ({ params }) => {
        findCustomer(db, params.id!);
        return { status: 200, body: presentCart(params.id!) };
      },
    },
    {
      method: 'POST',
      path: '/api/customers/:id/cart/items',
      handler: async ({ params, body }) => {
        const item = parseWith(cartItemSchema, await body());
        findCustomer(db, params.id!);
        if (!products.has(item.productId)) throw new HttpError(400, `product ${item.productId} does not exist; GET /api/products lists them`, 'invalid_body');
        upsert.run(params.id!, item.productId, item.quantity, new Date().toISOString());
        return { status: 201, body: presentCart(params.id!) };
      },
    },
    {
      method: 'DELETE',
      path: '/api/customers/:id/cart/items/:productId',
      handler: ({ params }) => {
        const removed = db.prepare('DELETE FROM cart_items WHERE customer_id = ? AND product_id = ?').run(params.id!, params.productId!).changes;
        if (removed === 0) throw new HttpError(404, `product ${params.productId} is not in the cart`, 'not_found');
        return { status: 200, body: presentCart(params.id!) };
      },
    },
  ];
}

interface OrderRow {
  id: string;
  customer_id: string;
  status: string;
  total_cents: number;
  created_at: string;
  updated_at: string;
}

function orderRoutes(db: Database.Database, products: Map<string, Product>): RouteDef[] {
  const cartLines = db.prepare('SELECT product_id, quantity FROM cart_items WHERE customer_id = ? ORDER BY product_id');
  const insertOrder = db.prepare(
    "INSERT INTO orders (id, customer_id, status, total_cents, created_at, updated_at) VALUES (?, ?, 'pending', ?, ?, ?)",
  );
  const insertItem = db.prepare(
    'INSERT INTO order_items (order_id, customer_id, product_id, quantity, unit_price_cents) VALUES (?, ?, ?, ?, ?)',
  );
  const insertEvent = db.prepare(
    "INSERT INTO order_events (id, order_id, customer_id, kind, state, available_at, created_at) VALUES (?, ?, ?, 'order.placed', 'queued', ?, ?)",
  );
  const clearCart = db.prepare('DELETE FROM cart_items WHERE customer_id = ?');
  const itemsOf = db.prepare('SELECT product_id, quantity, unit_price_cents FROM order_items WHERE order_id = ? ORDER BY product_id');
  const presentOrder = (row: OrderRow) => ({
    id: row.id,
    customerId: row.customer_id,
    status: row.status,
    totalCents: row.total_cents,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    items: (itemsOf.all(row.id) as { product_id: string; quantity: number; unit_price_cents: number }[]).map((item) => ({
      productId: item.product_id,
      quantity: item.quantity,
      unitPriceCents: item.unit_price_cents,
    })),
  });

  // One transaction: the order, its lines at current prices, the emptied cart and the queued event.
  const placeOrder = db.transaction((customerId: string): string => {
    const lines = cartLines.all(customerId) as CartLine[];
    if (lines.length === 0) throw new HttpError(400, 'the cart is empty: add items with POST /api/customers/:id/cart/items first', 'empty_cart');
    const priced = lines.map((line) => {
      const product = products.get(line.product_id);
      if (!product) throw new HttpError(409, `product ${line.product_id} is no longer sold; remove it from the cart`, 'conflict');
      return { ...line, price: product.price_cents };
    });
    const orderId = randomUUID();
    const at = new Date().toISOString();
    insertOrder.run(orderId, customerId, priced.reduce((sum, line) => sum + line.price * line.quantity, 0), at, at);
    for (const line of priced) insertItem.run(orderId, customerId, line.product_id, line.quantity, line.price);
    insertEvent.run(randomUUID(), orderId, customerId, Date.now(), at);
    clearCart.run(customerId);
    return orderId;
  });

  const getOrder = (customerId: string, orderId: string): OrderRow => {
    const row = db.prepare('SELECT * FROM orders WHERE id = ? AND customer_id = ?').get(orderId, customerId) as OrderRow | undefined;
    if (!row) throw new HttpError(404, `order ${orderId} not found for customer ${customerId}`, 'not_found');
    return row;
  };

  return [
    {
      method: 'POST',
      path: '/api/customers/:id/orders',
      handler: ({ params }) => {
        findCustomer(db, params.id!);
        const orderId = placeOrder.immediate(params.id!);
        return { status: 201, body: presentOrder(getOrder(params.id!, orderId)), headers: { location: `/api/customers/${params.id}/orders/${orderId}` } };
      },
    },
    {
      method: 'GET',
      path: '/api/customers/:id/orders',
      handler: ({ params }) => {
        findCustomer(db, params.id!);
        const rows = db.prepare('SELECT * FROM orders WHERE customer_id = ? ORDER BY created_at, id').all(params.id!) as OrderRow[];
        return { status: 200, body: { orders: rows.map(presentOrder) } };
      },
    },
    {
      method: 'GET',
      path: '/api/customers/:id/orders/:orderId',
      handler: ({ params }) => ({ status: 200, body: presentOrder(getOrder(params.id!, params.orderId!)) }),
    },
    {
      method: 'GET',
      path: '/api/customers/:id/notifications',
      handler: ({ params }) => {
        findCustomer(db, params.id!);
        const rows = db
          .prepare('SELECT id, order_id, channel, message, created_at FROM notifications WHERE customer_id = ? ORDER BY created_at, id')
          .all(params.id!) as { id: string; order_id: string; channel: string; message: string; created_at: string }[];
        return {
          status: 200,
          body: { notifications: rows.map((row) => ({ id: row.id, orderId: row.order_id, channel: row.channel, message: row.message, createdAt: row.created_at })) },
        };
      },
    },
  ];
}
