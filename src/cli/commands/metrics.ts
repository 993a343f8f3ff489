// cellctl metrics: figures per cell (from each cell) and per router (its admin API), as a table,
// JSON, or Prometheus text.
import { fetchCellMetrics, fetchCellPrometheus } from '../../cell/client.js';
import { RouterAdmin, type RouterStats } from '../../router/client.js';
import { requireCell } from '../../workspace/cells.js';
import { type CommandInput, withWorkspace } from '../context.js';
import { printJson, printLine, renderTable } from '../output.js';
import { usageError } from '../../shared/errors.js';
import { systemExposition } from '../../shared/prometheus.js';
import { commandOptions, type OptionsOf, on } from '../options.js';

export const options = commandOptions({ json: on, prometheus: on });

export async function run(input: CommandInput<OptionsOf<typeof options>>): Promise<void> {
  const { json: asJson, prometheus: asPrometheus } = input.opts;
  if (asJson && asPrometheus) throw usageError('choose one of --json and --prometheus');
  await withWorkspace(input, async (ws) => {
    const cells = input.args[0] ? [await requireCell(ws, input.args[0])] : await ws.plane.listCells();
    const router = RouterAdmin.forWorkspace(ws.home, ws.settings, 2_000);
    if (asPrometheus) {
      // One valid exposition: the router's scrape target gives the same merge when it runs.
      const [routerText, ...cellTexts] = await Promise.all([
        input.args[0] ? Promise.resolve(null) : router.metricsText().catch(() => null),
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
    if (asJson) return printJson(report);
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
      ),
    );
    if (stats)
      printLine(`router: ${stats.customersMapped} customers mapped, mapping v${stats.mappingVersion}, ${(stats.memoryRssBytes / 1048576).toFixed(0)} MiB RSS`);
    else printLine('router: not running');
  });
}
