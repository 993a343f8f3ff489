// The settings a running router works with and what it builds from them. A change of cellctl.json
// builds the next version whole and swaps it in, as Traefik's handler switcher does: a request runs
// with the version it found from start to end, and nothing built from a setting is changed in place.
// Changes arrive one way, reload(): the admin API's reload (cellctl config set) and the watch of
// cellctl.json both call it, and the watch knows which version of the file the last reload read, so
// one edit is applied once whichever of them sees it first.
import fs from 'node:fs';
import type { Logger } from 'pino';
import type { Settings } from '../workspace/settings.js';
import { type SettingsChange, settingsInForce } from './live-settings.js';

/** One version of the settings and what was built from it; never changed once swapped in. */
export interface InForce<Built> {
  readonly settings: Readonly<Settings>;
  readonly built: Built;
  /** What the reload that made this version applied and what waits for a router restart, and the stamp of the file it read. */
  readonly change: SettingsChange;
  readonly fileStamp: string;
}

export interface SettingsSwitchOptions<Built> {
  /** As the router started: the restart-only settings keep these values. */
  startedWith: Settings;
  /** Builds what a version of the settings needs; `previous` lets it keep what did not change (a rate limiter's counts). */
  build(settings: Settings, previous: Built | null): Built;
  /** Reads cellctl.json; throws when it is invalid. Without it the settings never change. */
  load?: () => Settings;
  /** The file `load` reads, watched for hand edits. */
  file?: string;
  log: Logger;
}

export class SettingsSwitch<Built> {
  private version: InForce<Built>;
  /** The file's stamp when it was last read, by reload or by the watch. */
  private fileSeen: string;

  constructor(private readonly options: SettingsSwitchOptions<Built>) {
    this.fileSeen = options.file ? fileStamp(options.file) : '';
    const settings = structuredClone(options.startedWith);
    this.version = { settings, built: options.build(settings, null), change: { applied: [], needsRestart: [] }, fileStamp: this.fileSeen };
  }

  get current(): InForce<Built> {
    return this.version;
  }

  /**
   * Reads cellctl.json, builds the next version and swaps it in; throws (keeping the version in force)
   * when the file is invalid. Returns what this edit of the file changed, also when the watch applied
   * it first (cellctl config set writes the file, then calls this: it learns what its edit did).
   */
  reload(): SettingsChange {
    const { load, file, startedWith, build, log } = this.options;
    if (!load) throw new Error('this router was started without a settings file');
    // Stamped before the read: an edit made after it changes the stamp again, so the watch reads it.
    const stamp = file ? fileStamp(file) : '';
    this.fileSeen = stamp;
    const next = settingsInForce(startedWith, this.version.settings, load());
    if (next.applied.length === 0 && file && stamp === this.version.fileStamp) return { applied: this.version.change.applied, needsRestart: next.needsRestart };
    const change = { applied: next.applied, needsRestart: next.needsRestart };
    this.version = { settings: next.settings, built: build(next.settings, this.version.built), change, fileStamp: stamp };
    if (next.applied.length > 0) log.info(change, 'settings applied');
    return change;
  }

  /** Called every second: reloads when cellctl.json changed since it was last read. An invalid edit is logged and ignored. */
  watch(): void {
    const { load, file, log } = this.options;
    if (!file || !load || fileStamp(file) === this.fileSeen) return;
    try {
      this.reload();
    } catch (error) {
      log.warn({ err: error }, 'cellctl.json changed but is invalid; keeping the settings in force');
    }
  }
}

function fileStamp(file: string): string {
  try {
    const stat = fs.statSync(file);
    return `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
  } catch {
    return 'missing';
  }
}
