import { performance } from 'node:perf_hooks';

export interface Stats {
  runs: number;
  median: number;
  p95: number;
  min: number;
  max: number;
}

/** Median, p95, min and max of a list of figures (any unit). */
export function summarize(samples: readonly number[]): Stats {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
  return { runs: sorted.length, median: at(0.5), p95: at(0.95), min: sorted[0] ?? NaN, max: sorted.at(-1) ?? NaN };
}

/** Times `fn` over repeated runs after a warm-up and summarizes the durations in milliseconds. */
export async function measure(
  fn: () => unknown,
  options: { runs?: number; warmup?: number } = {},
): Promise<Stats> {
  const { runs = 30, warmup = 3 } = options;
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return summarize(samples);
}

export type Row = Record<string, string | number>;

/** Prints one benchmark's figures as an aligned table with a title line. */
export function printTable(title: string, rows: readonly Row[]): void {
  console.log(`\n## ${title}`);
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0] ?? {});
  const cell = (v: string | number | undefined): string =>
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 3 : 1)) : (v ?? '');
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]): string => values.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ');
  console.log(line(columns));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(columns.map((c) => cell(r[c]))));
}
