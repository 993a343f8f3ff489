// The supervisor: spawns the router and the cells (or adopts those a killed supervisor left running),
// watches their health, restarts crashed and hung ones with backoff (giving up on a crash loop),
// rotates their logs, and stops them gracefully (stop.ts). Every cell it runs gets a data API on its
// data port: a built-in cell serves it itself; beside a cell whose template runs its own command it
// runs a companion, `cellctl cell-agent` (process `<cell>.data`). Cells registered by URL
// (managed = false) run elsewhere and are never started here.
import { probeHealth } from '../cell/client.js';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { CellRecord, ControlPlane } from '../control/plane.js';
import { describeError } from '../shared/errors.js';
import { isPortFree } from '../shared/ports.js';
import { loadTemplate } from '../templates/catalog.js';
import { agentCell, cellPaths, cellTokenFile, dataAgentName, processPaths } from '../workspace/paths.js';
import type { Settings } from '../workspace/settings.js';
import { countsTowardHung, isHung, planRestart } from './backoff.js';
import { openLogFd, rotateIfLarge } from './logfile.js';
import { isOurProcess, livePid, portOwner } from '../shared/procfs.js';
import { type ProcessKind, type ProcessState, type ProcessStatus, ROUTER } from './protocol.js';
import { stopGroup, waitUntil } from './stop.js';

const DIST = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const ROUTER_MAIN = path.join(DIST, 'router', 'main.js');
export const CELL_MAIN = path.join(DIST, 'cell', 'main.js');
/** The cellctl command, for the `cell-agent` companions. */
export const CELLCTL_BIN = path.join(path.dirname(DIST), 'bin', 'cellctl.js');

interface LaunchSpec {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  port: number;
  /** Other ports it listens on (checked free before it starts). */
  alsoPorts: number[];
  healthUrl: string;
  logFile: string;
  pidFile: string;
}

interface Supervised {
  name: string;
  kind: ProcessKind;
  state: ProcessState;
  /** The running process, while there is one (cleared when it ends). */
  pid: number | null;
  /**
   * Left running by a previous supervisor and taken over: not our child, so its end is seen by
   * polling its pid (and its health checks), not by an exit event.
   */
  adopted: boolean;
  port: number | null;
  /** Where this run answers its health check, fixed at launch. */
  healthUrl: string | null;
  startedAt: number | null;
  restarts: number;
  consecutiveCrashes: number;
  crashEnds: number[];
  healthy: boolean | null;
  lastHealthAt: number;
  /** When the health check began failing without a pass since (null while it passes). */
  unhealthySince: number | null;
  /** Being killed because it hung: health checks pause, the end is a crash and brings a restart. */
  killingHung: boolean;
  /** A health probe is in flight: the next one waits for it. */
  probing: boolean;
  lastExit: string | null;
  lastError: string | null;
  restartTimer: NodeJS.Timeout | null;
  nextRestartAt: number | null;
}

export class Supervisor {
  private readonly procs = new Map<string, Supervised>();
  private readonly timers: NodeJS.Timeout[] = [];
  private plane: Promise<ControlPlane> | null = null;
  /** Events are written one after another, in the order they happened. */
  private events: Promise<void> = Promise.resolve();

  constructor(
    private readonly home: string,
    private readonly settings: Settings,
    private readonly openPlane: () => Promise<ControlPlane>,
    private readonly log: Logger,
  ) {}

  /** Begins watching and health checks, after adopting the processes a dead supervisor left running. */
  async begin(): Promise<void> {
    await this.adoptSurvivors();
    this.timers.push(
      setInterval(() => {
        this.watchAdopted();
        void this.checkHealth();
      }, 100),
    );
    this.timers.push(setInterval(() => this.rotateLogs(), 5_000));
  }

  /** Records an event in control.db (and the log); a damaged control.db loses the row, not the process. */
  event(kind: string, subject: string, message: string): void {
    this.log.info({ kind, subject }, message);
    this.events = this.events
      .then(() => this.withPlane((plane) => plane.addEvent('supervisor', kind, subject, message)))
      .catch((error: unknown) => this.log.warn({ err: error }, 'could not record event'));
  }

  /** Closes the control plane once the events so far are written. */
  async close(): Promise<void> {
    await this.events;
    await this.dropPlane();
  }

  private async dropPlane(): Promise<void> {
    const plane = this.plane;
    this.plane = null;
    await plane?.then((opened) => opened.close()).catch(() => {});
  }

  /**
   * Work on control.db. A failure drops the handle, so the next call opens the file again: a
   * control.db restored after damage is read again, never through a handle that stays broken.
   */
  private async withPlane<T>(work: (plane: ControlPlane) => Promise<T>): Promise<T> {
    this.plane ??= this.openPlane();
    try {
      return await work(await this.plane);
    } catch (error) {
      await this.dropPlane();
      throw error;
    }
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
    for (const name of await this.withCompanions(names, true)) {
      const proc = this.entry(name);
      if (proc.state === 'running' || proc.state === 'starting' || proc.state === 'backoff') {
        alreadyRunning.push(name);
        continue;
      }
      if (proc.state === 'stopping') await waitUntil(() => proc.state !== 'stopping', this.settings.supervisor.stopTimeoutMs + 10_000);
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
      (await this.withCompanions(names, false)).map(async (name) => {
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
    const cells = [...this.procs.values()].filter((proc) => proc.kind !== 'router').map((proc) => proc.name);
    await this.stop(cells);
    await this.stop([ROUTER]);
  }

  /** A cell of this workspace, or null (none, or control.db unreadable: then it is not started). */
  private async cellRecord(name: string): Promise<CellRecord | null> {
    try {
      return (await this.withPlane((plane) => plane.getCell(name))) ?? null;
    } catch (error) {
      this.log.warn({ err: error, cell: name }, 'cannot read the cell from control.db');
      return null;
    }
  }

  /** Whether a cell runs a user's command, so needs a `cell-agent` companion for its data API. */
  private needsAgent(cell: CellRecord): boolean {
    if (!cell.managed || cell.dataPort === null) return false;
    try {
      return !('app' in loadTemplate(cell.templateDir).run);
    } catch {
      return false;
    }
  }

  /**
   * The names with each cell's companion after it; to start, cells registered by URL are left out
   * (they run elsewhere). Stopping reaches every companion already known.
   */
  private async withCompanions(names: readonly string[], starting: boolean): Promise<string[]> {
    const all: string[] = [];
    for (const name of names) {
      if (name === ROUTER || agentCell(name) !== null) {
        all.push(name);
        continue;
      }
      if (!starting) {
        all.push(name, ...(this.procs.has(dataAgentName(name)) ? [dataAgentName(name)] : []));
        continue;
      }
      const cell = await this.cellRecord(name);
      if (cell && !cell.managed) continue;
      all.push(name, ...(cell && this.needsAgent(cell) ? [dataAgentName(name)] : []));
    }
    return [...new Set(all)];
  }

  private entry(name: string): Supervised {
    let proc = this.procs.get(name);
    if (!proc) {
      proc = {
        name,
        kind: name === ROUTER ? 'router' : agentCell(name) !== null ? 'agent' : 'cell',
        state: 'stopped',
        pid: null,
        adopted: false,
        port: null,
        healthUrl: null,
        startedAt: null,
        restarts: 0,
        consecutiveCrashes: 0,
        crashEnds: [],
        healthy: null,
        lastHealthAt: 0,
        unhealthySince: null,
        killingHung: false,
        probing: false,
        lastExit: null,
        lastError: null,
        restartTimer: null,
        nextRestartAt: null,
      };
      this.procs.set(name, proc);
    }
    return proc;
  }

  private async launchSpec(proc: Supervised): Promise<LaunchSpec> {
    const paths = processPaths(this.home, proc.name);
    const baseEnv = { ...process.env, CELLCTL_HOME: this.home, CELLCTL_PROC: proc.name } as Record<string, string>;
    if (proc.kind === 'router') {
      return {
        command: process.execPath,
        args: [ROUTER_MAIN],
        cwd: this.home,
        env: baseEnv,
        port: this.settings.routerPort,
        alsoPorts: [this.settings.routerAdminPort],
        healthUrl: `http://127.0.0.1:${this.settings.routerPort}/health`,
        logFile: paths.logFile,
        pidFile: paths.pidFile,
      };
    }
    const served = agentCell(proc.name);
    const cell = await this.withPlane((plane) => plane.getCell(served ?? proc.name));
    if (!cell) throw new Error(`cell ${served ?? proc.name} is not registered in control.db`);
    if (!cell.managed) throw new Error(`cell ${cell.id} is registered by URL (${cell.url}): it runs elsewhere, not here`);
    const template = loadTemplate(cell.templateDir);
    const files = cellPaths(this.home, cell.id);
    if (served !== null) return this.agentSpec(cell, template.dir, baseEnv, paths);
    const env: Record<string, string> = {
      ...baseEnv,
      CELL_ID: cell.id,
      PORT: String(cell.port),
      CELL_DB: files.dataDb,
      CELL_HOME: files.dir,
      CELL_SCHEMA_VERSION: String(cell.schemaVersion),
    };
    const run = template.run;
    // A built-in cell serves its data API itself (src/cell/data-config.ts).
    const dataEnv: Record<string, string> =
      cell.dataPort === null
        ? {}
        : {
            DATA_PORT: String(cell.dataPort),
            CELL_DATA_TOKEN_FILE: cellTokenFile(this.home, cell.id),
            CELL_CUSTOMER_TABLES: JSON.stringify(template.customerTables),
          };
    const launch =
      'app' in run
        ? {
            command: process.execPath,
            args: [CELL_MAIN],
            env: { ...env, ...dataEnv, CELL_APP: run.app },
            alsoPorts: cell.dataPort === null ? [] : [cell.dataPort],
          }
        : { command: run.command[0]!, args: run.command.slice(1), env: { ...env, ...run.env }, alsoPorts: [] };
    return {
      ...launch,
      cwd: template.dir,
      port: cell.port,
      healthUrl: `http://127.0.0.1:${cell.port}${template.healthPath}`,
      logFile: paths.logFile,
      pidFile: paths.pidFile,
    };
  }

  /** `cellctl cell-agent` beside a user's app: the cell's data API on its data port. */
  private agentSpec(cell: CellRecord, templateDir: string, baseEnv: Record<string, string>, paths: { logFile: string; pidFile: string }): LaunchSpec {
    if (cell.dataPort === null) throw new Error(`cell ${cell.id} has no data port`);
    const files = cellPaths(this.home, cell.id);
    const args = [CELLCTL_BIN, 'cell-agent', '--db', files.dataDb, '--template', templateDir, '--cell-id', cell.id];
    args.push('--port', String(cell.dataPort), '--token-file', cellTokenFile(this.home, cell.id));
    return {
      command: process.execPath,
      args,
      cwd: files.dir,
      env: { ...baseEnv, CELL_HOME: files.dir },
      port: cell.dataPort,
      alsoPorts: [],
      healthUrl: `http://127.0.0.1:${cell.dataPort}/health`,
      logFile: paths.logFile,
      pidFile: paths.pidFile,
    };
  }

  private async launch(proc: Supervised): Promise<void> {
    proc.nextRestartAt = null;
    let spec: LaunchSpec;
    try {
      spec = await this.launchSpec(proc);
    } catch (error) {
      return this.fail(proc, describeError(error));
    }
    proc.port = spec.port;
    proc.healthUrl = spec.healthUrl;
    for (const port of [spec.port, ...spec.alsoPorts]) {
      if (await isPortFree(port)) continue;
      const owner = portOwner(port);
      const what = port === spec.port ? 'port' : proc.kind === 'router' ? 'admin port (routerAdminPort)' : 'data API port';
      return this.fail(proc, `${what} ${port} is already in use${owner ? ` by ${owner}` : ''}`);
    }
    fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
    const logFd = openLogFd(spec.logFile);
    let pid: number | undefined;
    try {
      // Its own process group, so a stop reaches everything the process started.
      const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', logFd, logFd], detached: true });
      const spawned = child.pid;
      pid = spawned;
      // Without a pid it never ran (no exit event follows); with one, its exit says how it ended.
      child.once('error', (error) => {
        if (spawned === undefined) this.fail(proc, `cannot run ${spec.command}: ${error.message}`);
        else proc.lastError = `cannot run ${spec.command}: ${error.message}`;
      });
      if (spawned !== undefined) child.once('exit', (code, signal) => this.onExit(proc, spawned, signal ? `killed by ${signal}` : `exited with code ${code}`));
    } finally {
      fs.closeSync(logFd);
    }
    proc.state = 'starting';
    proc.adopted = false;
    proc.killingHung = false;
    proc.unhealthySince = null;
    proc.healthy = null;
    proc.startedAt = Date.now();
    if (pid !== undefined) {
      proc.pid = pid;
      fs.writeFileSync(spec.pidFile, `${pid}\n`);
    }
    this.event('process.started', proc.name, `pid ${pid ?? '?'} on port ${spec.port}`);
  }

  private fail(proc: Supervised, message: string): void {
    proc.state = 'failed';
    proc.lastError = message;
    this.event('process.failed', proc.name, message);
  }

  /** The run with `pid` ended (`how` says how, as far as is known): done if stopping, else a crash. */
  private onExit(proc: Supervised, pid: number, how: string): void {
    if (proc.pid !== pid) return;
    const endedAt = Date.now();
    proc.lastExit = how;
    proc.adopted = false;
    proc.killingHung = false;
    proc.healthy = null;
    fs.rmSync(processPaths(this.home, proc.name).pidFile, { force: true });
    proc.pid = null;
    if (proc.state === 'stopping') {
      proc.state = 'stopped';
      this.event('process.stopped', proc.name, how);
      return;
    }
    const decision = planRestart({ startedAt: proc.startedAt ?? endedAt, endedAt }, proc.consecutiveCrashes, proc.crashEnds, this.settings.supervisor);
    proc.crashEnds = [...proc.crashEnds.filter((at) => at >= endedAt - this.settings.supervisor.crashLoopWindowMs), endedAt];
    if (decision.action === 'give-up') {
      proc.state = 'crashed';
      this.event(
        'process.crash-loop',
        proc.name,
        `${how}; ${decision.crashesInWindow} crashes in a row, not restarting (fix it, then "cellctl start ${proc.name}")`,
      );
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
    const pid = proc.pid;
    if (pid === null) {
      proc.state = 'stopped';
      return;
    }
    proc.state = 'stopping';
    const outcome = await stopGroup(pid, () => this.hasEnded(proc, pid), timeoutMs);
    if (outcome === 'killed') this.event('process.killed', proc.name, `did not stop within ${timeoutMs} ms of TERM; sent KILL`);
  }

  /** Whether the run with `pid` is over; for an adopted process this is where its end is noticed. */
  private hasEnded(proc: Supervised, pid: number): boolean {
    if (proc.pid !== pid) return true;
    if (!proc.adopted || isOurProcess(pid, this.home, proc.name)) return false;
    this.onExit(proc, pid, 'ended (exit status unknown: it was adopted from a previous supervisor)');
    return true;
  }

  private watchAdopted(): void {
    for (const proc of this.procs.values()) {
      if (proc.adopted && proc.pid !== null) this.hasEnded(proc, proc.pid);
    }
  }

  /**
   * A process that is alive but has failed its health check for unhealthyRestartMs is hung (stopped,
   * deadlocked, spinning): it is killed, and its end counts as a crash, so it restarts with backoff.
   */
  private async killHung(proc: Supervised, pid: number, failingMs: number): Promise<void> {
    proc.killingHung = true;
    this.event('process.hung', proc.name, `pid ${pid} is alive but its health check has failed for ${failingMs} ms; killing it to restart it`);
    await stopGroup(pid, () => this.hasEnded(proc, pid), this.settings.supervisor.stopTimeoutMs);
  }

  private async checkHealth(): Promise<void> {
    const now = Date.now();
    const due = [...this.procs.values()].filter(
      (proc) =>
        proc.pid !== null &&
        proc.healthUrl !== null &&
        !proc.probing &&
        !proc.killingHung &&
        (proc.state === 'starting' || (proc.state === 'running' && now - proc.lastHealthAt >= this.settings.supervisor.healthIntervalMs)),
    );
    await Promise.all(
      due.map(async (proc) => {
        proc.lastHealthAt = now;
        const healthUrl = proc.healthUrl;
        const pid = proc.pid;
        if (healthUrl === null || pid === null) return;
        proc.probing = true;
        const health = await probeHealth(healthUrl, 1_000).finally(() => (proc.probing = false));
        const healthy = health.healthy;
        if (proc.pid !== pid || proc.killingHung) return;
        proc.unhealthySince = countsTowardHung(health) ? (proc.unhealthySince ?? now) : null;
        if (isHung(proc.unhealthySince, Date.now(), this.settings.supervisor) && (proc.state === 'running' || proc.state === 'starting')) {
          void this.killHung(proc, pid, Date.now() - proc.unhealthySince!);
          return;
        }
        if (proc.state === 'starting' && healthy) {
          proc.state = 'running';
          this.event('process.healthy', proc.name, `answering ${healthUrl}`);
        }
        if (proc.state === 'running' && proc.healthy !== null && proc.healthy !== healthy) {
          const failing = health.checks.filter((check) => !check.ok).map((check) => check.detail ?? check.name);
          this.event(
            healthy ? 'process.healthy' : 'process.unhealthy',
            proc.name,
            `health check ${healthy ? 'passes' : `fails${failing.length > 0 ? ` (${failing.join('; ')})` : ''}`}`,
          );
        }
        if (proc.state === 'running' || healthy) proc.healthy = healthy;
      }),
    );
  }

  private rotateLogs(): void {
    for (const proc of this.procs.values()) rotateIfLarge(processPaths(this.home, proc.name).logFile);
    rotateIfLarge(processPaths(this.home, 'supervisor').logFile);
  }

  /**
   * Processes a killed supervisor left running (their pid files name live processes of this
   * workspace) are taken over as they are: customers keep being served, and only what is dead is
   * started again.
   */
  private async adoptSurvivors(): Promise<void> {
    let cells: string[] = [];
    try {
      // A companion's pid file exists only where one was started.
      const managed = (await this.withPlane((plane) => plane.listCells())).filter((cell) => cell.managed);
      cells = managed.flatMap((cell) => [cell.id, dataAgentName(cell.id)]);
    } catch (error) {
      this.log.warn({ err: error }, 'cannot read the cells from control.db; adopting only the router');
    }
    for (const name of [ROUTER, ...cells]) {
      const pidFile = processPaths(this.home, name).pidFile;
      const pid = livePid(pidFile, this.home, name);
      if (pid !== null) await this.adopt(this.entry(name), pid, pidFile);
    }
  }

  private async adopt(proc: Supervised, pid: number, pidFile: string): Promise<void> {
    try {
      const spec = await this.launchSpec(proc);
      proc.port = spec.port;
      proc.healthUrl = spec.healthUrl;
    } catch (error) {
      // Still watched for its end; without a health URL it is not probed.
      proc.lastError = `no health check: ${describeError(error)}`;
    }
    proc.pid = pid;
    proc.adopted = true;
    proc.state = 'running';
    // The pid file was written when it was spawned.
    proc.startedAt = fileTime(pidFile) ?? Date.now();
    this.event('process.adopted', proc.name, `pid ${pid}, left running by a previous supervisor; watching it`);
  }
}

function fileTime(file: string): number | null {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return null;
  }
}
