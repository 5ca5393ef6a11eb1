import { performance } from 'node:perf_hooks';
import type { PlayoutClockLike } from '../session/utterance.js';

/** Audio between two progress marks: how finely the caller's hearing is known (docs/telephony.md#what-the-caller-heard). */
const MARK_INTERVAL_MS = 100;

/**
 * How far behind real time (since the utterance's first frame) the marks may lag before time is
 * trusted instead: a stream that never echoes marks (a one-way stream, a misconfigured Telnyx
 * mode) would otherwise hold every reply open (docs/telephony.md#what-the-caller-heard).
 */
export const MARK_GRACE_MS = 2000;

/** What the clock sends beside the audio. */
export interface MarkTransport {
  mark(name: string): void;
  /** Drops the audio the phone line still holds. */
  clear(): void;
}

const MARK_NAME = /^parley-(\d{1,9})-(\d{1,12})(-end)?$/;

/**
 * The playout clock of a phone call. Frames are paced by the session's own clock (`inner`, real
 * time plus the lead); this one sends a mark every MARK_INTERVAL_MS of audio and one after each
 * utterance, and counts as heard only the audio before the latest mark the phone line echoed,
 * that is what the line has played. A barge-in sends `clear`; marks the line returns for the
 * cleared audio belong to an utterance that is over and count for nothing.
 *
 * The inner clock's `send` must go through `sent()` after each frame leaves, so marks follow
 * the audio they stand behind.
 */
export class MarkClock implements PlayoutClockLike {
  /** Numbers utterances so that marks of an interrupted one are recognised and ignored. */
  private utterance = 0;
  private sentBytes = 0;
  private nextMarkBytes = 0;
  private heardBytes = 0;
  private endHeard = false;
  /** When the utterance's first frame went out. */
  private firstSentAt: number | undefined;

  constructor(
    private readonly inner: PlayoutClockLike,
    private readonly bytesPerMs: number,
    private readonly transport: MarkTransport,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.reset();
  }

  /** A frame of the current utterance went out on the line. */
  sent(frame: Uint8Array): void {
    this.firstSentAt ??= this.now();
    this.sentBytes += frame.length;
    if (this.sentBytes >= this.nextMarkBytes) {
      this.transport.mark(`parley-${this.utterance}-${this.sentBytes}`);
      this.nextMarkBytes = this.sentBytes + MARK_INTERVAL_MS * this.bytesPerMs;
    }
  }

  /** The phone line echoed a mark: everything before it has been played. */
  acknowledge(name: string): void {
    const match = MARK_NAME.exec(name);
    if (match === null || Number(match[1]) !== this.utterance) return;
    this.heardBytes = Math.max(this.heardBytes, Math.min(Number(match[2]), this.sentBytes));
    if (match[3] !== undefined) this.endHeard = true;
  }

  startUtterance(): void {
    this.inner.startUtterance();
    this.reset();
  }

  enqueue(bytes: Uint8Array): void {
    this.inner.enqueue(bytes);
  }

  enqueueFrame(bytes: Uint8Array, ms: number, pcm?: Int16Array): void {
    this.inner.enqueueFrame(bytes, ms, pcm);
  }

  enqueueRaw(bytes: Uint8Array): void {
    this.inner.enqueueRaw(bytes);
  }

  /** The utterance's last frame is followed by its end mark. */
  endUtterance(): void {
    this.inner.endUtterance();
    const utterance = this.utterance;
    void this.inner.drained().then(() => {
      // drained() also resolves at an interrupt, which moved on to the next utterance number.
      if (this.utterance === utterance && this.sentBytes > 0) this.transport.mark(`parley-${utterance}-${this.sentBytes}-end`);
    });
  }

  playedMs(): number {
    const confirmed = this.heardBytes / this.bytesPerMs;
    if (this.firstSentAt === undefined) return confirmed;
    return Math.max(confirmed, Math.min(this.now() - this.firstSentAt - MARK_GRACE_MS, this.sentBytes / this.bytesPerMs));
  }

  drained(): Promise<void> {
    return this.inner.drained();
  }

  /** Barge-in: what the line played so far; the rest is cleared from the line. */
  interrupt(): number {
    const played = this.playedMs();
    this.inner.interrupt();
    if (this.sentBytes > 0 && !this.endHeard) this.transport.clear();
    this.reset();
    return played;
  }

  pause(): void {
    this.inner.pause();
  }

  resume(): void {
    this.inner.resume();
  }

  private reset(): void {
    this.utterance++;
    this.sentBytes = 0;
    this.heardBytes = 0;
    this.endHeard = false;
    this.firstSentAt = undefined;
    this.nextMarkBytes = MARK_INTERVAL_MS * this.bytesPerMs;
  }
}
