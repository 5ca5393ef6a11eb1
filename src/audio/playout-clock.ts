import { performance } from 'node:perf_hooks';

/**
 * Length of one agent audio message for a playout lead: 60 ms at the default 200 ms lead, never
 * more than a third of the lead (so the listener holds at least two thirds of it when the next
 * one goes out), never under 20 ms. Fewer, larger messages cost the server a third of the socket
 * writes and timers of 20 ms ones (docs/protocol-decisions.md#agent-audio-messages).
 */
export function audioMessageMs(leadMs: number): number {
  return Math.max(20, Math.min(60, Math.floor(leadMs / 3)));
}

export interface PlayoutClockOptions {
  /** How far the audio sent may run ahead of what the listener has heard. */
  leadMs: number;
  /** Duration of one outgoing frame; default 20. */
  frameMs?: number;
  /** Bytes of encoded audio per millisecond (OutputEncoder.bytesPerMs). */
  bytesPerMs: number;
  /** Bytes of one sample; frames are whole multiples of it. Default 2 (also safe for G.711). */
  sampleBytes?: number;
  /** Hands one frame to the transport. */
  send: (frame: Uint8Array) => void;
  /**
   * Told of each frame of audio as it goes out: when the listener will hear it (on `now`'s clock),
   * for how long, and the PCM of a compressed frame when it came with one (the echo reference).
   */
  onPlayed?: (played: PlayedFrame) => void;
  /** Monotonic clock in milliseconds; default performance.now. */
  now?: () => number;
}

export interface PlayedFrame {
  bytes: Uint8Array;
  heardAtMs: number;
  durationMs: number;
  pcm?: Int16Array;
}

interface QueuedBytes {
  bytes: Uint8Array;
  /** Sent as-is, outside the pacing, with zero duration (a WAV header). */
  raw: boolean;
  /** A whole compressed frame: sent in one piece, lasting this long. Undefined for PCM, cut anywhere. */
  ms?: number;
  pcm?: Int16Array;
}

type UtteranceState = 'idle' | 'open' | 'ended';

/** Tolerance for float rounding when comparing durations. */
const EPSILON_MS = 1e-6;

/**
 * Paces agent audio at real time plus a small lead, and so knows at every moment how much of
 * the current utterance the listener has heard (assuming the client plays frames as they come).
 *
 * Utterances: startUtterance() (or the first enqueue while idle) opens one; enqueue() adds its
 * audio in as many pieces as the TTS produces; endUtterance() says no more is coming. When the
 * last frame of an ended utterance has gone out, drained() resolves and the clock
 * is idle again. A new utterance may start only when the clock is idle (or after interrupt()).
 *
 * Time: the utterance's playout starts when its first frame is sent (or, if the listener is
 * still hearing the previous utterance, when that one runs out). A frame is released once the
 * audio already sent, plus that frame, is at most leadMs ahead of the playout position. If the
 * queue runs dry (TTS slower than real time), the listener hears silence once the sent audio is
 * used up; when audio arrives again, the playout start moves forward by the length of that gap,
 * so playedMs() counts only audio that was sent, never the silence.
 */
export class PlayoutClock {
  private readonly leadMs: number;
  private readonly bytesPerMs: number;
  private readonly frameBytes: number;
  private readonly send: (frame: Uint8Array) => void;
  private readonly onPlayed: ((played: PlayedFrame) => void) | undefined;
  private readonly now: () => number;

  private queue: QueuedBytes[] = [];
  /** Bytes of queue[0] already sent. */
  private headOffset = 0;
  private state: UtteranceState = 'idle';
  /** Wall time at which the listener hears position 0 of the utterance; undefined before its first frame. */
  private playoutStart: number | undefined;
  /** PCM bytes of the current utterance sent so far (counted in bytes, so that sums stay exact). */
  private sentBytes = 0;
  /** Playback time of the current utterance's whole compressed frames sent so far. */
  private sentFrameMs = 0;
  /** Wall time at which the previous utterance's sent audio runs out at the listener. */
  private previousPlayoutEnd = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private drainWaiters: (() => void)[] = [];
  /** Bumped by interrupt() and stop() so a pump interrupted by its own send() stops. */
  private generation = 0;
  private stopped = false;
  private paused = false;

  constructor(options: PlayoutClockOptions) {
    if (!(options.leadMs >= 0)) throw new RangeError('leadMs must be >= 0');
    if (!(options.bytesPerMs > 0)) throw new RangeError('bytesPerMs must be > 0');
    const frameMs = options.frameMs ?? 20;
    if (!(frameMs > 0)) throw new RangeError('frameMs must be > 0');
    const sampleBytes = options.sampleBytes ?? 2;
    this.leadMs = options.leadMs;
    this.bytesPerMs = options.bytesPerMs;
    this.frameBytes = Math.max(sampleBytes, Math.round((frameMs * options.bytesPerMs) / sampleBytes) * sampleBytes);
    this.send = options.send;
    this.onPlayed = options.onPlayed;
    this.now = options.now ?? (() => performance.now());
  }

  /** Opens a new utterance. Throws if the previous one still has audio to send. */
  startUtterance(): void {
    if (this.stopped) return;
    if (this.state !== 'idle') throw new Error('PlayoutClock: previous utterance still sending; await drained() or interrupt()');
    if (this.playoutStart !== undefined) this.previousPlayoutEnd = this.playoutStart + this.sentMs();
    this.playoutStart = undefined;
    this.sentBytes = 0;
    this.sentFrameMs = 0;
    this.state = 'open';
  }

  /** Appends encoded audio to the current utterance (opening one if idle); kept by reference until sent. */
  enqueue(bytes: Uint8Array): void {
    if (!this.acceptingAudio() || bytes.length === 0) return;
    this.queue.push({ bytes, raw: false });
    this.pump();
  }

  /**
   * Appends one whole compressed frame (an Ogg page, an MP3 or FLAC frame) that plays for `ms`:
   * it goes out in one piece when due, paced by its duration rather than its size.
   */
  enqueueFrame(bytes: Uint8Array, ms: number, pcm?: Int16Array): void {
    if (!this.acceptingAudio() || bytes.length === 0) return;
    this.queue.push(pcm === undefined ? { bytes, raw: false, ms } : { bytes, raw: false, ms, pcm });
    this.pump();
  }

  /** Queues bytes that go out as they are, in order, with zero duration (a WAV header). */
  enqueueRaw(bytes: Uint8Array): void {
    if (!this.acceptingAudio() || bytes.length === 0) return;
    this.queue.push({ bytes, raw: true });
    this.pump();
  }

  /** No more audio for this utterance: its last, possibly short, frame may go out. */
  endUtterance(): void {
    if (this.stopped || this.state !== 'open') return;
    this.state = 'ended';
    this.pump();
  }

  /**
   * Resolves when the current utterance has been ended and all of it sent, or at once when idle.
   * Also resolves on interrupt() and stop(), which leave nothing to send.
   */
  drained(): Promise<void> {
    if (this.state === 'idle' || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Milliseconds of the current (or last) utterance the listener has heard by now. */
  playedMs(): number {
    if (this.playoutStart === undefined) return 0;
    return Math.min(Math.max(0, this.now() - this.playoutStart), this.sentMs());
  }

  /** Milliseconds of the current utterance's audio sent so far. */
  sentMs(): number {
    return this.sentBytes / this.bytesPerMs + this.sentFrameMs;
  }

  /** An utterance is open or still has audio to send. */
  isSending(): boolean {
    return this.state !== 'idle';
  }

  /**
   * Barge-in: drops every frame not yet sent, returns playedMs() at this instant and goes idle,
   * ready for the next utterance (whose playout starts afresh: the client flushes its buffer).
   */
  interrupt(): number {
    const played = this.playedMs();
    this.dropEverything();
    this.playoutStart = undefined;
    this.sentBytes = 0;
    this.sentFrameMs = 0;
    this.previousPlayoutEnd = -Infinity;
    return played;
  }

  /**
   * A possible interruption (docs/turn-taking.md): no more frames are released, of this
   * utterance or the next, until resume(). Frames already sent still play at the listener, so
   * playedMs() goes on up to sentMs() and then holds.
   */
  pause(): void {
    this.paused = true;
    this.clearTimer();
  }

  /** Releases frames again from where they stopped; the playout start moves past the pause. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.pump();
  }

  /** Session close: clears the timer and the queue; later calls do nothing. */
  stop(): void {
    this.stopped = true;
    this.dropEverything();
  }

  private acceptingAudio(): boolean {
    if (this.stopped) return false;
    if (this.state === 'ended') throw new Error('PlayoutClock: audio enqueued after endUtterance()');
    if (this.state === 'idle') this.startUtterance();
    return true;
  }

  private dropEverything(): void {
    this.generation++;
    this.clearTimer();
    this.queue = [];
    this.headOffset = 0;
    this.state = 'idle';
    this.resolveDrainWaiters();
  }

  /** Sends every frame that is due, then arms the one timer for the next. */
  private pump(): void {
    this.clearTimer();
    if (this.paused) return;
    const generation = this.generation;
    while (this.queue.length > 0) {
      const head = this.queue[0] as QueuedBytes;
      if (head.raw) {
        this.queue.shift();
        this.send(head.bytes);
        if (generation !== this.generation) return;
        continue;
      }
      const now = this.now();
      if (head.ms !== undefined) {
        const wakeAt = this.wholeFrameDueAt(head.ms, now);
        if (wakeAt > now) {
          this.armTimer(wakeAt - now);
          return;
        }
        this.sendWholeFrame(head, now);
        if (generation !== this.generation) return;
        continue;
      }
      const size = Math.min(this.frameBytes, this.contiguousAudioBytes());
      const wakeAt = this.frameDueAt(size, now);
      if (wakeAt > now) {
        this.armTimer(wakeAt - now);
        return;
      }
      this.sendFrame(size, now);
      if (generation !== this.generation) return;
    }
    if (this.state === 'ended') this.finishUtterance();
  }

  /** When a frame of `size` bytes may go out: now or earlier if due. */
  private frameDueAt(size: number, now: number): number {
    const start = this.playoutStart;
    const listenerRunsDryAt = start === undefined ? -Infinity : start + this.sentMs();
    // A short frame (a chunk's remainder, or the end of a sentence whose next one has no audio
    // yet) waits for more audio only while the listener holds more than one whole frame: held
    // until it holds nothing, any delay on the way would be heard as a gap
    // (docs/architecture.md#agent-audio-between-sentences).
    const short = size < this.frameBytes && this.state !== 'ended' && !this.rawFollowsAudio();
    if (short) return listenerRunsDryAt - this.frameBytes / this.bytesPerMs;
    if (start === undefined || this.sentMs() === 0) return now;
    return start + this.sentMs() + size / this.bytesPerMs - this.leadMs - EPSILON_MS;
  }

  /** When a whole frame lasting `ms` may go out: it is never cut, so it waits until all of it fits in the lead. */
  private wholeFrameDueAt(ms: number, now: number): number {
    const start = this.playoutStart;
    if (start === undefined || this.sentMs() === 0) return now;
    return start + this.sentMs() + ms - this.leadMs - EPSILON_MS;
  }

  /** Moves the playout start for a frame going out now; returns when the listener hears it. */
  private startFrame(now: number): number {
    if (this.playoutStart === undefined) {
      this.playoutStart = Math.max(now, this.previousPlayoutEnd);
    } else if (now > this.playoutStart + this.sentMs()) {
      // The listener ran out of audio and heard silence until now: shift the playout start.
      this.playoutStart = now - this.sentMs();
    }
    return this.playoutStart + this.sentMs();
  }

  private sendFrame(size: number, now: number): void {
    const heardAtMs = this.startFrame(now);
    const frame = this.takeAudio(size);
    this.sentBytes += size;
    this.send(frame);
    this.onPlayed?.({ bytes: frame, heardAtMs, durationMs: size / this.bytesPerMs });
  }

  private sendWholeFrame(item: QueuedBytes, now: number): void {
    const heardAtMs = this.startFrame(now);
    this.queue.shift();
    const durationMs = item.ms ?? 0;
    this.sentFrameMs += durationMs;
    this.send(item.bytes);
    this.onPlayed?.(item.pcm === undefined ? { bytes: item.bytes, heardAtMs, durationMs } : { bytes: item.bytes, heardAtMs, durationMs, pcm: item.pcm });
  }

  /** Removes `size` audio bytes from the head of the queue, without copying when one piece holds them. */
  private takeAudio(size: number): Uint8Array {
    const head = this.queue[0] as QueuedBytes;
    if (head.bytes.length - this.headOffset >= size) {
      const frame = head.bytes.subarray(this.headOffset, this.headOffset + size);
      this.advance(size);
      return frame;
    }
    const frame = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const piece = this.queue[0] as QueuedBytes;
      const take = Math.min(size - filled, piece.bytes.length - this.headOffset);
      frame.set(piece.bytes.subarray(this.headOffset, this.headOffset + take), filled);
      filled += take;
      this.advance(take);
    }
    return frame;
  }

  private advance(bytes: number): void {
    this.headOffset += bytes;
    const head = this.queue[0];
    if (head !== undefined && this.headOffset >= head.bytes.length) {
      this.queue.shift();
      this.headOffset = 0;
    }
  }

  /** Audio bytes at the head of the queue before the next raw item (at most one frame's worth). */
  private contiguousAudioBytes(): number {
    let total = -this.headOffset;
    for (const item of this.queue) {
      if (item.raw || item.ms !== undefined || total >= this.frameBytes) break;
      total += item.bytes.length;
    }
    return Math.max(0, total);
  }

  private rawFollowsAudio(): boolean {
    return this.queue.some((item) => item.raw);
  }

  private finishUtterance(): void {
    this.state = 'idle';
    this.resolveDrainWaiters();
  }

  private resolveDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private armTimer(delayMs: number): void {
    this.clearTimer();
    // Not unref'd: pending agent audio must keep the process sending.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.max(1, Math.ceil(delayMs)));
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
