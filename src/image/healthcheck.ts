// The image's HEALTHCHECK: probes the process the container runs, found from its role (roles.ts),
// and exits 0 when it answers 200 within 3 s, else 1 with one line saying why (Docker keeps the
// line in the container's health log).
import { probeHealth } from '../cell/client.js';
import { HEALTH_TIMEOUT_MS, healthTarget } from './roles.js';

const target = healthTarget(process.env);
if (!target.ok) {
  process.stderr.write(`unhealthy: ${target.problem}\n`);
  process.exit(1);
}
const health = await probeHealth(target.url, HEALTH_TIMEOUT_MS);
if (health.healthy) {
  process.stdout.write(`healthy: ${target.role} answered 200 at ${target.url}\n`);
  process.exit(0);
}
process.stderr.write(`unhealthy: ${target.role} at ${target.url}: ${health.error ?? 'no answer'}\n`);
process.exit(1);
