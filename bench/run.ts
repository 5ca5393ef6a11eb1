// Runs every bench/**/*.bench.ts (or those whose path contains an argument) in order.
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import os from 'node:os';

function collect(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return collect(path);
    return name.endsWith('.bench.ts') ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const files = collect('bench')
  .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)))
  .sort();
console.log(`# Parley benchmarks: node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}`);
for (const file of files) {
  const mod = (await import(pathToFileURL(resolve(file)).href)) as { default: () => Promise<void> };
  await mod.default();
}
