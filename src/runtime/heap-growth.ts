import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what survived the last full collection before it
 * starts the next one: 1 + this / 100 times (V8's own factor is about 1.5 here).
 */
export const HEAP_GROWING_PERCENT = 200;
const FLAG = '--heap-growing-percent';

/**
 * A server's live heap is mostly its code (some 45 MB), and what its sessions promote (requests,
 * streams and audio that live a second or two) soon brings the old generation near V8's limit: at
 * 200 sessions it marked without pause, a Mark-Compact every 300 ms with pauses of 10–40 ms,
 * which set the tail of every turn (bench/server/load.bench.ts). A larger growing factor spaces
 * them out to about one per 10 s, for a few tens of MB more heap at the peak. An operator's own
 * setting (node's command line or NODE_OPTIONS) is left as it is.
 */
export function relaxHeapGrowth(): void {
  const given = [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)];
  if (given.some((flag) => flag.replaceAll('_', '-').startsWith(FLAG))) return;
  setFlagsFromString(`${FLAG}=${HEAP_GROWING_PERCENT}`);
}
