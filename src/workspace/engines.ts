// Which engine runs a workspace's processes: the docker runtime (containers.ts) or the swarm runtime
// (swarm.ts), which answer the same calls (start, stop, processes, logs, a cell's host pid, removal);
// null for the local supervisor.
import { DockerRuntime } from './containers.js';
import type { Settings } from './settings.js';
import { SwarmRuntime } from './swarm.js';

export type EngineRuntime = DockerRuntime | SwarmRuntime;

export function engineRuntime(ws: { home: string; settings: Settings }): EngineRuntime | null {
  if (ws.settings.runtime === 'docker') return new DockerRuntime(ws.home, ws.settings);
  if (ws.settings.runtime === 'swarm') return new SwarmRuntime(ws.home, ws.settings);
  return null;
}
