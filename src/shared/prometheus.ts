// Merges several Prometheus text expositions (the router's, each cell's) into one valid one: each
// metric family's HELP and TYPE once, its samples together, each source's samples marked by a label.
// Pure, so the CLI and the router's scrape endpoint give the same text.

export interface ExpositionPart {
  text: string;
  /** Added to every sample of this part (e.g. { cell: "cell-1" }); labels the sample has win. */
  labels: Record<string, string>;
}

interface Family {
  help: string | null;
  type: string | null;
  samples: string[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?(\s.*)$/;

const escapeLabel = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function withLabels(line: string, labels: Record<string, string>): string {
  const match = SAMPLE.exec(line);
  if (!match) return line;
  const [, name, braces, rest] = match;
  const existing = braces ? braces.slice(1, -1) : '';
  const added = Object.entries(labels)
    .filter(([key]) => !new RegExp(`(^|,)\\s*${key}=`).test(existing))
    .map(([key, value]) => `${key}="${escapeLabel(value)}"`);
  const all = [...added, ...(existing.trim() ? [existing] : [])].join(',');
  return `${name}${all ? `{${all}}` : ''}${rest}`;
}

/** The family a sample belongs to: its name, or the name less a histogram/summary suffix. */
function familyOf(sampleName: string, families: Map<string, Family>): string {
  if (families.has(sampleName)) return sampleName;
  const base = sampleName.replace(/_(bucket|sum|count|created|total)$/, '');
  return families.has(base) ? base : sampleName;
}

export function mergeExpositions(parts: readonly ExpositionPart[]): string {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let found = families.get(name);
    if (!found) families.set(name, (found = { help: null, type: null, samples: [] }));
    return found;
  };
  for (const part of parts) {
    for (const raw of part.text.split('\n')) {
      const line = raw.trimEnd();
      if (!line) continue;
      const meta = /^#\s+(HELP|TYPE)\s+(\S+)\s?(.*)$/.exec(line);
      if (meta) {
        const target = family(meta[2]!);
        if (meta[1] === 'HELP') target.help ??= meta[3]!;
        else target.type ??= meta[3]!;
        continue;
      }
      if (line.startsWith('#')) continue; // other comments carry nothing a scraper needs
      const name = SAMPLE.exec(line)?.[1];
      if (name) family(familyOf(name, families)).samples.push(withLabels(line, part.labels));
    }
  }
  const out: string[] = [];
  for (const [name, found] of families) {
    if (found.help !== null) out.push(`# HELP ${name} ${found.help}`);
    if (found.type !== null) out.push(`# TYPE ${name} ${found.type}`);
    out.push(...found.samples);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

/** The whole system's exposition: the router's own metrics, then every cell's, each marked `cell`, with `cellctl_cell_up`. */
export function systemExposition(router: string | null, cells: readonly { id: string; text: string | null }[]): string {
  const up = (id: string, answered: boolean): ExpositionPart => ({
    text: `# HELP cellctl_cell_up 1 when the cell answered its metrics scrape\n# TYPE cellctl_cell_up gauge\ncellctl_cell_up ${answered ? 1 : 0}\n`,
    labels: { cell: id },
  });
  return mergeExpositions([
    ...(router === null ? [] : [{ text: router, labels: {} }]),
    ...cells.flatMap((cell) => [up(cell.id, cell.text !== null), ...(cell.text === null ? [] : [{ text: cell.text, labels: { cell: cell.id } }])]),
  ]);
}

/**
 * prom-client writes a NaN sample as "Nan" (the event-loop lag gauges before their first sample),
 * which the exposition format does not know: spelled "NaN" here, so a scrape never fails on it.
 */
export const spellNaN = (text: string): string => text.replace(/^([a-zA-Z_:][^\s]*(?:\{.*\})?) Nan(?=\s|$)/gm, '$1 NaN');
