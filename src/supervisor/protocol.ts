// The supervisor's control API, shared by the supervisor and the CLI: states and status shapes.

/** `agent`: the data API companion (`cellctl cell-agent`) of a cell whose template runs its own command. */
export type ProcessKind = 'router' | 'cell' | 'agent';

/**
 * stopped → starting → running; a crash → backoff → starting ...; too many fast crashes → crashed
 * (crash loop, left alone until started again); failed = could not be spawned at all (bad config,
 * port taken), also left alone.
 */
export type ProcessState = 'stopped' | 'starting' | 'running' | 'stopping' | 'backoff' | 'crashed' | 'failed';

export interface ProcessStatus {
  name: string;
  kind: ProcessKind;
  state: ProcessState;
  pid: number | null;
  port: number | null;
  startedAt: string | null;
  restarts: number;
  healthy: boolean | null;
  lastExit: string | null;
  lastError: string | null;
  nextRestartAt: string | null;
}

export interface SupervisorStatus {
  pid: number;
  startedAt: string;
  processes: ProcessStatus[];
}

export interface SupervisorEndpoint {
  pid: number;
  port: number;
  startedAt: string;
}

export const ROUTER = 'router';
