// This cellctl's version (the version command, the default image tag) and the runtime a new
// workspace is asked for (init and up).
import { readFileSync } from 'node:fs';
import { usageError } from '../shared/errors.js';
import { readSettings, type RuntimeChoice } from '../workspace/workspace.js';

export function cellctlVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** The runtime the flags ask for; --image only with an engine (default: this version's image). */
export function runtimeChoice(runtime: 'local' | 'docker' | 'swarm' | undefined, image: string | undefined): RuntimeChoice {
  if (runtime === 'docker' || runtime === 'swarm') return { kind: runtime, image: image ?? `cellctl:${cellctlVersion()}` };
  if (image !== undefined) throw usageError('--image is for an engine runtime: add --runtime docker (or swarm)');
  return { kind: 'local' };
}

/** A runtime is chosen when a workspace is made: asking an existing one for another is refused. */
export function refuseOtherRuntime(home: string, asked: string | undefined): void {
  const current = readSettings(home).runtime;
  if (asked !== undefined && asked !== current) {
    throw usageError(`the workspace at ${home} already exists with runtime ${current}: a runtime is chosen at init; use a new --home for ${asked}`);
  }
}
