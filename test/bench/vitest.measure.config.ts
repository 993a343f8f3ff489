// The benchmark's parts written in TypeScript (test/bench/*.measure.ts), run by vitest for its
// TypeScript loader; test/bench/run.js starts them. Not part of `npm test`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/bench/*.measure.ts'],
    testTimeout: 1_200_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default'],
  },
});
