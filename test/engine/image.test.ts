// cellctl's image on a private dockerd, built by `cellctl image build` on a base imported from this
// machine's Node.js: what it holds and adds over its base, who it runs as, its health check per role,
// and the one-line refusals of the command.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/image/plan.js';
import { cleanup, ROOT, tempDir } from '../helpers.js';
import {
  BUILD_MS,
  type BuiltImage,
  baseUnavailable,
  builtImage,
  type Engine,
  engineUnavailable,
  healthEvent,
  runCli,
  startDockerd,
  testTag,
} from './engine.js';

const why = engineUnavailable() ?? baseUnavailable();
if (why) console.warn(`engine tests skipped: ${why}`);

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };

describe.skipIf(why !== null)("cellctl's image on a private dockerd", () => {
  let engine: Engine;
  let image: BuiltImage;

  beforeAll(async () => {
    engine = await startDockerd('image');
    image = await builtImage(engine);
    console.log(
      `built ${image.tag} in ${(image.buildMs / 1000).toFixed(0)} s: ${formatBytes(image.sizeBytes)}, ` +
        `${formatBytes(image.addedBytes)} over its base ${image.base} (${formatBytes(image.baseSizeBytes)})`,
    );
  }, BUILD_MS);
  afterAll(async () => {
    await engine?.stop();
    await cleanup();
  });

  /** Runs a container of the image to its end; `args` go to `docker run` before the image. */
  const run = (args: string[], command: string[] = []) => engine.docker(['run', '--rm', ...args, image.tag, ...command]);
  const inspect = async (ref: string) => JSON.parse((await engine.docker(['image', 'inspect', ref])).stdout)[0];

  it('is built by cellctl image build from the imported base, and its size over the base is reported (under 150 MB)', async () => {
    expect(image).toMatchObject({ tag: testTag(), deps: 'context', pushed: null });
    expect(image.base).toMatch(/^cellctl-base:node-/);
    const [built, base] = [await inspect(image.tag), await inspect(image.base)];
    expect(built.Id).toBe(image.id);
    expect([image.sizeBytes, image.baseSizeBytes, image.addedBytes]).toEqual([built.Size, base.Size, built.Size - base.Size]);
    expect(image.addedBytes).toBeGreaterThan(10_000_000);
    expect(image.addedBytes).toBeLessThan(150_000_000);
    expect(built.Config).toMatchObject({ User: '10001:10001', Entrypoint: ['node', '/app/bin/cellctl.js'], WorkingDir: '/data' });
    expect(built.Config.Healthcheck.Test).toEqual(['CMD', 'node', '/app/dist/image/healthcheck.js']);
  });

  it('runs cellctl --version as its non-root user, and as any other uid', async () => {
    expect(await run([], ['--version'])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    expect((await run(['--entrypoint', 'id'], ['-u'])).stdout.trim()).toBe('10001');
    expect(await run(['--user', '12345:12345'], ['--version'])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it('holds package.json, bin, dist, templates and production node_modules only, and /data open to any uid', async () => {
    const devDependencies = Object.keys(pkg.devDependencies);
    const script = `
      const fs = require('fs');
      console.log(JSON.stringify({
        app: fs.readdirSync('/app').sort(),
        dev: ${JSON.stringify(devDependencies)}.filter((name) => fs.existsSync('/app/node_modules/' + name)),
        data: (fs.statSync('/data').mode & 0o7777).toString(8),
        sqlite: new (require('/app/node_modules/better-sqlite3'))(':memory:').prepare('select 1 as one').get().one,
      }));`;
    const result = await run(['--user', '12345', '--entrypoint', 'node'], ['-e', script]);
    expect(result.code, result.stderr).toBe(0);
    expect(devDependencies).toEqual(expect.arrayContaining(['vitest', 'typescript', 'playwright-core']));
    expect(JSON.parse(result.stdout)).toEqual({ app: ['bin', 'dist', 'node_modules', 'package.json', 'templates'], dev: [], data: '1777', sqlite: 1 });
  });

  /** A cell of the ecommerce template in a container on a new named volume at /data, as uid 12345, checked every second. */
  async function startCell(name: string, env: Record<string, string>): Promise<number> {
    const since = Date.now();
    const cellEnv = { CELL_ID: name, PORT: '9100', CELL_DB: '/data/data.db', CELL_HOME: '/data', ...env };
    // A start period of 0 would mean the image's own (20 s), during which failures do not count.
    const health = ['--health-interval', '1s', '--health-retries', '1', '--health-start-period', '1ms'];
    const envArgs = Object.entries(cellEnv).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
    const started = await engine.docker([
      'run',
      '-d',
      '--name',
      name,
      '--user',
      '12345',
      '-v',
      `${name}-data:/data`,
      ...health,
      ...envArgs,
      image.tag,
      'serve',
      '--template',
      'ecommerce',
    ]);
    expect(started.code, started.stderr).toBe(0);
    return since;
  }

  it('turns healthy for a cell run as any uid on a named volume, which holds its data.db', async () => {
    const since = await startCell('cell-ok', { CELLCTL_ROLE: 'cell' });
    expect(await healthEvent(engine, 'cell-ok', since)).toBe('healthy');
    const log = JSON.parse((await engine.docker(['inspect', 'cell-ok', '--format', '{{json .State.Health.Log}}'])).stdout) as { Output: string }[];
    expect(log.at(-1)!.Output).toContain('cell answered 200 at http://127.0.0.1:9100/health');
    const owner = await engine.docker(['run', '--rm', '-v', 'cell-ok-data:/data', '--entrypoint', 'stat', image.tag, '-c', '%u %a', '/data/data.db']);
    expect(owner.stdout.trim()).toBe('12345 600');
  });

  it("turns unhealthy, naming the variable, when the cell's role is not set; the check exits 1 for each role missing its port", async () => {
    const since = await startCell('cell-no-role', {});
    expect(await healthEvent(engine, 'cell-no-role', since)).toBe('unhealthy');
    const log = JSON.parse((await engine.docker(['inspect', 'cell-no-role', '--format', '{{json .State.Health.Log}}'])).stdout) as {
      ExitCode: number;
      Output: string;
    }[];
    expect(log.at(-1)).toMatchObject({ ExitCode: 1, Output: expect.stringContaining('CELLCTL_ROLE is not set') });

    for (const [env, named] of [
      [[], 'CELLCTL_ROLE'],
      [['CELLCTL_ROLE=cell'], 'PORT'],
      [['CELLCTL_ROLE=router'], 'CELLCTL_ROUTER_PORT'],
      [['CELLCTL_ROLE=agent'], 'CELLCTL_DATA_PORT'],
      [['CELLCTL_ROLE=database'], 'CELLCTL_ROLE'],
      // A role with its port, where nothing answers.
      [['CELLCTL_ROLE=router', 'CELLCTL_ROUTER_PORT=8000'], '127.0.0.1:8000/health'],
    ] as const) {
      const check = await run([...env.flatMap((pair) => ['-e', pair]), '--entrypoint', 'node'], ['/app/dist/image/healthcheck.js']);
      expect(check.code, env.join(' ')).toBe(1);
      expect(check.stderr.trim().split('\n'), env.join(' ')).toEqual([expect.stringMatching(new RegExp(`^unhealthy: .*${named.replace(/\./g, '\\.')}`))]);
    }
  });

  describe('cellctl image build refuses bad input with one clear line', () => {
    const build = (env: NodeJS.ProcessEnv, args: string[] = []) => runCli(['image', 'build', '--deps', 'context', ...args, '-o', 'json'], env, BUILD_MS);
    const oneLine = (stderr: string) => {
      const lines = stderr.trim().split('\n');
      expect(lines, stderr).toHaveLength(1);
      return lines[0];
    };

    it('no docker client on PATH', async () => {
      const result = await build({ ...engine.env, PATH: tempDir() });
      expect(result.code).toBe(1);
      expect(oneLine(result.stderr)).toMatch(/^error: no docker client on PATH/);
    });

    it('a DOCKER_HOST that does not answer', async () => {
      const result = await build({ DOCKER_HOST: 'unix:///nonexistent' });
      expect(result.code).toBe(1);
      expect(oneLine(result.stderr)).toMatch(/^error: the Docker engine at unix:\/\/\/nonexistent does not answer/);
    });

    it('a base image the engine does not have (and cannot pull)', async () => {
      const result = await build(engine.env, ['--base', 'no-such-image']);
      expect(result.code).toBe(1);
      expect(oneLine(result.stderr)).toMatch(/^error: base image no-such-image is not in .*: pull it there, or make one with docker import or docker load/);
    });

    it('a build that fails ends with the last lines of its output', async () => {
      // The imported base has no apt-get: --deps install fails in its first RUN step.
      const result = await runCli(['image', 'build', '--base', image.base, '--deps', 'install', '--tag', 'cellctl:fails', '-o', 'json'], engine.env, BUILD_MS);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^error: docker build of cellctl:fails failed \(exit \d+\); its last lines:\n(  .*\n?)+$/);
      expect(result.stderr).toContain('apt-get');
    });
  });
});
