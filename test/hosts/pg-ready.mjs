// Run inside a simulated host: exits 0 when the PostgreSQL at argv[2] answers SELECT 1, 1 when not yet.
import pg from 'pg';

const client = new pg.Client({ connectionString: process.argv[2], connectionTimeoutMillis: 2000 });
try {
  await client.connect();
  await client.query('SELECT 1');
  process.exitCode = 0;
} catch {
  process.exitCode = 1;
} finally {
  await client.end().catch(() => undefined);
}
