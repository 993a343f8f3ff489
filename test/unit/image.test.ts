// The pure parts of cellctl's image: the role contract its health check reads, and the plan of
// `cellctl image build` (references, registry, docker's arguments, sizes, a failure's last lines).
import { describe, expect, it } from 'vitest';
import { lastLines } from '../../src/engine/client.js';
import { checkImageRef, checkRegistry, dockerBuildArgs, formatBytes, imageSizes, planImageBuild } from '../../src/image/plan.js';
import { healthTarget } from '../../src/image/roles.js';
import { errorThrownBy } from '../helpers.js';

describe('the health check finds what to probe from the role', () => {
  it.each([
    [{ CELLCTL_ROLE: 'cell', PORT: '9100' }, 'http://127.0.0.1:9100/health'],
    [{ CELLCTL_ROLE: 'cell', PORT: '9100', CELLCTL_HEALTH_PATH: '/healthz' }, 'http://127.0.0.1:9100/healthz'],
    [{ CELLCTL_ROLE: 'router', CELLCTL_ROUTER_PORT: '8000', PORT: '1' }, 'http://127.0.0.1:8000/health'],
    [{ CELLCTL_ROLE: 'agent', CELLCTL_DATA_PORT: '9101', CELLCTL_HEALTH_PATH: '/ignored' }, 'http://127.0.0.1:9101/health'],
  ])('%o → %s', (env, url) => {
    expect(healthTarget(env)).toMatchObject({ ok: true, role: env.CELLCTL_ROLE, url });
  });

  it.each([
    [{}, /^CELLCTL_ROLE is not set/],
    [{ CELLCTL_ROLE: '' }, /^CELLCTL_ROLE is not set/],
    [{ CELLCTL_ROLE: 'database', PORT: '1' }, /^CELLCTL_ROLE is "database": it must be one of cell, router, agent/],
    [{ CELLCTL_ROLE: 'toString' }, /^CELLCTL_ROLE is "toString"/],
    [{ CELLCTL_ROLE: 'cell' }, /^PORT is not set/],
    [{ CELLCTL_ROLE: 'router', PORT: '8000' }, /^CELLCTL_ROUTER_PORT is not set/],
    [{ CELLCTL_ROLE: 'agent' }, /^CELLCTL_DATA_PORT is not set/],
    [{ CELLCTL_ROLE: 'cell', PORT: '70000' }, /^PORT is "70000": not a port/],
    [{ CELLCTL_ROLE: 'cell', PORT: '0' }, /^PORT is "0": not a port/],
    [{ CELLCTL_ROLE: 'cell', PORT: '80 ' }, /^PORT is "80 ": not a port/],
    [{ CELLCTL_ROLE: 'cell', PORT: '80', CELLCTL_HEALTH_PATH: 'health' }, /^CELLCTL_HEALTH_PATH is "health"/],
  ])('%o is refused: %s', (env, problem) => {
    const target = healthTarget(env);
    expect(target.ok).toBe(false);
    expect(!target.ok && target.problem).toMatch(problem);
  });
});

describe('the plan of cellctl image build', () => {
  it('defaults to cellctl:<version> on node:20-bookworm-slim with npm ci, sending the checkout', () => {
    const plan = planImageBuild({}, '1.2.3');
    expect(plan).toMatchObject({ tag: 'cellctl:1.2.3', base: 'node:20-bookworm-slim', deps: 'install', pushAs: null });
    expect(plan.contextEntries).toContain('.dockerignore');
    expect(plan.contextEntries).not.toContain('node_modules');
    expect(dockerBuildArgs(plan, '/pkg')).toEqual([
      'build',
      '--tag',
      'cellctl:1.2.3',
      '--build-arg',
      'BASE=node:20-bookworm-slim',
      '--build-arg',
      'DEPS=install',
      '/pkg',
    ]);
  });

  it('with --deps context sends node_modules (and no .dockerignore, which would leave them out); --push names REGISTRY/cellctl:<version>', () => {
    const plan = planImageBuild({ tag: 'me/cellctl:dev', base: 'local-node:20', deps: 'context', push: 'registry.example:5000/team' }, '1.2.3');
    expect(plan).toMatchObject({ tag: 'me/cellctl:dev', base: 'local-node:20', deps: 'context', pushAs: 'registry.example:5000/team/cellctl:1.2.3' });
    expect(plan.contextEntries).toEqual(expect.arrayContaining(['Dockerfile', 'package-lock.json', 'src', 'node_modules']));
    expect(plan.contextEntries).not.toContain('.dockerignore');
    expect(dockerBuildArgs(plan, '/ctx').slice(-3)).toEqual(['--build-arg', 'DEPS=context', '/ctx']);
  });

  it.each(['cellctl', 'cellctl:dev', 'node:20-bookworm-slim', 'localhost:5000/team/cellctl:1.0.0', 'Registry.Example/x/y', `node@sha256:${'a'.repeat(64)}`])(
    'takes the image reference %s',
    (ref) => expect(checkImageRef(ref, '--tag')).toBe(ref),
  );

  it.each(['', 'Cellctl', 'cellctl:', 'cell ctl', 'cellctl:-x', '/cellctl', 'cellctl//x', 'http://x/cellctl'])(
    'refuses the image reference "%s", naming the flag',
    (ref) => {
      const error = errorThrownBy(() => checkImageRef(ref, '--base'));
      expect(error?.exitCode).toBe(2);
      expect(error?.message).toMatch(/^--base ".*" is not an image reference/);
    },
  );

  it('takes a registry as HOST[:PORT][/PATH], and refuses a scheme or a tag', () => {
    expect(checkRegistry('registry.example:5000/team/')).toBe('registry.example:5000/team');
    expect(checkRegistry('localhost:5000')).toBe('localhost:5000');
    expect(errorThrownBy(() => checkRegistry('https://registry.example'))?.message).toMatch(/without a scheme: "registry.example"/);
    expect(errorThrownBy(() => checkRegistry('registry.example/team:1'))?.exitCode).toBe(2);
  });

  it('measures what an image adds over its base, and prints bytes as docker does', () => {
    expect(imageSizes(165_600_000, 118_600_000)).toEqual({ sizeBytes: 165_600_000, baseSizeBytes: 118_600_000, addedBytes: 47_000_000 });
    expect(imageSizes(1, 2).addedBytes).toBe(0);
    expect([formatBytes(999), formatBytes(47_012_345), formatBytes(1_500_000_000)]).toEqual(['999 B', '47.0 MB', '1.5 GB']);
  });

  it("keeps a failure's last non-empty lines", () => {
    expect(lastLines('a\n\nb\r\nc  \n\n', 2)).toEqual(['b', 'c']);
    expect(lastLines('', 3)).toEqual([]);
  });
});
