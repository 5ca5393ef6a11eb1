// Idle Silero VADs of this thread by configuration: loading one costs 15-120 ms and sherpa frees
// them only on garbage collection, so sessions reuse them.
import { createSileroVad } from './silero-vad.js';
import type { SherpaVad, SileroVadOptions } from './silero-vad.js';

const MAX_IDLE_PER_KEY = 4;
const idle = new Map<string, SherpaVad[]>();

export function acquireVad(key: string, options: SileroVadOptions): SherpaVad {
  return idle.get(key)?.pop() ?? createSileroVad(options);
}

export function releaseVad(key: string, vad: SherpaVad): void {
  vad.reset();
  const list = idle.get(key) ?? [];
  if (list.length < MAX_IDLE_PER_KEY) list.push(vad);
  idle.set(key, list);
}
