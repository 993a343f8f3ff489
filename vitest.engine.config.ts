// The engine tests (test/engine): a private dockerd per file, cellctl's image built on it. Apart from
// `npm test` (vitest.config.ts leaves them out): `npm run test:engine`. Same global setup and teardown.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/engine/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default'],
  },
});
