// cellctl metrics: figures per cell (from each cell) and per router (its admin API), as a table,
// JSON, or Prometheus text.
import { fetchCellMetrics, fetchCellPrometheus } from '../../cell/client.js';
import { RouterAdmin, type RouterStats } from '../../router/client.js';
import { requireCell } from '../../workspace/cells.js';
import { withWorkspace } from '../context.js';
import { printData } from '../formats.js';
import { printLine, renderTable } from '../output.js';
import { systemExposition } from '../../shared/prometheus.js';
import type { InputOf } from '../define.js';
import type { metrics } from '../commands/metrics.js';

export async function run(input: InputOf<typeof metrics>): Promise<void> {
  const { output, prometheus: asPrometheus } = input.opts;
  await withWorkspace(input, async (ws) => {
    const cells = input.args.cell ? [await requireCell(ws, input.args.cell)] : await ws.plane.listCells();
    const router = RouterAdmin.forWorkspace(ws.home, ws.settings, 2_000);
    if (asPrometheus) {
      // One valid exposition: the router's scrape target gives the same merge when it runs.
      const [routerText, ...cellTexts] = await Promise.all([
        input.args.cell ? Promise.resolve(null) : router.metricsText().catch(() => null),
        ...cells.map((cell) => fetchCellPrometheus(cell.url)),
      ]);
      return void process.stdout.write(
        systemExposition(
          routerText,
          cells.map((cell, index) => ({ id: cell.id, text: cellTexts[index] ?? null })),
        ),
      );
    }
    const [stats, ...perCell] = await Promise.all([router.stats().catch((): RouterStats | null => null), ...cells.map((cell) => fetchCellMetrics(cell.url))]);
    const report = {
      router: stats,
      cells: Object.fromEntries(cells.map((cell, index) => [cell.id, { ...(perCell[index] ?? { running: false }), routed: stats?.cells[cell.id] ?? null }])),
    };
    if (printData(output, report)) return;
    const keys = [...new Set(perCell.flatMap((metrics) => Object.keys(metrics ?? {})).filter((key) => key !== 'cell_id' && key !== 'timestamp'))];
    printLine(
      renderTable(
        ['cell', ...keys, 'routed requests', 'routed errors'],
        cells.map((cell, index) => [
          cell.id,
          ...keys.map((key) => String(perCell[index]?.[key] ?? '-')),
          stats?.cells[cell.id]?.requests ?? '-',
          stats?.cells[cell.id]?.errors ?? '-',
        ]),
        { wide: output === 'wide' },
      ),
    );
    if (stats)
      printLine(`router: ${stats.customersMapped} customers mapped, mapping v${stats.mappingVersion}, ${(stats.memoryRssBytes / 1048576).toFixed(0)} MiB RSS`);
    else printLine('router: not running');
  });
}
