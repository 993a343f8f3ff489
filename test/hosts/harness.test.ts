// The simulated-hosts harness itself: hosts reach each other over the bridge and nothing else, a cut
// link drops traffic, a destroyed host leaves nothing behind, and neither does teardown.
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers.js';
import { type Hosts, hostsUnavailable, listNamespaces, makeHosts } from './netns.js';

const why = hostsUnavailable();
if (why) console.warn(`simulated-hosts tests skipped: ${why}`);

/** A one-request HTTP client run inside a host: prints the status, or the error code; exits 0 either way. */
const GET = `fetch(process.argv[1], { signal: AbortSignal.timeout(Number(process.argv[2] || 3000)) })
  .then(async (r) => console.log(r.status, await r.text()))
  .catch((e) => console.log('error', (e.cause && e.cause.code) || e.name))
  .finally(() => process.exit(0))`; // a connect to a cut host lingers past the abort otherwise

describe.skipIf(why !== null)('simulated hosts (network namespaces)', () => {
  let net: Hosts;
  afterAll(() => net?.teardown());

  it('connect hosts over a bridge only, cut and restore links, and leave nothing behind', async () => {
    net = makeHosts(['a', 'b', 'c']);
    const { a, b, c } = net.hosts as Record<'a' | 'b' | 'c', NonNullable<(typeof net.hosts)[string]>>;
    const server = b.exec(process.execPath, [
      '-e',
      `require('http').createServer((q, s) => s.end('from b')).listen(8080, '0.0.0.0', () => console.log('listening'))`,
    ]);
    await new Promise<void>((resolve) => server.stdout!.once('data', () => resolve()));

    const fromA = async (url: string, timeoutMs = 3_000) => (await a.run(process.execPath, ['-e', GET, url, String(timeoutMs)])).stdout.trim();
    expect(await fromA(`http://${b.ip}:8080/`)).toBe('200 from b');
    // B's loopback is B's own: from A, 127.0.0.1 is A's.
    expect(await fromA('http://127.0.0.1:8080/')).toBe('error ECONNREFUSED');
    // No default route anywhere: a host reaches nothing beyond the bridge.
    expect((await a.run('ip', ['route', 'show', 'default'])).stdout.trim()).toBe('');

    net.cutLink(b);
    expect(await fromA(`http://${b.ip}:8080/`, 1_000)).toMatch(/^error /);
    net.restoreLink(b);
    await waitFor('b reachable again', async () => (await fromA(`http://${b.ip}:8080/`, 1_000)) === '200 from b');

    const inC = c.exec('sleep', ['600']);
    net.destroy(c);
    expect(listNamespaces()).not.toContain(c.ns);
    await waitFor('the process in c to be gone', () => inC.exitCode !== null || inC.signalCode !== null);
    expect(await fromA(`http://${b.ip}:8080/`)).toBe('200 from b');

    net.teardown();
    expect(net.leftovers()).toEqual([]);
    await waitFor('the server in b to be gone', () => server.exitCode !== null || server.signalCode !== null);
  });
});
