// The kill drill: light load on every customer through the router (paced within the router's
// per-customer rate limit), kill one cell, let the supervisor bring it back, and record every answer.
import { routerPublicUrl } from '../router/client.js';
import { findSupervisor } from '../supervisor/client.js';
import { failure } from '../shared/errors.js';
import { delay } from '../shared/time.js';
import type { Workspace } from '../workspace/workspace.js';
import { engineRuntime } from '../workspace/engines.js';
import { CustomerClient } from '../workload/customers.js';
import { readJwtKey } from '../workspace/secrets.js';
import { drillSpacingMs } from './pace.js';
import { type DrillSample, type DrillSummary, summarizeDrill } from './summary.js';

export interface DrillOptions {
  durationMs: number;
  concurrency: number;
  /** Load before the kill, to have a baseline. */
  warmupMs: number;
}

/** The supervised cell's pid: the supervisor restarts it once killed. */
async function supervisedPid(ws: Workspace, victim: string): Promise<number> {
  const supervisor = findSupervisor(ws.home);
  const status = supervisor ? await supervisor.status() : null;
  const proc = status?.processes.find((candidate) => candidate.name === victim);
  if (!status || !proc || proc.state !== 'running' || proc.pid === null) {
    throw failure(`cell ${victim} is not running under the supervisor: start the system with "cellctl start" first`);
  }
  return proc.pid;
}

export async function killDrill(ws: Workspace, victim: string, options: DrillOptions, onPhase: (text: string) => void): Promise<DrillSummary> {
  if ((await ws.plane.getCell(victim))?.managed === false)
    throw failure(`cell ${victim} is registered and runs elsewhere: a drill kills only cells this workspace runs`);
  const engine = engineRuntime(ws);
  const victimPid = engine ? await engine.hostPid(victim) : await supervisedPid(ws, victim);
  const mapping = new Map((await ws.plane.listCustomers()).map((customer) => [customer.id, customer.cellId]));
  if (mapping.size === 0) throw failure('no customers are mapped: create some first (e.g. "cellctl up --customers 50")');
  const customers = [...mapping.keys()];
  const client = new CustomerClient({ routerUrl: routerPublicUrl(ws.settings), jwtKey: ws.settings.auth === 'jwt' ? readJwtKey(ws.home) : null });
  const samples: DrillSample[] = [];
  const spacingMs = drillSpacingMs({
    customers: customers.length,
    workers: options.concurrency,
    totalMs: options.warmupMs + options.durationMs,
    rateLimit: ws.settings.limits.rateLimit,
  });
  let stop = false;
  let next = 0;
  const worker = async () => {
    while (!stop) {
      const customerId = customers[next++ % customers.length]!;
      let code = 0;
      try {
        code = (await client.request('GET', customerId)).status;
      } catch {
        code = 0;
      }
      samples.push({ customerId, at: Date.now(), status: code });
      await delay(spacingMs);
    }
  };
  const load = Array.from({ length: options.concurrency }, worker);
  try {
    onPhase(`load on ${customers.length} customers through the router`);
    await delay(options.warmupMs);
    const killedAt = Date.now();
    process.kill(victimPid, 'SIGKILL');
    onPhase(`killed ${victim} (pid ${victimPid}); watching for ${options.durationMs / 1000} s`);
    await delay(options.durationMs);
    stop = true;
    await Promise.all(load);
    return summarizeDrill(samples, mapping, victim, killedAt);
  } finally {
    stop = true;
    client.close();
  }
}
