// The page's weight budget: JS + CSS in dist/assets, gzipped, must stay under 400 kB.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET = 400 * 1000;
const dir = new URL('../dist/assets/', import.meta.url).pathname;
let total = 0;
for (const name of readdirSync(dir).filter((n) => /\.(js|css)$/.test(n))) {
  const size = gzipSync(readFileSync(join(dir, name)), { level: 9 }).length;
  total += size;
  console.log(`${name.padEnd(32)} ${(size / 1000).toFixed(1).padStart(7)} kB gzipped`);
}
console.log(`JS + CSS ${(total / 1000).toFixed(1)} kB gzipped (budget ${BUDGET / 1000} kB)`);
if (total > BUDGET) {
  console.error('over the budget: import fewer PatternFly parts or split the bundle');
  process.exit(1);
}
