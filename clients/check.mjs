#!/usr/bin/env node
// Runs the compiled check (src/check.ts -> dist/check.js) against a running server:
//   npm run build && node --conditions=development check.mjs --url URL --mail-dir DIR
// (`python3 dev.py clients` does all of it, server included.) The development condition
// makes Apollo Client print its warnings, which the check counts as failures.
import { existsSync } from 'node:fs';

const compiled = new URL('./dist/check.js', import.meta.url);
if (!existsSync(compiled)) {
  console.error('dist/check.js is missing: run `npm run codegen && npm run build` first.');
  process.exit(2);
}
await import(compiled.href);
