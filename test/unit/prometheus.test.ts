import { describe, expect, it } from 'vitest';
import { mergeExpositions, spellNaN, systemExposition } from '../../src/shared/prometheus.js';
import { expositionProblems } from '../exposition.js';

const cell = '# HELP cell_customer_count customer count in this cell\n# TYPE cell_customer_count gauge\ncell_customer_count 3\n';
const router =
  '# HELP cellctl_router_requests_total Requests\n# TYPE cellctl_router_requests_total counter\ncellctl_router_requests_total{cell="a",code="200"} 4\n' +
  '# HELP lat Latency\n# TYPE lat histogram\nlat_bucket{le="0.1",cell="a"} 1\nlat_bucket{le="+Inf",cell="a"} 2\nlat_sum{cell="a"} 0.3\nlat_count{cell="a"} 2\n';

describe('one exposition for the whole system', () => {
  it('the checker catches what the old concatenation did', () => {
    expect(expositionProblems(cell + cell)).toEqual(expect.arrayContaining([expect.stringMatching(/second HELP/)]));
  });

  it('states each family once, labels each cell, and is valid', () => {
    const text = systemExposition(router, [
      { id: 'a', text: cell },
      { id: 'b', text: cell },
      { id: 'c', text: null },
    ]);
    expect(expositionProblems(text)).toEqual([]);
    expect(text.match(/# HELP cell_customer_count/g)).toHaveLength(1);
    expect(text).toContain('cell_customer_count{cell="a"} 3');
    expect(text).toContain('cell_customer_count{cell="b"} 3');
    expect(text).toContain('cellctl_cell_up{cell="c"} 0');
    expect(text).toContain('lat_sum{cell="a"} 0.3');
  });

  it('keeps a label the sample already has', () => {
    expect(mergeExpositions([{ text: 'x{cell="z"} 1\n', labels: { cell: 'a' } }])).toBe('x{cell="z"} 1\n');
  });
});

describe("prom-client's NaN", () => {
  it('is spelled NaN, so an early scrape (no event-loop samples yet) stays valid', async () => {
    const { Registry, collectDefaultMetrics } = await import('prom-client');
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'early_' });
    const raw = await registry.metrics();
    expect(raw).toMatch(/^early_nodejs_eventloop_lag_mean_seconds Nan$/m);
    expect(expositionProblems(raw)).not.toEqual([]);
    const fixed = spellNaN(raw);
    expect(fixed).toMatch(/^early_nodejs_eventloop_lag_mean_seconds NaN$/m);
    expect(expositionProblems(fixed)).toEqual([]);
    expect(spellNaN('a{x="Nan"} 1\nb Nan\nc Nancy')).toBe('a{x="Nan"} 1\nb NaN\nc Nancy');
  });
});
