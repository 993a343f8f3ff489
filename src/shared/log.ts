// Structured logs (pino, JSON lines) for the long-running processes: supervisor, router, cells.
import { pino, type Logger } from 'pino';

export function processLogger(name: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({ name, level: process.env.CELLCTL_LOG_LEVEL ?? 'info', base: { pid: process.pid, ...bindings } });
}
