// This cellctl's version (the version command, the default image tag) and the runtime a new
// workspace is asked for (init and up).
import { readFileSync } from 'node:fs';
import { usageError } from '../shared/errors.js';
import type { RuntimeChoice } from '../workspace/workspace.js';

export function cellctlVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** The runtime the flags ask for; --image only with docker (default: this version's image). */
export function runtimeChoice(runtime: 'local' | 'docker' | undefined, image: string | undefined): RuntimeChoice {
  if (runtime === 'docker') return { kind: 'docker', image: image ?? `cellctl:${cellctlVersion()}` };
  if (image !== undefined) throw usageError('--image is for the docker runtime: add --runtime docker');
  return { kind: 'local' };
}
