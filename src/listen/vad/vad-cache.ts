// Idle Silero VADs of this thread by configuration: loading one costs 15-120 ms and ~12 MB, and
// sherpa frees them only on garbage collection, which a worker rarely runs. Every released VAD is
// kept (so at most as many as this thread ever ran sessions at once): a capped cache dropped the
// rest to the GC and the next burst of sessions loaded new ones, RSS growing round after round.
import { createSileroVad } from './silero-vad.js';
import type { SherpaVad, SileroVadOptions } from './silero-vad.js';

const idle = new Map<string, SherpaVad[]>();

export function acquireVad(key: string, options: SileroVadOptions): SherpaVad {
  return idle.get(key)?.pop() ?? createSileroVad(options);
}

/** `reset()` clears the LSTM state, the pending samples and any segment: a reused VAD decides window by window as a new one. */
export function releaseVad(key: string, vad: SherpaVad): void {
  vad.reset();
  const list = idle.get(key) ?? [];
  list.push(vad);
  idle.set(key, list);
}
