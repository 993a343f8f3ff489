-- ecommerce: the intermediate example's tables, and what it kept in Redis, SQS and S3, in one
-- SQLite file. Column names are the example's (customer_id, order_id, product_id, cell_id); money is
-- kept in integer cents and answered as decimals. Customer-scoped rows use text ids so they can move
-- between cells without colliding, and every customer and foreign-key column is indexed: moving or
-- deleting one customer touches only its rows.
CREATE TABLE customers (
  customer_id TEXT PRIMARY KEY,
  email       TEXT NOT NULL UNIQUE,
  name        TEXT NOT NULL,
  address     TEXT CHECK (address IS NULL OR json_valid(address)),
  created_at  TEXT NOT NULL,
  -- The example's PUT sets updated_at, which its table lacks.
  updated_at  TEXT NOT NULL,
  cell_id     TEXT NOT NULL
);

CREATE TABLE products (
  product_id      TEXT PRIMARY KEY,
  name            TEXT NOT NULL,
  description     TEXT,
  price_cents     INTEGER NOT NULL CHECK (price_cents >= 0),
  inventory_count INTEGER NOT NULL DEFAULT 0,
  created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE cart_items (
  customer_id TEXT NOT NULL REFERENCES customers(customer_id) ON DELETE CASCADE,
  product_id  TEXT NOT NULL REFERENCES products(product_id),
  quantity    INTEGER NOT NULL CHECK (quantity > 0),
  added_at    TEXT NOT NULL,
  PRIMARY KEY (customer_id, product_id)
);

CREATE TABLE orders (
  order_id    TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL REFERENCES customers(customer_id) ON DELETE CASCADE,
  status      TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'fulfilled')),
  total_cents INTEGER NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  cell_id     TEXT NOT NULL
);
CREATE INDEX orders_by_customer ON orders(customer_id, created_at);
CREATE INDEX orders_by_created ON orders(created_at);

CREATE TABLE order_items (
  order_id         TEXT NOT NULL REFERENCES orders(order_id) ON DELETE CASCADE,
  customer_id      TEXT NOT NULL,
  product_id       TEXT NOT NULL REFERENCES products(product_id),
  quantity         INTEGER NOT NULL CHECK (quantity > 0),
  unit_price_cents INTEGER NOT NULL,
  added_at         TEXT NOT NULL,
  PRIMARY KEY (order_id, product_id)
);
CREATE INDEX order_items_by_customer ON order_items(customer_id);

-- The queue (SQS in the original): one row per order event, worked by the cell's order worker.
CREATE TABLE order_events (
  id           TEXT PRIMARY KEY,
  order_id     TEXT NOT NULL REFERENCES orders(order_id) ON DELETE CASCADE,
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
  order_id    TEXT NOT NULL REFERENCES orders(order_id) ON DELETE CASCADE,
  channel     TEXT NOT NULL,
  message     TEXT NOT NULL,
  created_at  TEXT NOT NULL
);
CREATE INDEX notifications_by_customer ON notifications(customer_id);
CREATE INDEX notifications_by_order ON notifications(order_id);
