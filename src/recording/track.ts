/**
 * One channel of a recording not yet written to disk: samples by their position on the
 * recording's timeline (sample 0 = the session's start). Writing before what was already taken
 * is dropped; gaps are silence.
 */
export class Track {
  /** Position of buf[0]: everything before it was taken. */
  private start = 0;
  private buf = new Int16Array(16_000);
  /** One past the last position written. */
  private end = 0;

  /** One past the last position written. */
  get extent(): number {
    return this.end;
  }

  write(position: number, samples: Int16Array): void {
    const skip = Math.max(0, this.start - position);
    if (skip >= samples.length) return;
    const from = position + skip;
    const to = position + samples.length;
    this.reserve(to);
    this.buf.set(samples.subarray(skip), from - this.start);
    this.end = Math.max(this.end, to);
  }

  /** Silences everything from `position` on (audio that was sent but never played). */
  clearFrom(position: number): void {
    const from = Math.max(position, this.start);
    if (from >= this.end) return;
    this.buf.fill(0, from - this.start, this.end - this.start);
    this.end = from;
  }

  /** Removes and returns the samples before `position` not yet taken (silence where none were written). */
  take(position: number): Int16Array {
    const count = Math.max(0, position - this.start);
    const out = new Int16Array(count);
    out.set(this.buf.subarray(0, Math.min(count, this.buf.length)));
    const kept = this.buf.subarray(Math.min(count, this.buf.length));
    const next = new Int16Array(Math.max(16_000, kept.length));
    next.set(kept);
    this.buf = next;
    this.start += count;
    this.end = Math.max(this.end, this.start);
    return out;
  }

  private reserve(position: number): void {
    const needed = position - this.start;
    if (needed <= this.buf.length) return;
    const grown = new Int16Array(Math.max(needed, this.buf.length * 2));
    grown.set(this.buf);
    this.buf = grown;
  }
}
