// A checker for the Prometheus text exposition format (0.0.4), written from its rules since no
// parser is installed: returns what breaks them (empty when the text is valid).
const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const VALUE = '(?:[-+]?(?:\\d+\\.?\\d*(?:[eE][-+]?\\d+)?|\\.\\d+(?:[eE][-+]?\\d+)?)|NaN|[-+]?Inf)';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,(?:${LABEL}))*,?)?\\})?\\s+${VALUE}(?:\\s+-?\\d+)?$`);
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function familyName(sample: string, types: Map<string, string>): string {
  for (const suffix of ['_bucket', '_sum', '_count', '_created']) {
    const base = sample.slice(0, -suffix.length);
    if (sample.endsWith(suffix) && (types.get(base) === 'histogram' || types.get(base) === 'summary')) return base;
  }
  return sample;
}

export function expositionProblems(text: string): string[] {
  const problems: string[] = [];
  const help = new Set<string>();
  const types = new Map<string, string>();
  const series = new Set<string>();
  const finished = new Set<string>();
  let current: string | null = null;
  const enter = (family: string, line: number) => {
    if (family === current) return;
    if (finished.has(family)) problems.push(`line ${line}: family ${family} continues after another family began`);
    if (current !== null) finished.add(current);
    current = family;
  };
  if (text.length > 0 && !text.endsWith('\n')) problems.push('the text does not end with a newline');
  text.split('\n').forEach((line, index) => {
    const at = index + 1;
    if (line === '') return;
    const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
    if (meta) {
      const [, kind, name] = meta as unknown as [string, string, string, string | undefined];
      if (!new RegExp(`^${NAME}$`).test(name)) problems.push(`line ${at}: bad metric name ${name}`);
      if (kind === 'HELP') {
        if (help.has(name)) problems.push(`line ${at}: second HELP for ${name}`);
        help.add(name);
      } else {
        if (types.has(name)) problems.push(`line ${at}: second TYPE for ${name}`);
        if ([...series].some((key) => key.startsWith(`${name}{`) || key === name)) problems.push(`line ${at}: TYPE for ${name} after its samples`);
        if (!TYPES.has(meta[3] ?? '')) problems.push(`line ${at}: unknown type "${meta[3]}"`);
        types.set(name, meta[3] ?? '');
      }
      enter(name, at);
      return;
    }
    if (line.startsWith('#')) return;
    const sample = SAMPLE.exec(line);
    if (!sample) return void problems.push(`line ${at}: not a valid sample: ${line}`);
    const name = sample[1]!;
    const labels = (sample[2] ?? '').match(new RegExp(LABEL, 'g')) ?? [];
    const names = labels.map((label) => label.split('=')[0]);
    if (new Set(names).size !== names.length) problems.push(`line ${at}: a label repeats: ${line}`);
    const key = `${name}{${[...labels].sort().join(',')}}`;
    if (series.has(key)) problems.push(`line ${at}: series repeats: ${key}`);
    series.add(key);
    const family = familyName(name, types);
    if (types.get(family) === 'histogram' && name.endsWith('_bucket') && !names.includes('le')) problems.push(`line ${at}: bucket without le`);
    enter(family, at);
  });
  return problems;
}
