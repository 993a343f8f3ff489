#!/usr/bin/env node
// The cellctl command. The TypeScript build lives in dist/ (npm install builds it).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
