// What the operating system says about a process: is it alive, is it really ours (not a reused pid),
// and who listens on a port. Linux answers from /proc; elsewhere only liveness is known.
import fs from 'node:fs';

/** Alive and not a zombie (an exited process whose parent has not reaped it yet). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; comm may hold spaces, so read after the last ')'.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** When the process started, in clock ticks since boot (/proc/<pid>/stat field 22); null if unknown. */
export function processStartTicks(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * True when `pid` is alive and was started by this workspace for `name`: every process cellctl
 * starts carries CELLCTL_HOME and CELLCTL_PROC in its environment, so a reused pid is not mistaken.
 */
export function isOurProcess(pid: number, home: string, name: string): boolean {
  if (!isAlive(pid)) return false;
  let environ: string;
  try {
    environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    // No /proc (or no permission to read it): liveness is all we can tell.
    return !fs.existsSync('/proc/self/environ');
  }
  const vars = new Set(environ.split('\0'));
  return vars.has(`CELLCTL_HOME=${home}`) && vars.has(`CELLCTL_PROC=${name}`);
}

/** The cellctl name (CELLCTL_PROC) of `pid` when it is a process of the workspace at `home`, else null. */
export function workspaceProcessName(pid: number, home: string): string | null {
  let vars: string[];
  try {
    vars = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return null;
  }
  if (!vars.includes(`CELLCTL_HOME=${home}`)) return null;
  return vars.find((line) => line.startsWith('CELLCTL_PROC='))?.slice('CELLCTL_PROC='.length) || null;
}

/** The pids whose parent is `pid` (from /proc; empty where there is none). */
export function childrenOf(pid: number): number[] {
  return safeReaddir('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return ppid === pid ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}

export function readPidFile(file: string): number | null {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** The pid in `file` if that process is ours and alive; a stale file is removed. */
export function livePid(file: string, home: string, name: string): number | null {
  const pid = readPidFile(file);
  if (pid === null) return null;
  if (isOurProcess(pid, home, name)) return pid;
  fs.rmSync(file, { force: true });
  return null;
}

/** Which process listens on a TCP port, e.g. "pid 4242 (nginx)", or null if unknown. */
export function portOwner(port: number): string | null {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      // State 0A is LISTEN.
      if (local && fields[3] === '0A' && parseInt(local.split(':')[1] ?? '', 16) === port && fields[9]) inodes.add(fields[9]);
    }
  }
  if (inodes.size === 0) return null;
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    for (const fd of safeReaddir(`/proc/${entry}/fd`)) {
      let target: string;
      try {
        target = fs.readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) {
        let comm = '?';
        try {
          comm = fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
        } catch {
          // the process ended meanwhile
        }
        return `pid ${entry} (${comm})`;
      }
    }
  }
  return null;
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Signals a process group (every process cellctl starts leads its own), or the lone process. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
      return;
    } catch {
      // not a group leader, or already gone
    }
  }
}
