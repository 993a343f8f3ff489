// The dashboard page: renders each DashboardView the server streams (Server-Sent Events) into tiles,
// moves and events, keeps one uPlot chart per tile, and runs the customer search. No framework.
import type { BatchRow, CustomerAnswer, DashboardView, EventRow, MoveRow, Tile, TrafficRow } from '../protocol.js';

const TONE: Record<Tile['health'], string> = { healthy: 'tone-ok', unhealthy: 'tone-bad', starting: 'tone-warn', stopped: 'tone-idle' };

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

const byId = (id: string): HTMLElement => document.getElementById(id)!;
const fixed = (value: number | null, digits: number, unit = ''): string => (value === null ? '–' : `${value.toFixed(digits)}${unit}`);
const percent = (value: number | null): string => (value === null ? '–' : `${(value * 100).toFixed(value > 0 && value < 0.01 ? 2 : 1)} %`);
const clock = (iso: string): string => new Date(iso).toLocaleTimeString([], { hour12: false });

interface TileParts {
  root: HTMLElement;
  plot: uPlot | null;
  chart: HTMLElement;
}

const tiles = new Map<string, TileParts>();

function fact(label: string, key: string): HTMLElement {
  return el('div', {}, el('dt', {}, label), el('dd', { 'data-fact': key }, '–'));
}

function newTile(tile: Tile): TileParts {
  const headingId = `tile-${tile.kind}-${tile.id}`;
  const chart = el('div', { class: 'chart', role: 'img', 'aria-label': `${tile.id}: requests per second and p99 latency over the last minutes` });
  const root = el(
    'article',
    { class: 'tile', 'aria-labelledby': headingId, 'data-tile': tile.id, 'data-kind': tile.kind },
    el('div', { class: 'tile-head' }, el('h3', { id: headingId }, tile.id), el('p', { class: 'badge' }, el('span', { class: 'word' }))),
    el('p', { class: 'muted', 'data-fact': 'about' }),
    el(
      'div',
      { class: 'fill' },
      el('meter', { min: '0', max: '1', value: '0', 'aria-label': `${tile.id}: customers of capacity` }),
      el('span', { 'data-fact': 'customers' }),
    ),
    el('dl', { class: 'facts' }, fact('req/s', 'rps'), fact('errors', 'errors'), fact(`p99, last ${tile.p99WindowSeconds} s`, 'p99')),
    el('p', { class: 'muted incidents', 'data-fact': 'incidents' }),
    chart,
    el('p', { class: 'legend muted' }, el('span', { class: 'key-rps' }, 'req/s (left)'), ' · ', el('span', { class: 'key-p99' }, 'p99 ms (right, dashed)')),
  );
  return { root, chart, plot: null };
}

function chartOptions(width: number): uPlot.Options {
  return {
    width,
    height: 100,
    legend: { show: false },
    cursor: { show: false },
    scales: { x: { time: true }, ms: { auto: true } },
    axes: [
      { size: 24, font: '10px system-ui' },
      { size: 36, font: '10px system-ui' },
      { scale: 'ms', side: 1, size: 48, font: '10px system-ui', grid: { show: false } },
    ],
    series: [
      {},
      { label: 'req/s', stroke: '#1d4ed8', width: 1.5, points: { show: false } },
      { label: 'p99 ms', scale: 'ms', stroke: '#b45309', width: 1, dash: [4, 3], points: { show: false } },
    ],
  };
}

function drawChart(parts: TileParts, tile: Tile): void {
  const data: uPlot.AlignedData = [tile.chart.t, tile.chart.rps, tile.chart.p99Ms];
  const width = Math.max(200, parts.chart.clientWidth);
  if (!parts.plot) parts.plot = new uPlot(chartOptions(width), data, parts.chart);
  else {
    if (Math.abs(parts.plot.width - width) > 2) parts.plot.setSize({ width, height: 100 });
    parts.plot.setData(data);
  }
}

function setText(root: HTMLElement, key: string, text: string): void {
  const node = root.querySelector(`[data-fact="${key}"]`);
  if (node && node.textContent !== text) node.textContent = text;
}

function fillTile(parts: TileParts, tile: Tile): void {
  const { root } = parts;
  root.className = `tile ${TONE[tile.health]}`;
  root.dataset.health = tile.health;
  root.dataset.state = tile.state;
  root.dataset.pid = String(tile.pid ?? '');
  root.dataset.restarts = String(tile.restarts);
  root.dataset.incidents = String(tile.incidentsLastHour);
  const word = tile.state === 'running' || tile.state === tile.health ? tile.health : `${tile.health} · ${tile.state}`;
  root.querySelector('.word')!.textContent = word;
  const about = [
    tile.host ? `on ${tile.host}` : null,
    tile.template,
    tile.status,
    tile.pid ? `pid ${tile.pid}` : null,
    tile.port ? `port ${tile.port}` : null,
    tile.restarts ? `${tile.restarts} restart(s)` : null,
  ];
  setText(root, 'about', about.filter(Boolean).join(' · ') + (tile.lastError && tile.health !== 'healthy' ? ` — ${tile.lastError}` : ''));
  const meter = root.querySelector('meter')!;
  meter.value = tile.capacity ? Math.min(1, (tile.customers ?? 0) / tile.capacity) : 0;
  setText(root, 'customers', `${tile.customers ?? '–'} / ${tile.capacity ?? '–'} customers`);
  setText(root, 'rps', fixed(tile.rps, 1));
  setText(root, 'errors', percent(tile.errorRate));
  setText(root, 'p99', fixed(tile.p99Ms, 1, ' ms'));
  // Kept in view for an hour: a cell killed and back within a second still says so.
  setText(
    root,
    'incidents',
    tile.incidentsLastHour === 0 ? '' : `${tile.incidentsLastHour} crash(es) or restart(s) in the last hour, latest at ${clock(tile.lastIncidentAt!)}`,
  );
  drawChart(parts, tile);
}

function renderTiles(container: HTMLElement, list: Tile[]): void {
  const wanted = new Set(list.map((tile) => `${tile.kind}:${tile.id}`));
  for (const [key, parts] of tiles) {
    if (parts.root.parentElement === container && !wanted.has(key)) {
      parts.plot?.destroy();
      parts.root.remove();
      tiles.delete(key);
    }
  }
  for (const tile of list) {
    const key = `${tile.kind}:${tile.id}`;
    let parts = tiles.get(key);
    if (!parts) {
      parts = newTile(tile);
      tiles.set(key, parts);
      container.append(parts.root);
    }
    fillTile(parts, tile);
  }
}

const MOVE_TONE: Record<MoveRow['progress'], string> = {
  running: 'tone-warn',
  interrupted: 'tone-bad',
  done: 'tone-ok',
  aborted: 'tone-idle',
  failed: 'tone-bad',
};

/** Where an online move's copy stands: rows copied, or changes left to apply. */
function onlineLine(online: NonNullable<MoveRow['online']>): string {
  if (online.phase === 'copying') return `online copy: ${online.rows} of ${online.totalRows} rows`;
  return `online copy: catching up, ${online.lag} change(s) behind`;
}

function moveItem(move: MoveRow): HTMLElement {
  const item = el(
    'li',
    { class: `move ${MOVE_TONE[move.progress]}`, 'data-move': String(move.id), 'data-customer': move.customerId, 'data-progress': move.progress },
    el('p', {}, el('strong', {}, `#${move.id} ${move.customerId}`), ` ${move.from} → ${move.to} `, el('span', { class: 'badge' }, move.progress)),
    el(
      'div',
      { class: 'fill' },
      el('progress', { max: '1', value: String(move.fraction), 'aria-label': `move ${move.id} progress` }),
      el('span', {}, `${move.step} (${Math.round(move.fraction * 100)} %)`),
    ),
    ...(move.online && move.progress === 'running' && (move.step === 'capturing' || move.step === 'caught-up')
      ? [el('p', { class: 'muted' }, onlineLine(move.online))]
      : []),
    el('p', { class: 'muted' }, `started ${clock(move.startedAt)}, last step ${clock(move.updatedAt)}${move.batch ? ` · batch ${move.batch}` : ''}`),
  );
  if (move.error) item.append(el('p', { class: 'muted' }, move.error));
  if (move.fix.length > 0) item.append(el('p', {}, 'finish it: ', ...move.fix.flatMap((command, index) => [index ? ' or ' : '', el('code', {}, command)])));
  return item;
}

function batchItem(batch: BatchRow): HTMLElement {
  const eta = batch.etaSeconds === null ? 'ETA unknown' : `ETA ${batch.etaSeconds} s`;
  const where =
    batch.progress === 'running'
      ? ` ${batch.done} done, ${batch.running} running, ${batch.remaining} left · ${eta}`
      : ` ${batch.done} done, ${batch.failed} failed · ended`;
  return el(
    'li',
    { class: 'batch', 'data-batch': batch.batch, 'data-progress': batch.progress },
    el('p', {}, el('strong', {}, `bulk move from ${batch.sources.join(', ')}`), where),
    el('progress', { max: '1', value: String(batch.fraction), 'aria-label': `bulk move ${batch.batch} progress` }),
  );
}

function eventItem(event: EventRow): HTMLElement {
  return el(
    'li',
    { 'data-event': String(event.id), 'data-kind': event.kind, 'data-subject': event.subject },
    el('time', { datetime: event.at }, clock(event.at)),
    el('span', {}, `${event.kind} ${event.subject}`),
    el('span', { class: 'message' }, event.message),
  );
}

/** Replaces a list's items only when what it shows changed, so the page does not flicker. */
function replaceList<T>(container: HTMLElement, items: T[], key: (item: T) => string, render: (item: T) => HTMLElement): void {
  const signature = items.map(key).join('|');
  if (container.dataset.signature === signature) return;
  container.dataset.signature = signature;
  container.replaceChildren(...items.map(render));
}

/** The events the filters let through (kind and subject as chosen on the page), at most 40. */
function filteredEvents(events: EventRow[]): EventRow[] {
  const kind = (byId('event-kind') as HTMLSelectElement).value;
  const subject = (byId('event-subject') as HTMLInputElement).value.trim();
  return events.filter((event) => (kind === '' || event.kind === kind) && (subject === '' || event.subject.includes(subject))).slice(0, 40);
}

/** The kind filter offers the kinds seen so far (kept, so a choice does not vanish with its last event). */
function offerKinds(events: EventRow[]): void {
  const select = byId('event-kind') as HTMLSelectElement;
  const known = new Set([...select.options].map((option) => option.value));
  for (const kind of [...new Set(events.map((event) => event.kind))].sort()) if (!known.has(kind)) select.append(el('option', { value: kind }, kind));
}

function renderTraffic(rows: TrafficRow[]): void {
  const section = byId('traffic-section');
  section.hidden = rows.length === 0;
  // Redrawn only when a count changed.
  const table = byId('traffic');
  const signature = JSON.stringify(rows);
  if (table.dataset.signature === signature) return;
  table.dataset.signature = signature;
  const reasons = [...new Set(rows.flatMap((row) => Object.keys(row.rejected)))].sort();
  const cells = [...new Set(rows.flatMap((row) => Object.keys(row.cells)))].sort();
  const lines: [string, (row: TrafficRow) => number][] = [
    ...reasons.map((reason): [string, (row: TrafficRow) => number] => [`refused: ${reason}`, (row) => row.rejected[reason] ?? 0]),
    ...cells.flatMap((cell): [string, (row: TrafficRow) => number][] => [
      [`${cell}: 4xx`, (row) => row.cells[cell]?.['4xx'] ?? 0],
      [`${cell}: 5xx`, (row) => row.cells[cell]?.['5xx'] ?? 0],
    ]),
  ];
  table.replaceChildren(
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'what'), ...rows.map((row) => el('th', { scope: 'col' }, row.router)))),
    el(
      'tbody',
      {},
      ...(lines.length === 0
        ? [el('tr', {}, el('td', { colspan: String(rows.length + 1) }, 'none refused, no 4xx or 5xx'))]
        : lines.map(([label, count]) =>
            el('tr', { 'data-line': label }, el('th', { scope: 'row' }, label), ...rows.map((row) => el('td', {}, String(count(row))))),
          )),
    ),
  );
}

let lastView: DashboardView | null = null;

function renderEvents(view: DashboardView): void {
  offerKinds(view.events);
  replaceList(byId('events'), filteredEvents(view.events), (e) => String(e.id), eventItem);
}

function render(view: DashboardView): void {
  lastView = view;
  const summary = byId('summary');
  summary.className = `badge ${view.healthy ? 'tone-ok' : 'tone-bad'}`;
  summary.querySelector('.word')!.textContent = view.healthy ? 'all healthy' : `${view.problems.length} problem(s)`;
  byId('updated').textContent = `${view.home} · supervisor ${view.supervisor} · updated ${clock(view.at)}`;
  renderTiles(byId('routers'), view.routers);
  renderTiles(byId('cells'), view.cells);
  replaceList(byId('batches'), view.batches, (b) => `${b.batch}:${b.done}:${b.running}:${b.remaining}:${b.etaSeconds}`, batchItem);
  replaceList(byId('moves'), view.moves, (m) => `${m.id}:${m.progress}:${m.step}:${m.online?.rows ?? ''}:${m.online?.lag ?? ''}`, moveItem);
  if (view.moves.length === 0 && byId('moves').childElementCount === 0) byId('moves').append(el('li', { class: 'muted' }, 'no moves yet'));
  renderEvents(view);
  byId('incidents-strip').hidden = view.incidents.length === 0;
  replaceList(byId('incidents'), view.incidents, (e) => String(e.id), eventItem);
  renderTraffic(view.traffic);
  replaceList(
    byId('problems'),
    view.problems,
    (p) => p,
    (p) => el('li', {}, p),
  );
}

function rowsTable(rows: Record<string, Record<string, number>>): HTMLElement {
  const body = Object.entries(rows).flatMap(([cell, counts]) =>
    Object.entries(counts).map(([table, n]) => el('tr', {}, el('td', {}, cell), el('td', {}, table), el('td', {}, String(n)))),
  );
  if (body.length === 0) return el('p', {}, 'rows: none in any cell');
  return el(
    'table',
    {},
    el('caption', { class: 'muted' }, 'rows per cell'),
    el('thead', {}, el('tr', {}, el('th', {}, 'cell'), el('th', {}, 'table'), el('th', {}, 'rows'))),
    el('tbody', {}, ...body),
  );
}

function showCustomer(answer: CustomerAnswer): void {
  const result = byId('customer-result');
  result.replaceChildren(
    el(
      'p',
      { 'data-customer': answer.customerId, 'data-cell': answer.cell ?? '' },
      el('strong', {}, answer.customerId),
      ` → ${answer.cell ?? '(no cell)'} `,
      el('span', { class: 'muted' }, `[${answer.rule}${answer.fenced ? ', fenced' : ''}]`),
    ),
    el('p', {}, answer.explanation),
    answer.rows ? rowsTable(answer.rows) : el('p', { class: 'muted' }, `rows unavailable: ${answer.rowsError ?? 'unknown'}`),
    // Rows of the cells that could be read, and the ones that could not, named.
    ...(answer.rows && answer.rowsError ? [el('p', { class: 'muted' }, answer.rowsError)] : []),
  );
}

async function search(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const id = (byId('customer') as HTMLInputElement).value.trim();
  if (!id) return;
  const response = await fetch(`api/customers/${encodeURIComponent(id)}`);
  const body = (await response.json()) as CustomerAnswer | { error: string };
  if ('error' in body) byId('customer-result').replaceChildren(el('p', {}, body.error));
  else showCustomer(body);
}

function connect(): void {
  // The cookie set by the first answer carries the token from now on; the address bar need not show it.
  if (location.search.includes('token=')) history.replaceState(null, '', location.pathname);
  const events = new EventSource('events');
  events.onmessage = (message: MessageEvent<string>) => render(JSON.parse(message.data) as DashboardView);
  events.onerror = () => {
    const summary = byId('summary');
    summary.className = 'badge tone-idle';
    summary.querySelector('.word')!.textContent = 'reconnecting';
  };
  byId('search').addEventListener('submit', (event) => void search(event as SubmitEvent));
  const refilter = () => {
    if (lastView) renderEvents(lastView);
  };
  byId('event-kind').addEventListener('change', refilter);
  byId('event-subject').addEventListener('input', refilter);
  byId('event-filter').addEventListener('submit', (event) => event.preventDefault());
}

connect();
