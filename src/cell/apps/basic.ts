// The "basic" example system (the beginner example's cell): customers with a name and an email,
// health that checks the database, and a customer count.
import type Database from 'better-sqlite3';
import { HttpError, type RouteDef } from '../../shared/http.js';
import { type AppContext, type CellApp, databaseCheck, isHealthy } from './app.js';
import {
  changedText,
  conflictOnDuplicate,
  customerNotFound,
  findCustomer,
  nameAndEmail,
  nowIso,
  objectBody,
  presentCustomer,
  readCustomerRoute,
} from './customers.js';

export function createBasicApp({ db, cellId }: AppContext): CellApp {
  const countCustomers = db.prepare('SELECT COUNT(*) AS n FROM customers');
  return {
    routes: basicCustomerRoutes(db, cellId),
    health: () => {
      const database = databaseCheck(db);
      const healthy = isHealthy(database);
      return { healthy, body: { status: healthy ? 'healthy' : 'unhealthy', cell_id: cellId, database } };
    },
    metrics: () => ({ customer_count: (countCustomers.get() as { n: number }).n }),
    close: async () => {},
  };
}

function basicCustomerRoutes(db: Database.Database, cellId: string): RouteDef[] {
  const insert = db.prepare('INSERT INTO customers (customer_id, name, email, created_at, cell_id) VALUES (?, ?, ?, ?, ?)');
  return [
    readCustomerRoute(db),
    {
      method: 'POST',
      path: '/api/customers/:id',
      handler: async ({ params, body }) => {
        const customerId = params.id!;
        const { name, email } = nameAndEmail(await objectBody(body));
        conflictOnDuplicate(() => insert.run(customerId, name, email, nowIso(), cellId));
        return {
          status: 201,
          body: { customer_id: customerId, name, email, cell_id: cellId, status: 'created' },
          headers: { location: `/api/customers/${encodeURIComponent(customerId)}` },
        };
      },
    },
    {
      method: 'PUT',
      path: '/api/customers/:id',
      handler: async ({ params, body }) => {
        const data = await objectBody(body);
        if (!data || Object.keys(data).length === 0) throw new HttpError('no_data', 'No data provided');
        findCustomer(db, params.id!);
        const changes = changedText(data, ['name', 'email']);
        const fields = Object.keys(changes);
        if (fields.length > 0) {
          db.prepare(`UPDATE customers SET ${fields.map((field) => `${field} = ?`).join(', ')} WHERE customer_id = ?`).run(
            ...Object.values(changes),
            params.id!,
          );
        }
        return { status: 200, body: presentCustomer(findCustomer(db, params.id!)) };
      },
    },
    {
      // An addition: the example's cell has no DELETE.
      method: 'DELETE',
      path: '/api/customers/:id',
      handler: ({ params }) => {
        if (db.prepare('DELETE FROM customers WHERE customer_id = ?').run(params.id!).changes === 0) throw customerNotFound();
        return { status: 200, body: { status: 'deleted', customer_id: params.id! } };
      },
    },
  ];
}
