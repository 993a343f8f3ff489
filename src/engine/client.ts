// The docker client, as cellctl runs it: the `docker` on PATH, talking to the engine DOCKER_HOST
// names (or the client's default: so a docker context or an ssh:// engine work as for the user's own
// commands), with the classic builder, each call bounded by a deadline. The one place cellctl spawns
// `docker` (image build and the docker runtime both go through it); a missing client or an engine that does not answer is a
// CellctlError (E_DOCKER_UNAVAILABLE) with one line that says so.
import { spawn } from 'node:child_process';
import { z } from 'zod';
import { failure } from '../shared/errors.js';

export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The deadline passed and the client was killed. */
  timedOut: boolean;
}

/** `docker logs` / `docker service logs` arguments for lines since `sinceMs` (none for null). */
export const sinceArgs = (sinceMs: number | null): string[] => (sinceMs === null ? [] : ['--since', new Date(sinceMs).toISOString()]);

/** What an engine gave of a log: its lines, and what it could not read (null: nothing missing). */
export interface LogRead {
  lines: string[];
  missing: string | null;
}

export interface DockerOptions {
  /** Killed (SIGKILL) after this long; default: no deadline. */
  timeoutMs?: number;
  /** Where to copy the client's output as it comes (a build's steps on a terminal). */
  echo?: NodeJS.WritableStream;
  /** What the client reads on stdin (a secret's value); default: nothing. */
  input?: NodeJS.ReadableStream;
}

/** How long `docker version` may take before the engine counts as not answering. */
export const ENGINE_ANSWER_MS = 5_000;

/** Output kept per stream: the end of a long build is what a failure shows. */
const KEPT_CHARS = 256 * 1024;
const keep = (text: string): string => (text.length > KEPT_CHARS ? text.slice(-KEPT_CHARS) : text);

/** The engine the client talks to, for messages. */
export function engineName(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_HOST ? `the Docker engine at ${env.DOCKER_HOST}` : "the Docker engine of the client's default (DOCKER_HOST is not set)";
}

const noClient = () => failure('no docker client on PATH: install one (Debian: apt-get install docker.io) or add its folder to PATH', 'E_DOCKER_UNAVAILABLE');

/** Runs `docker args…` to its end (or its deadline). Rejects only when there is no docker client. */
export function runDocker(args: readonly string[], options: DockerOptions = {}): Promise<DockerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { env: { ...process.env, DOCKER_BUILDKIT: '0' }, stdio: [options.input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    if (options.input) {
      child.stdin!.on('error', () => {}); // a client that exits before reading all of it says why on stderr
      options.input.pipe(child.stdin!);
    }
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = options.timeoutMs === undefined ? null : setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), options.timeoutMs);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => ((stdout = keep(stdout + chunk)), options.echo?.write(chunk)));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => ((stderr = keep(stderr + chunk)), options.echo?.write(chunk)));
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      reject(error.code === 'ENOENT' ? noClient() : error);
    });
    child.once('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr, timedOut });
    });
  });
}

/** Runs `docker args…` and calls `onLine` with each line it writes (stdout and stderr) until `stop()` or its end. */
export function followDocker(args: readonly string[], onLine: (line: string) => void): { stop: () => void; done: Promise<void> } {
  const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) if (line) onLine(line);
    });
  }
  const done = new Promise<void>((resolve) => {
    child.once('error', () => resolve());
    child.once('close', () => resolve());
  });
  return { stop: () => child.kill('SIGTERM'), done };
}

/** The engine's version; an E_DOCKER_UNAVAILABLE error when it does not answer within `timeoutMs`. */
export async function checkEngine(timeoutMs = ENGINE_ANSWER_MS): Promise<string> {
  const result = await runDocker(['version', '--format', '{{.Server.Version}}'], { timeoutMs });
  const version = result.stdout.trim();
  if (result.code === 0 && version) return version;
  const why = result.timedOut ? `no answer within ${timeoutMs / 1000} s` : (lastLines(result.stderr, 1)[0] ?? `docker version exited ${result.code}`);
  throw failure(`${engineName()} does not answer (${why}): start it, or point DOCKER_HOST at one that runs`, 'E_DOCKER_UNAVAILABLE');
}

const InspectedImage = z.array(z.object({ Id: z.string(), Size: z.number() })).length(1);

export interface ImageInfo {
  id: string;
  sizeBytes: number;
}

/** An image in the engine, or null when it has none of that reference. */
export async function inspectImage(ref: string): Promise<ImageInfo | null> {
  const result = await runDocker(['image', 'inspect', ref], { timeoutMs: 30_000 });
  if (result.code !== 0) {
    if (/no such (image|object)/i.test(result.stderr)) return null;
    throw failure(`docker image inspect ${ref} failed: ${lastLines(result.stderr, 1)[0] ?? `exit ${result.code}`}`);
  }
  const [image] = InspectedImage.parse(JSON.parse(result.stdout));
  return { id: image!.Id, sizeBytes: image!.Size };
}

/** The last `count` non-empty lines of a command's output, for a failure message. */
export function lastLines(text: string, count: number): string[] {
  return text
    .split(/\r?\n|\r/)
    .map((line) => line.trimEnd())
    .filter(Boolean)
    .slice(-count);
}
