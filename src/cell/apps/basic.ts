// The "basic" example system: customer management, health that checks the database, and metrics.
import { type AppContext, type CellApp, databaseCheck } from './app.js';
import { customerRoutes } from './customers.js';

export function createBasicApp({ db }: AppContext): CellApp {
  const countCustomers = db.prepare('SELECT COUNT(*) AS n FROM customers');
  return {
    routes: customerRoutes(db, false),
    checks: () => [databaseCheck(db)],
    metrics: () => ({ customers: (countCustomers.get() as { n: number }).n }),
    close: async () => {},
  };
}
