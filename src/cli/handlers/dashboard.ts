// cellctl dashboard: serves the live page on 127.0.0.1 behind a random token printed with its URL,
// until Ctrl-C (exit 130, as any interrupted command).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { DashboardServer } from '../../dashboard/server.js';
import { withWorkspace } from '../context.js';
import { printLine, say, sayWarning } from '../output.js';
import type { InputOf } from '../define.js';
import type { dashboard } from '../commands/dashboard.js';

/** The page asks for a view at least this often (the issue asks for once a second). */
const SAMPLE_EVERY_MS = 1_000;

function openBrowser(url: string): void {
  const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
  const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => sayWarning(`could not run ${opener}: open ${url} yourself`));
  child.unref();
}

export async function run(input: InputOf<typeof dashboard>): Promise<void> {
  const port = input.opts.port ?? 0;
  await withWorkspace(input, async (ws) => {
    const token = randomBytes(18).toString('base64url');
    const server = new DashboardServer({ ws, token, intervalMs: SAMPLE_EVERY_MS });
    const url = `http://127.0.0.1:${await server.listen(port)}/?token=${token}`;
    printLine(url);
    say('dashboard running (read-only); Ctrl-C to stop');
    if (input.opts.open) openBrowser(url);
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    process.exitCode = 130;
    await server.close();
  });
}
