// The supervisor: spawns the router and the cells, watches their health, restarts crashed ones with
// backoff (giving up on a crash loop), rotates their logs, and stops them gracefully — TERM to the
// whole process group, a wait, then KILL.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { ControlStore } from '../control/store.js';
import { describeError } from '../shared/errors.js';
import { delay } from '../shared/time.js';
import { isPortFree } from '../shared/ports.js';
import { loadTemplate } from '../templates/catalog.js';
import { cellPaths, processPaths } from '../workspace/paths.js';
import type { Settings } from '../workspace/settings.js';
import { planRestart } from './backoff.js';
import { openLogFd, rotateIfLarge } from './logfile.js';
import { isOurProcess, livePid, portOwner, signalGroup } from './procfs.js';
import { type ProcessKind, type ProcessState, type ProcessStatus, ROUTER } from './protocol.js';

const DIST = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const ROUTER_MAIN = path.join(DIST, 'router', 'main.js');
export const CELL_MAIN = path.join(DIST, 'cell', 'main.js');

interface LaunchSpec {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  port: number;
  healthUrl: string;
  logFile: string;
  pidFile: string;
}

interface Supervised {
  name: string;
  kind: ProcessKind;
  state: ProcessState;
  child: ChildProcess | null;
  pid: number | null;
  port: number | null;
  /** Where this run answers its health check, fixed at launch. */
  healthUrl: string | null;
  startedAt: number | null;
  restarts: number;
  consecutiveCrashes: number;
  crashEnds: number[];
  healthy: boolean | null;
  lastHealthAt: number;
  /** A health probe is in flight: the next one waits for it. */
  probing: boolean;
  lastExit: string | null;
  lastError: string | null;
  restartTimer: NodeJS.Timeout | null;
  nextRestartAt: number | null;
  exited: Promise<void> | null;
}

export class Supervisor {
  private readonly procs = new Map<string, Supervised>();
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly home: string,
    private readonly settings: Settings,
    private readonly store: ControlStore,
    private readonly log: Logger,
  ) {}

  /** Begins health checks and log rotation, after killing processes a dead supervisor left behind. */
  async begin(): Promise<void> {
    await this.reapOrphans();
    this.timers.push(setInterval(() => void this.checkHealth(), 100));
    this.timers.push(setInterval(() => this.rotateLogs(), 5_000));
  }

  status(): ProcessStatus[] {
    return [...this.procs.values()].map((proc) => ({
      name: proc.name,
      kind: proc.kind,
      state: proc.state,
      pid: proc.pid,
      port: proc.port,
      startedAt: proc.startedAt ? new Date(proc.startedAt).toISOString() : null,
      restarts: proc.restarts,
      healthy: proc.healthy,
      lastExit: proc.lastExit,
      lastError: proc.lastError,
      nextRestartAt: proc.nextRestartAt ? new Date(proc.nextRestartAt).toISOString() : null,
    }));
  }

  /** Starts the named processes that are not already up. Returns at once; `status` shows progress. */
  async start(names: string[]): Promise<{ started: string[]; alreadyRunning: string[] }> {
    const started: string[] = [];
    const alreadyRunning: string[] = [];
    for (const name of names) {
      const proc = this.entry(name);
      if (proc.state === 'running' || proc.state === 'starting' || proc.state === 'backoff') {
        alreadyRunning.push(name);
        continue;
      }
      if (proc.state === 'stopping') await proc.exited;
      proc.consecutiveCrashes = 0;
      proc.crashEnds = [];
      proc.lastError = null;
      await this.launch(proc);
      started.push(name);
    }
    return { started, alreadyRunning };
  }

  async stop(names: string[], timeoutMs = this.settings.supervisor.stopTimeoutMs): Promise<string[]> {
    const stopped: string[] = [];
    await Promise.all(
      names.map(async (name) => {
        const proc = this.procs.get(name);
        if (!proc || proc.state === 'stopped') return;
        await this.terminate(proc, timeoutMs);
        stopped.push(name);
      }),
    );
    return stopped;
  }

  async stopAll(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    // Cells first, so the router never forwards to a cell that is half-way down... then the router.
    const cells = [...this.procs.values()].filter((proc) => proc.kind === 'cell').map((proc) => proc.name);
    await this.stop(cells);
    await this.stop([ROUTER]);
  }

  private entry(name: string): Supervised {
    let proc = this.procs.get(name);
    if (!proc) {
      proc = {
        name,
        kind: name === ROUTER ? 'router' : 'cell',
        state: 'stopped',
        child: null,
        pid: null,
        port: null,
        healthUrl: null,
        startedAt: null,
        restarts: 0,
        consecutiveCrashes: 0,
        crashEnds: [],
        healthy: null,
        lastHealthAt: 0,
        probing: false,
        lastExit: null,
        lastError: null,
        restartTimer: null,
        nextRestartAt: null,
        exited: null,
      };
      this.procs.set(name, proc);
    }
    return proc;
  }

  private launchSpec(proc: Supervised): LaunchSpec {
    const paths = processPaths(this.home, proc.name);
    const baseEnv = { ...process.env, CELLCTL_HOME: this.home, CELLCTL_PROC: proc.name } as Record<string, string>;
    if (proc.kind === 'router') {
      return {
        command: process.execPath,
        args: [ROUTER_MAIN],
        cwd: this.home,
        env: baseEnv,
        port: this.settings.routerPort,
        healthUrl: `http://127.0.0.1:${this.settings.routerPort}/health`,
        logFile: paths.logFile,
        pidFile: paths.pidFile,
      };
    }
    const cell = this.store.getCell(proc.name);
    if (!cell) throw new Error(`cell ${proc.name} is not registered in control.db`);
    const template = loadTemplate(cell.templateDir);
    const files = cellPaths(this.home, cell.id);
    const env: Record<string, string> = {
      ...baseEnv,
      CELL_ID: cell.id,
      PORT: String(cell.port),
      CELL_DB: files.dataDb,
      CELL_HOME: files.dir,
      CELL_SCHEMA_VERSION: String(cell.schemaVersion),
    };
    const run = template.run;
    const launch =
      'app' in run
        ? { command: process.execPath, args: [CELL_MAIN], env: { ...env, CELL_APP: run.app } }
        : { command: run.command[0]!, args: run.command.slice(1), env: { ...env, ...run.env } };
    return {
      ...launch,
      cwd: template.dir,
      port: cell.port,
      healthUrl: `http://127.0.0.1:${cell.port}${template.healthPath}`,
      logFile: paths.logFile,
      pidFile: paths.pidFile,
    };
  }

  private async launch(proc: Supervised): Promise<void> {
    proc.nextRestartAt = null;
    let spec: LaunchSpec;
    try {
      spec = this.launchSpec(proc);
    } catch (error) {
      return this.fail(proc, describeError(error));
    }
    proc.port = spec.port;
    proc.healthUrl = spec.healthUrl;
    if (!(await isPortFree(spec.port))) {
      const owner = portOwner(spec.port);
      return this.fail(proc, `port ${spec.port} is already in use${owner ? ` by ${owner}` : ''}`);
    }
    fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
    const logFd = openLogFd(spec.logFile);
    let child: ChildProcess;
    try {
      // Its own process group, so a stop reaches everything the process started.
      child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', logFd, logFd], detached: true });
    } finally {
      fs.closeSync(logFd);
    }
    proc.state = 'starting';
    proc.child = child;
    proc.healthy = null;
    proc.startedAt = Date.now();
    proc.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('error', (error) => {
      proc.lastError = `cannot run ${spec.command}: ${error.message}`;
    });
    child.once('exit', (code, signal) => this.onExit(proc, child, code, signal));
    if (child.pid !== undefined) {
      proc.pid = child.pid;
      fs.writeFileSync(spec.pidFile, `${child.pid}\n`);
    }
    this.event('process.started', proc.name, `pid ${child.pid ?? '?'} on port ${spec.port}`);
  }

  private fail(proc: Supervised, message: string): void {
    proc.state = 'failed';
    proc.lastError = message;
    this.event('process.failed', proc.name, message);
  }

  private onExit(proc: Supervised, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (proc.child !== child) return;
    const endedAt = Date.now();
    const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
    proc.lastExit = how;
    proc.child = null;
    proc.healthy = null;
    fs.rmSync(processPaths(this.home, proc.name).pidFile, { force: true });
    proc.pid = null;
    if (proc.state === 'stopping') {
      proc.state = 'stopped';
      this.event('process.stopped', proc.name, how);
      return;
    }
    const decision = planRestart(
      { startedAt: proc.startedAt ?? endedAt, endedAt },
      proc.consecutiveCrashes,
      proc.crashEnds,
      this.settings.supervisor,
    );
    proc.crashEnds = [...proc.crashEnds.filter((at) => at >= endedAt - this.settings.supervisor.crashLoopWindowMs), endedAt];
    if (decision.action === 'give-up') {
      proc.state = 'crashed';
      this.event('process.crash-loop', proc.name, `${how}; ${decision.crashesInWindow} crashes in a row, not restarting (fix it, then "cellctl start ${proc.name}")`);
      return;
    }
    proc.consecutiveCrashes = decision.consecutive;
    proc.state = 'backoff';
    proc.nextRestartAt = endedAt + decision.delayMs;
    this.event('process.crashed', proc.name, `${how}; restarting in ${decision.delayMs} ms`);
    proc.restartTimer = setTimeout(() => {
      proc.restartTimer = null;
      if (proc.state !== 'backoff') return;
      proc.restarts += 1;
      void this.launch(proc);
    }, decision.delayMs);
  }

  private async terminate(proc: Supervised, timeoutMs: number): Promise<void> {
    if (proc.restartTimer) clearTimeout(proc.restartTimer);
    proc.restartTimer = null;
    proc.nextRestartAt = null;
    const child = proc.child;
    if (!child || child.pid === undefined) {
      proc.state = 'stopped';
      return;
    }
    proc.state = 'stopping';
    signalGroup(child.pid, 'SIGTERM');
    const exited = proc.exited ?? Promise.resolve();
    const timedOut = await Promise.race([exited.then(() => false), delay(timeoutMs).then(() => true)]);
    if (timedOut) this.event('process.killed', proc.name, `did not stop within ${timeoutMs} ms of TERM; sent KILL`);
    // KILL the group in any case: children the process started must not outlive it.
    signalGroup(child.pid, 'SIGKILL');
    await exited;
  }

  private async checkHealth(): Promise<void> {
    const now = Date.now();
    const due = [...this.procs.values()].filter(
      (proc) =>
        proc.child &&
        proc.healthUrl !== null &&
        !proc.probing &&
        (proc.state === 'starting' || (proc.state === 'running' && now - proc.lastHealthAt >= this.settings.supervisor.healthIntervalMs)),
    );
    await Promise.all(
      due.map(async (proc) => {
        proc.lastHealthAt = now;
        const healthUrl = proc.healthUrl;
        if (healthUrl === null) return;
        proc.probing = true;
        const healthy = await probe(healthUrl).finally(() => (proc.probing = false));
        if (!proc.child) return;
        if (proc.state === 'starting' && healthy) {
          proc.state = 'running';
          this.event('process.healthy', proc.name, `answering ${healthUrl}`);
        }
        if (proc.state === 'running' && proc.healthy !== null && proc.healthy !== healthy) {
          this.event(healthy ? 'process.healthy' : 'process.unhealthy', proc.name, `health check ${healthy ? 'passes' : 'fails'}`);
        }
        if (proc.state === 'running' || healthy) proc.healthy = healthy;
      }),
    );
  }

  private rotateLogs(): void {
    for (const proc of this.procs.values()) rotateIfLarge(processPaths(this.home, proc.name).logFile);
    rotateIfLarge(processPaths(this.home, 'supervisor').logFile);
  }

  /** Processes whose pid files outlived their supervisor are stopped, so ports are free again. */
  private async reapOrphans(): Promise<void> {
    const names = [ROUTER, ...this.store.listCells().map((cell) => cell.id)];
    for (const name of names) {
      const pid = livePid(processPaths(this.home, name).pidFile, this.home, name);
      if (pid === null) continue;
      this.event('process.orphan', name, `pid ${pid} was left by a previous supervisor; stopping it`);
      signalGroup(pid, 'SIGTERM');
      const deadline = Date.now() + this.settings.supervisor.stopTimeoutMs;
      while (isOurProcess(pid, this.home, name) && Date.now() < deadline) await delay(50);
      signalGroup(pid, 'SIGKILL');
      fs.rmSync(processPaths(this.home, name).pidFile, { force: true });
    }
  }

  private event(kind: string, subject: string, message: string): void {
    this.log.info({ kind, subject }, message);
    try {
      this.store.addEvent('supervisor', kind, subject, message);
    } catch (error) {
      this.log.warn({ err: error }, 'could not record event');
    }
  }
}


async function probe(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}
