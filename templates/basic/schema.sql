-- basic: the beginner example's one table, as its cell creates it. cell_id records the cell the row
-- lives in (the template declares it, so a move rewrites it).
CREATE TABLE customers (
  customer_id TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  email       TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  cell_id     TEXT NOT NULL
);
