// What `cellctl image build` does, decided from its flags and cellctl's version before anything
// runs: the tag, the base, where the dependencies come from, what the build context holds, docker's
// arguments, and what to push. Pure; build.ts carries it out.
import { usageError } from '../shared/errors.js';

export const DEPS_MODES = ['install', 'context'] as const;
/** install: `npm ci` in the build stage (needs the npm registry); context: this machine's node_modules. */
export type DepsMode = (typeof DEPS_MODES)[number];

/** The Dockerfile's own default base (its `ARG BASE`). */
export const DEFAULT_BASE = 'node:20-bookworm-slim';
export const IMAGE_NAME = 'cellctl';

/** What the Dockerfile's build stage needs from cellctl's package folder, in either mode. */
const SOURCES = ['Dockerfile', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.page.json', 'bin', 'src', 'templates'] as const;

/** docker's reference grammar, enough to refuse a typo before docker does: [host[:port]/]path[:tag][@digest]. */
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\\d{1,5})?';
const IMAGE_REF = new RegExp(`^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::\\w[\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`);
const REGISTRY = new RegExp(`^${DOMAIN}(?:/${COMPONENT})*$`);

export function checkImageRef(raw: string, flag: string): string {
  if (!IMAGE_REF.test(raw) || raw.length > 255)
    throw usageError(`${flag} "${raw}" is not an image reference: write NAME[:TAG] in lower case (e.g. cellctl:dev, registry.example:5000/team/cellctl:1)`);
  return raw;
}

export function checkRegistry(raw: string): string {
  if (raw.includes('://')) throw usageError(`--push takes a registry without a scheme: "${raw.replace(/^[a-z]+:\/\//, '')}", not "${raw}"`);
  const registry = raw.replace(/\/+$/, '');
  if (!REGISTRY.test(registry)) throw usageError(`--push "${raw}" is not a registry: write HOST[:PORT][/PATH] (e.g. registry.example:5000/team)`);
  return registry;
}

export interface ImageBuildRequest {
  tag?: string | undefined;
  base?: string | undefined;
  deps?: DepsMode | undefined;
  push?: string | undefined;
}

export interface ImageBuildPlan {
  tag: string;
  base: string;
  deps: DepsMode;
  /** The reference pushed (REGISTRY/cellctl:<version>), or null. */
  pushAs: string | null;
  /** What the build context must hold, by name in cellctl's package folder. */
  contextEntries: readonly string[];
}

export function planImageBuild(request: ImageBuildRequest, version: string): ImageBuildPlan {
  const deps = request.deps ?? 'install';
  return {
    tag: request.tag ?? `${IMAGE_NAME}:${version}`,
    base: request.base ?? DEFAULT_BASE,
    deps,
    pushAs: request.push === undefined ? null : `${request.push}/${IMAGE_NAME}:${version}`,
    // install: the checkout, whose .dockerignore keeps node_modules out; context: an assembled folder with them.
    contextEntries: deps === 'install' ? [...SOURCES, '.dockerignore'] : [...SOURCES, 'node_modules'],
  };
}

/** `docker build`'s arguments for the plan, with the context folder last (run with DOCKER_BUILDKIT=0). */
export function dockerBuildArgs(plan: ImageBuildPlan, contextDir: string): string[] {
  return ['build', '--tag', plan.tag, '--build-arg', `BASE=${plan.base}`, '--build-arg', `DEPS=${plan.deps}`, contextDir];
}

/** The image's size, its base's, and what the image adds over it, in bytes, as the engine counts them. */
export interface ImageSizes {
  sizeBytes: number;
  baseSizeBytes: number;
  addedBytes: number;
}

export const imageSizes = (sizeBytes: number, baseSizeBytes: number): ImageSizes => ({
  sizeBytes,
  baseSizeBytes,
  addedBytes: Math.max(0, sizeBytes - baseSizeBytes),
});

/** Bytes as docker prints them (powers of 1000): "49.3 MB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}
