/**
 * Browser playback of agent speech with Web Audio: linear16 frames are scheduled back to back
 * after a small jitter buffer, and `flush()` (call it on UserStartedSpeaking) silences everything
 * queued at once. Typed structurally so this file compiles without the DOM library; pass a real
 * `AudioContext`.
 */

export interface AudioBufferLike {
  readonly duration: number;
  getChannelData(channel: number): Float32Array;
}

export interface AudioBufferSourceLike {
  buffer: AudioBufferLike | null;
  onended: ((event: never) => unknown) | null;
  connect(destination: never): unknown;
  disconnect(): void;
  start(when?: number): void;
  stop(when?: number): void;
}

export interface AudioContextLike {
  readonly currentTime: number;
  readonly destination: unknown;
  createBuffer(channels: number, length: number, sampleRate: number): AudioBufferLike;
  createBufferSource(): AudioBufferSourceLike;
}

export interface PlaybackOptions {
  /** Sample rate of the linear16 agent audio (the Settings `audio.output.sample_rate`). */
  sampleRate: number;
  /** Audio held back before the first frame of a burst plays, to ride out network jitter. Default 120. */
  jitterMs?: number;
  /** Where sources connect; default the context's destination (e.g. pass an analyser). */
  destination?: unknown;
}

export class PlaybackQueue {
  readonly #ctx: AudioContextLike;
  readonly #sampleRate: number;
  readonly #jitterS: number;
  readonly #destination: unknown;
  readonly #active = new Set<AudioBufferSourceLike>();
  #nextStart = 0;
  #carry: number | undefined;
  /** Samples handed to Web Audio. */
  samplesScheduled = 0;
  /** Samples whose source played to its end (flushed ones are not counted). */
  samplesPlayed = 0;
  /** Times `flush()` dropped audio that was still queued. */
  flushes = 0;

  constructor(ctx: AudioContextLike, options: PlaybackOptions) {
    this.#ctx = ctx;
    this.#sampleRate = options.sampleRate;
    this.#jitterS = (options.jitterMs ?? 120) / 1000;
    this.#destination = options.destination ?? ctx.destination;
  }

  /** True while scheduled audio has not finished playing. */
  get playing(): boolean {
    return this.#active.size > 0;
  }

  /** Seconds of audio scheduled beyond the current time. */
  get bufferedSeconds(): number {
    return Math.max(0, this.#nextStart - this.#ctx.currentTime);
  }

  /** Queues one frame of little-endian 16-bit mono PCM. */
  push(frame: Uint8Array): void {
    const samples = this.#decode(frame);
    if (samples.length === 0) return;
    const buffer = this.#ctx.createBuffer(1, samples.length, this.#sampleRate);
    buffer.getChannelData(0).set(samples);
    const source = this.#ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.#destination as never);
    const now = this.#ctx.currentTime;
    // After an underrun (or at the start of a burst) wait for the jitter buffer to fill again.
    if (this.#nextStart < now) this.#nextStart = now + this.#jitterS;
    source.start(this.#nextStart);
    this.#nextStart += buffer.duration;
    this.#active.add(source);
    this.samplesScheduled += samples.length;
    source.onended = () => {
      if (!this.#active.delete(source)) return;
      this.samplesPlayed += samples.length;
      source.disconnect();
    };
  }

  /** Drops everything queued or playing (barge-in). */
  flush(): void {
    if (this.#active.size > 0) this.flushes += 1;
    const sources = [...this.#active];
    this.#active.clear();
    for (const source of sources) {
      source.onended = null;
      source.stop();
      source.disconnect();
    }
    this.#nextStart = 0;
    this.#carry = undefined;
  }

  #decode(frame: Uint8Array): Float32Array {
    // Frames may split a sample in two; keep the odd byte for the next frame.
    let bytes = frame;
    if (this.#carry !== undefined) {
      bytes = new Uint8Array(frame.byteLength + 1);
      bytes[0] = this.#carry;
      bytes.set(frame, 1);
      this.#carry = undefined;
    }
    const count = bytes.byteLength >> 1;
    if (bytes.byteLength % 2 === 1) this.#carry = bytes[bytes.byteLength - 1];
    const view = new DataView(bytes.buffer, bytes.byteOffset, count * 2);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true) / 32768;
    return out;
  }
}
