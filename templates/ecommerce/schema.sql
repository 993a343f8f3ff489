-- ecommerce: what the original kept in Postgres, Redis, SQS and S3 lives here in one SQLite file.
-- Customer-scoped rows use text ids so they can move between cells without colliding, and every
-- customer and foreign-key column is indexed: moving or deleting one customer touches only its rows.
CREATE TABLE customers (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  email      TEXT NOT NULL UNIQUE,
  address    TEXT CHECK (address IS NULL OR json_valid(address)),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE products (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  price_cents INTEGER NOT NULL CHECK (price_cents >= 0)
);

CREATE TABLE cart_items (
  customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  product_id  TEXT NOT NULL REFERENCES products(id),
  quantity    INTEGER NOT NULL CHECK (quantity > 0),
  added_at    TEXT NOT NULL,
  PRIMARY KEY (customer_id, product_id)
);

CREATE TABLE orders (
  id          TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  status      TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'fulfilled')),
  total_cents INTEGER NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
CREATE INDEX orders_by_customer ON orders(customer_id, created_at);
CREATE INDEX orders_by_created ON orders(created_at);

CREATE TABLE order_items (
  order_id         TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  customer_id      TEXT NOT NULL,
  product_id       TEXT NOT NULL REFERENCES products(id),
  quantity         INTEGER NOT NULL CHECK (quantity > 0),
  unit_price_cents INTEGER NOT NULL,
  PRIMARY KEY (order_id, product_id)
);
CREATE INDEX order_items_by_customer ON order_items(customer_id);

-- The queue (SQS in the original): one row per order event, worked by the cell's order worker.
CREATE TABLE order_events (
  id           TEXT PRIMARY KEY,
  order_id     TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  customer_id  TEXT NOT NULL,
  kind         TEXT NOT NULL CHECK (kind IN ('order.placed', 'order.processing')),
  state        TEXT NOT NULL CHECK (state IN ('queued', 'done')),
  attempts     INTEGER NOT NULL DEFAULT 0,
  available_at INTEGER NOT NULL,
  created_at   TEXT NOT NULL
);
CREATE INDEX order_events_due ON order_events(state, available_at);
CREATE INDEX order_events_by_customer ON order_events(customer_id);
CREATE INDEX order_events_by_order ON order_events(order_id);

CREATE TABLE notifications (
  id          TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL,
  order_id    TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  channel     TEXT NOT NULL,
  message     TEXT NOT NULL,
  created_at  TEXT NOT NULL
);
CREATE INDEX notifications_by_customer ON notifications(customer_id);
CREATE INDEX notifications_by_order ON notifications(order_id);
