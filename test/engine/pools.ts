// The address pools of the dockerds engine tests start: a /16 of 10.200.0.0–10.249.0.0 each, claimed
// by a file made exclusively in a folder every run on this machine shares (not the run's TMPDIR, which
// two runs may set apart), so two runs side by side never give two engines the same pool. A pool the
// machine already routes, or another dockerd was started with, is passed over.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isAlive } from '../helpers.js';

const CLAIMS = '/tmp/cellctl-engine-pools';
const FIRST = 200;
const LAST = 249;

interface Claim {
  /** The test process that claimed it. */
  pid: number;
  /** Its run folder (the teardown releases a run's claims) and the engine's folder. */
  run: string;
  engine: string;
}

const poolOf = (octet: number): string => `10.${octet}.0.0/16`;

/** Second octets of 10.x.y.z in the routes of the machine's namespace, or of `netns`. */
function routedOctets(netns?: string): number[] {
  try {
    const routes = execFileSync('ip', [...(netns ? ['-n', netns] : []), '-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8', timeout: 10_000 });
    return [...routes.matchAll(/\b10\.(\d+)\./g)].map((match) => Number(match[1]));
  } catch {
    // no iproute2, or the namespace is gone: the claims alone keep runs apart
    return [];
  }
}

/** The simulated hosts' namespaces (test/hosts/netns.ts, `cch-…`) of every run: their subnets are in 10.200–249 too. */
function hostNamespaces(): string[] {
  try {
    return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 })
      .split('\n')
      .map((line) => line.split(' ')[0]!)
      .filter((ns) => ns.startsWith('cch-'));
  } catch {
    return [];
  }
}

/**
 * Second octets of 10.x.0.0/16 that the machine routes, that a simulated host's namespace routes (a
 * swarm's overlay networks would otherwise overlap the hosts' own subnet), or that a running dockerd
 * was told to use.
 */
function takenOctets(): Set<number> {
  const taken = new Set<number>([...routedOctets(), ...hostNamespaces().flatMap((ns) => routedOctets(ns))]);
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!/dockerd/.test(args)) continue;
      for (const match of args.matchAll(/base=10\.(\d+)\./g)) taken.add(Number(match[1]));
    } catch {
      // gone
    }
  }
  return taken;
}

function readClaim(file: string): Claim | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Claim;
  } catch {
    return null;
  }
}

/** A claim whose test process is gone, or whose engine folder is, holds nothing. */
const stale = (claim: Claim | null): boolean => claim === null || !isAlive(claim.pid) || !fs.existsSync(claim.engine);

function tryClaim(file: string, claim: Claim): boolean {
  try {
    fs.writeFileSync(file, JSON.stringify(claim), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    if (!stale(readClaim(file))) return false;
    fs.rmSync(file, { force: true });
    return tryClaim(file, claim);
  }
}

/** Claims a free pool for the engine in `engine` (a folder of the run in `run`); throws when all fifty are taken. */
export function claimPool(run: string, engine: string): string {
  if (!fs.existsSync(CLAIMS)) {
    fs.mkdirSync(CLAIMS, { recursive: true });
    fs.chmodSync(CLAIMS, 0o1777);
  }
  const taken = takenOctets();
  const span = LAST - FIRST + 1;
  // Start where this process's pid points, so runs rarely race for the same file.
  for (let step = 0; step < span; step += 1) {
    const octet = FIRST + ((process.pid + step) % span);
    if (!taken.has(octet) && tryClaim(path.join(CLAIMS, String(octet)), { pid: process.pid, run, engine })) return poolOf(octet);
  }
  throw new Error(`no free address pool in 10.${FIRST}–${LAST}.0.0/16: every one is routed here or claimed in ${CLAIMS}`);
}

/** Gives the pool back (only when this engine holds it). */
export function releasePool(pool: string, engine: string): void {
  const file = path.join(CLAIMS, pool.split('.')[1]!);
  if (readClaim(file)?.engine !== engine) return;
  removeBridges(Number(pool.split('.')[1]));
  fs.rmSync(file, { force: true });
}

/**
 * Deletes the machine's bridges with an address in 10.<octet>.0.0/16: a dockerd on the machine's
 * own network leaves the bridge of each network it made when it stops, and each left one routes its
 * pool, so runs after it would pass over that pool until none is left. Called once the pool's engine
 * is gone (an engine in a simulated host takes its bridges with its namespace).
 */
function removeBridges(octet: number): void {
  let listed = '';
  try {
    listed = execFileSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8', timeout: 10_000 });
  } catch {
    return; // no iproute2: nothing to clean
  }
  const bridges = new Set([...listed.matchAll(new RegExp(`^\\d+:\\s+(br-[0-9a-f]+)\\s+inet 10\\.${octet}\\.`, 'gm'))].map((match) => match[1]!));
  for (const bridge of bridges) {
    try {
      execFileSync('ip', ['link', 'delete', bridge], { stdio: 'ignore', timeout: 10_000 });
    } catch {
      // already gone
    }
  }
}

/** Releases every pool `run` still claims (the suite's teardown); the pools it released. */
export function releasePools(run: string): string[] {
  let names: string[] = [];
  try {
    names = fs.readdirSync(CLAIMS);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const file = path.join(CLAIMS, name);
    if (readClaim(file)?.run !== run) return [];
    removeBridges(Number(name));
    fs.rmSync(file, { force: true });
    return [poolOf(Number(name))];
  });
}
