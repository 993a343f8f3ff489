// The layering rules of `npm run lint` (.dependency-cruiser.cjs): the real tree keeps them, and a
// deliberate upward import or a reach into another service's internals is caught.
import { createRequire } from 'node:module';
import path from 'node:path';
import { cruise } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT } from '../helpers.js';

const rules = createRequire(import.meta.url)(path.join(ROOT, '.dependency-cruiser.cjs'));

async function violations(baseDir: string): Promise<string[]> {
  const tsConfig = path.join(baseDir, 'tsconfig.json');
  const { tsConfig: _ignored, ...options } = rules.options;
  const result = await cruise(
    ['src'],
    { ...options, baseDir, ruleSet: { forbidden: rules.forbidden }, validate: true, tsConfig: { fileName: tsConfig } },
    undefined,
    { tsConfig: await extractTSConfig(tsConfig) },
  );
  const output = result.output as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
  return output.summary.violations.map((violation) => `${violation.rule.name}: ${violation.from} → ${violation.to}`).sort();
}

describe('layers', () => {
  it('cellctl itself has no upward, circular or sideways import', async () => {
    expect(await violations(ROOT)).toEqual([]);
  });

  it('an upward import and a reach into another service are caught', async () => {
    expect(await violations(path.join(FIXTURES, 'layers'))).toEqual([
      'nothing-imports-the-cli: src/shared/util.ts → src/cli/main.ts',
      'services-meet-through-their-apis: src/migration/plan.ts → src/router/placement.ts',
      'shared-is-the-bottom: src/shared/util.ts → src/cli/main.ts',
    ]);
  });
});
