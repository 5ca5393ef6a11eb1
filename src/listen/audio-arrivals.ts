import { performance } from 'node:perf_hooks';
import { LISTEN_SAMPLE_RATE } from './types.js';

/** Writes remembered: the longest endpointing (10 s) in 20 ms frames. */
const WRITES_KEPT = 512;

/**
 * When each part of a listen stream's audio arrived, so that a listener that finds where speech
 * ended as a sample of its stream (a VAD's segment, a cloud transcript's word times) can tell the
 * session when that was (docs/protocol-decisions.md#latency-events-on-every-turn). Sample `n` of a
 * write that arrived at `t` and ended at sample `e` was spoken about `(e − n) / rate` before `t`
 * (a client streams in real time), and not before the write ahead of it arrived.
 */
export class AudioArrivals {
  private readonly ends = new Float64Array(WRITES_KEPT);
  private readonly times = new Float64Array(WRITES_KEPT);
  private writes = 0;
  /** Samples written so far. */
  written = 0;

  wrote(samples: number, at = performance.now()): void {
    if (samples <= 0) return;
    this.written += samples;
    const slot = this.writes % WRITES_KEPT;
    this.ends[slot] = this.written;
    this.times[slot] = at;
    this.writes++;
  }

  /** performance.now() at which sample `n` of the stream (0: the first written) was spoken. */
  timeOf(n: number): number {
    if (this.writes === 0) return performance.now();
    const oldest = Math.max(0, this.writes - WRITES_KEPT);
    const sample = Math.min(Math.max(0, n), this.written - 1);
    // The first remembered write that holds the sample (the oldest when it is older still).
    let lo = oldest;
    let hi = this.writes - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.ends[mid % WRITES_KEPT] ?? 0) > sample) hi = mid;
      else lo = mid + 1;
    }
    const at = this.times[lo % WRITES_KEPT] ?? 0;
    const spoken = at - (((this.ends[lo % WRITES_KEPT] ?? 0) - sample) * 1000) / LISTEN_SAMPLE_RATE;
    return lo > oldest ? Math.max(this.times[(lo - 1) % WRITES_KEPT] ?? 0, spoken) : spoken;
  }
}
