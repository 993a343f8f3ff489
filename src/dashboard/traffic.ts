// What each router's own metrics say of the requests it did not pass on and of the cells' error
// answers (HAProxy's stats page shows the same): rejections by reason and 4xx/5xx per cell, per
// router and summed. Pure, so it is tested directly.
import type { TrafficRow } from './protocol.js';

const SAMPLE = /^(cellctl_router_rejected_total|cellctl_router_requests_total)\{([^}]*)\}\s+([0-9.e+]+)\s*$/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/** Rejections by reason and 4xx/5xx per cell from one router's exposition (the counters since it started). */
export function parseTraffic(router: string, text: string): TrafficRow {
  const row: TrafficRow = { router, rejected: {}, cells: {} };
  for (const line of text.split('\n')) {
    const sample = SAMPLE.exec(line);
    if (!sample) continue;
    const labels = Object.fromEntries([...sample[2]!.matchAll(LABEL)].map((match) => [match[1]!, match[2]!]));
    const value = Number(sample[3]);
    if (sample[1] === 'cellctl_router_rejected_total') {
      if (labels.reason !== undefined) row.rejected[labels.reason] = (row.rejected[labels.reason] ?? 0) + value;
      continue;
    }
    const code = Number(labels.code);
    if (labels.cell === undefined || !(code >= 400)) continue;
    const counts = (row.cells[labels.cell] ??= { '4xx': 0, '5xx': 0 });
    counts[code >= 500 ? '5xx' : '4xx'] += value;
  }
  return row;
}

/** Each router's row, then their sum when there is more than one. */
export function trafficRows(rows: readonly TrafficRow[]): TrafficRow[] {
  if (rows.length < 2) return [...rows];
  const sum: TrafficRow = { router: 'all routers', rejected: {}, cells: {} };
  for (const row of rows) {
    for (const [reason, count] of Object.entries(row.rejected)) sum.rejected[reason] = (sum.rejected[reason] ?? 0) + count;
    for (const [cell, counts] of Object.entries(row.cells)) {
      const total = (sum.cells[cell] ??= { '4xx': 0, '5xx': 0 });
      total['4xx'] += counts['4xx'];
      total['5xx'] += counts['5xx'];
    }
  }
  return [...rows, sum];
}
