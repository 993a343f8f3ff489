#!/usr/bin/env node
// The cellctl command. The TypeScript build lives in dist/ (npm install builds it).
import { readFileSync } from 'node:fs';

const [, , only, ...rest] = process.argv;
if ((only === '--version' || only === '-V') && rest.length === 0) {
  // Answered before the program and its command table load: a script's version check costs a Node start.
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  const { main } = await import('../dist/cli/main.js');
  process.exitCode = await main(process.argv);
}
