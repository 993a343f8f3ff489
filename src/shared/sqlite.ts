// The connection settings every read-write SQLite connection of cellctl uses (control.db and each
// cell's data.db): WAL so readers never wait for the writer, and foreign keys enforced.
import type Database from 'better-sqlite3';

export function configureSqlite(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
}
