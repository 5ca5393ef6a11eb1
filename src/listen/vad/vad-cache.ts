// Idle Silero VADs of this thread by configuration: loading one costs 15-120 ms and ~12 MB, and
// sherpa frees them only on garbage collection, which a worker rarely runs. Released VADs are
// kept for the next sessions (a small cache dropped most of them to the GC, and the next burst
// of sessions loaded new ones, RSS growing round after round), up to a bound over all
// configurations, so that clients asking for many different turn settings cannot grow it.
import { createSileroVad } from './silero-vad.js';
import type { SherpaVad, SileroVadOptions } from './silero-vad.js';

/** Idle VADs one thread keeps, all configurations together (about 12 MB each). */
export const MAX_IDLE_VADS = 48;

/** Oldest released first. */
const idle: { key: string; vad: SherpaVad }[] = [];

export function acquireVad(key: string, options: SileroVadOptions): SherpaVad {
  for (let i = idle.length - 1; i >= 0; i--) {
    if (idle[i]?.key === key) return (idle.splice(i, 1)[0] as { vad: SherpaVad }).vad;
  }
  return createSileroVad(options);
}

/** `reset()` clears the LSTM state, the pending samples and any segment: a reused VAD decides window by window as a new one. */
export function releaseVad(key: string, vad: SherpaVad): void {
  vad.reset();
  idle.push({ key, vad });
  // The one released longest ago goes to the GC.
  if (idle.length > MAX_IDLE_VADS) idle.shift();
}

/** Idle VADs of this thread (for tests). */
export function idleVadCount(): number {
  return idle.length;
}
