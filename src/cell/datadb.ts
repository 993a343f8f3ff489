// A cell's data.db: created from its template's schema and seed, versioned with PRAGMA user_version.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import { failure } from '../shared/errors.js';
import { configureSqlite } from '../shared/sqlite.js';

/** Makes a new data.db with the schema and seed applied, all or nothing. */
export function createCellDatabase(file: string, sql: { schema: string; seed: string | null }, schemaVersion: number): void {
  if (fs.existsSync(file)) throw failure(`${file} already exists: delete the cell first or choose another name`);
  const db = new Database(file);
  try {
    configureSqlite(db);
    db.transaction(() => {
      db.exec(sql.schema);
      if (sql.seed) db.exec(sql.seed);
      db.pragma(`user_version = ${schemaVersion}`);
    })();
  } catch (error) {
    db.close();
    fs.rmSync(file, { force: true });
    throw error;
  } finally {
    if (db.open) db.close();
  }
}

/** Opens a cell's data.db for serving, refusing one of a different schema version. */
export function openCellDatabase(file: string, schemaVersion: number | null): Database.Database {
  if (!fs.existsSync(file)) throw failure(`cell database ${file} does not exist: create the cell with "cellctl create"`);
  const db = new Database(file, { fileMustExist: true });
  configureSqlite(db);
  // A short wait inside SQLite (it blocks the event loop); longer waits are retried on timers (shared/http.ts).
  db.pragma('busy_timeout = 20');
  const found = db.pragma('user_version', { simple: true }) as number;
  if (schemaVersion !== null && found !== schemaVersion) {
    db.close();
    throw failure(`cell database ${file} has schema version ${found}, the template expects ${schemaVersion}`);
  }
  return db;
}

export function readSchemaVersion(file: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}
