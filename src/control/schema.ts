// control.db's schema. Triggers bump `mapping_version` on every change to cells or customers, so the
// router can tell by one read whether its in-memory mapping is stale, and load only what changed.
// A running migration has an owner (a random token, its pid, host and process start) and a lease:
// every journal write is a compare-and-set on the token, and another process takes over only once
// the lease lapsed or the owner is known dead.

export const CONTROL_SCHEMA_VERSION = 4;

export const CONTROL_SCHEMA = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE cells (
  id             TEXT PRIMARY KEY,
  template       TEXT NOT NULL,
  template_dir   TEXT NOT NULL,
  schema_version INTEGER NOT NULL,
  -- The port of its URL (cells on other hosts may share a number; createCell keeps local ones apart).
  port           INTEGER NOT NULL,
  capacity       INTEGER NOT NULL CHECK (capacity > 0),
  health_path    TEXT NOT NULL DEFAULT '/health',
  status         TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'draining')),
  created_at     TEXT NOT NULL,
  -- Set the first time the cell was seen healthy; until then placement sends it no new customers.
  first_healthy_at TEXT,
  -- Where the router sends its customers, and where its data API answers (DESIGN.md, "Cells on any host").
  url            TEXT NOT NULL,
  data_url       TEXT NOT NULL,
  -- The local port of the data API of a cell this workspace runs; null for a registered cell.
  data_port      INTEGER,
  -- 1: started by this workspace's supervisor; 0: registered by URL, run by someone else.
  managed        INTEGER NOT NULL DEFAULT 1 CHECK (managed IN (0, 1))
);

CREATE TABLE customers (
  id         TEXT PRIMARY KEY,
  cell_id    TEXT NOT NULL REFERENCES cells(id),
  created_at TEXT NOT NULL,
  rev        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX customers_by_cell ON customers(cell_id);
CREATE INDEX customers_by_rev ON customers(rev);

CREATE TABLE migrations (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  customer_id       TEXT NOT NULL,
  source_cell       TEXT NOT NULL,
  target_cell       TEXT NOT NULL,
  step              TEXT NOT NULL,
  state             TEXT NOT NULL CHECK (state IN ('running', 'done', 'aborted', 'failed')),
  keep_source_until TEXT,
  batch             TEXT,
  detail            TEXT NOT NULL DEFAULT '{}',
  error             TEXT,
  started_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL,
  owner             TEXT,
  owner_pid         INTEGER,
  owner_host        TEXT,
  owner_started     TEXT,
  lease_until       INTEGER,
  -- Raised at every change of owner (meta.fencing_seq); cells refuse data writes with a lower one.
  fencing           INTEGER NOT NULL DEFAULT 0
);
-- One migration per customer at a time, enforced by the database itself.
CREATE UNIQUE INDEX one_running_migration_per_customer ON migrations(customer_id) WHERE state = 'running';
CREATE INDEX migrations_by_state ON migrations(state);

CREATE TABLE events (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  at      TEXT NOT NULL,
  source  TEXT NOT NULL,
  kind    TEXT NOT NULL,
  subject TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX events_by_subject ON events(subject, id);

CREATE TRIGGER customers_inserted AFTER INSERT ON customers BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'mapping_version';
  UPDATE customers SET rev = (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'mapping_version') WHERE id = NEW.id;
END;
CREATE TRIGGER customers_moved AFTER UPDATE OF cell_id ON customers BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'mapping_version';
  UPDATE customers SET rev = (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'mapping_version') WHERE id = NEW.id;
END;
CREATE TRIGGER customers_deleted AFTER DELETE ON customers BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'mapping_version';
END;
CREATE TRIGGER cells_inserted AFTER INSERT ON cells BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'mapping_version';
END;
CREATE TRIGGER cells_updated AFTER UPDATE ON cells BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'mapping_version';
END;
CREATE TRIGGER cells_deleted AFTER DELETE ON cells BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'mapping_version';
END;
`;

/**
 * Upgrades from each older schema version to the next, in order (index 0: version 1 → 2). Cells of
 * an older workspace already took customers, so version 3 counts them as seen healthy.
 */
export const CONTROL_SCHEMA_UPGRADES: readonly string[] = [
  `ALTER TABLE migrations ADD COLUMN owner TEXT;
   ALTER TABLE migrations ADD COLUMN owner_pid INTEGER;
   ALTER TABLE migrations ADD COLUMN owner_host TEXT;
   ALTER TABLE migrations ADD COLUMN owner_started TEXT;
   ALTER TABLE migrations ADD COLUMN lease_until INTEGER;`,
  `ALTER TABLE cells ADD COLUMN first_healthy_at TEXT;
   UPDATE cells SET first_healthy_at = created_at;`,
  // Version 4: cells by URL. The port stops being unique, which SQLite changes only by a new table;
  // a cell made before this serves its data API on its port + 1000 (cell.json says so from now on).
  `CREATE TABLE cells_v4 (
     id TEXT PRIMARY KEY, template TEXT NOT NULL, template_dir TEXT NOT NULL, schema_version INTEGER NOT NULL,
     port INTEGER NOT NULL, capacity INTEGER NOT NULL CHECK (capacity > 0), health_path TEXT NOT NULL DEFAULT '/health',
     status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'draining')), created_at TEXT NOT NULL,
     first_healthy_at TEXT, url TEXT NOT NULL, data_url TEXT NOT NULL, data_port INTEGER,
     managed INTEGER NOT NULL DEFAULT 1 CHECK (managed IN (0, 1)));
   INSERT INTO cells_v4 SELECT id, template, template_dir, schema_version, port, capacity, health_path, status, created_at,
     first_healthy_at, 'http://127.0.0.1:' || port, 'http://127.0.0.1:' || (port + 1000), port + 1000, 1 FROM cells;
   DROP TABLE cells;
   ALTER TABLE cells_v4 RENAME TO cells;
   CREATE TRIGGER cells_inserted AFTER INSERT ON cells BEGIN
     UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'mapping_version';
   END;
   CREATE TRIGGER cells_updated AFTER UPDATE ON cells BEGIN
     UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'mapping_version';
   END;
   CREATE TRIGGER cells_deleted AFTER DELETE ON cells BEGIN
     UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'mapping_version';
   END;
   ALTER TABLE migrations ADD COLUMN fencing INTEGER NOT NULL DEFAULT 0;
   INSERT OR IGNORE INTO meta (key, value) VALUES ('fencing_seq', '0');`,
];
