// The router's fence holds (how long requests were held while a move switched), read from its admin
// stats by a client inside a simulated host: the write pause of the hosts and swarm benchmarks.
import fs from 'node:fs';
import path from 'node:path';
import type { Host } from '../hosts/netns.js';

export interface FenceHolds {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** `GET <adminUrl>/admin/stats` from inside `host`, with the admin token of the workspace at `home`. */
export async function fenceHolds(host: Host, adminUrl: string, home: string): Promise<FenceHolds> {
  const token = fs.readFileSync(path.join(home, 'secrets', 'admin-token'), 'utf8').trim();
  const script = `fetch('${adminUrl}/admin/stats', {headers: {authorization: 'Bearer ${token}'}}).then(r => r.text()).then(t => console.log(t))`;
  const stats = await host.run(process.execPath, ['-e', script], { timeoutMs: 30_000 });
  return (JSON.parse(stats.stdout) as { fenceHolds: FenceHolds }).fenceHolds;
}
