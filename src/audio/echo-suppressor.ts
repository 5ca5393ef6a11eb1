import { performance } from 'node:perf_hooks';
import type { OutputAudioFormat } from '../protocol/agent-config.js';
import { SPEEX_ECHO_SET_SAMPLING_RATE, speexdsp } from './codecs/native.js';
import type { Pointer } from './codecs/native.js';
import { decodeAlaw, decodeMulaw } from './g711.js';
import { pcm16FromBytes } from './pcm16.js';
import type { PlayedFrame } from './playout-clock.js';
import { StreamingResampler } from './resampler.js';

/** The canceller works on 20 ms frames of the listen rate. */
const RATE = 16000;
const FRAME = 320;
const SAMPLES_PER_MS = RATE / 1000;

/**
 * Longest echo path covered, from the moment the playout clock says a sample is heard to its echo
 * arriving in the client's audio: network both ways, the client's playback buffer, the room.
 */
const ECHO_TAIL_MS = 300;

/**
 * Geigel's double-talk rule (as line echo cancellers use it): a frame whose peak stays under half
 * the loudest reference sample of the echo tail (6 dB of echo return loss) is echo, not the user.
 */
const NEAR_END_RATIO = 0.5;
/** Once the user is heard over the agent, frames pass for this long (syllables have gaps). */
const DOUBLE_TALK_HANGOVER_MS = 120;
/** A jump in the client's audio timeline larger than this is a pause in its sending, not jitter. */
const RESYNC_MS = 500;

export interface EchoSuppressorOptions {
  /** The session's playout lead: the reference is written that far ahead of real time. */
  leadMs: number;
  now?: () => number;
}

/**
 * Server-side echo suppression (docs/protocol-decisions.md#echo-suppression): removes the agent's
 * own voice, as the client's microphone picks it up, from the client's audio before VAD and STT.
 *
 * The reference is what the playout clock says the listener hears and when (`played`), kept on a
 * timeline of 16 kHz samples; each 20 ms of client audio is matched to the reference of the moment
 * it was captured (its arrival, steadied against jitter) and goes through speexdsp's echo
 * canceller, which learns an echo path of up to ECHO_TAIL_MS. After it, a frame that Geigel's rule
 * calls echo is muted: that covers the second or two of agent speech the canceller needs to learn.
 *
 * State: speexdsp's canceller (about 100 kB, allocated while the suppressor lives), a reference
 * timeline of about a second (32 kB), one resampler. When the agent has been silent for the whole
 * tail, frames pass untouched and cost nothing.
 */
export class EchoSuppressor {
  private readonly now: () => number;
  private readonly state: Pointer;
  private readonly ring: Int16Array;
  private readonly mask: number;
  private readonly origin: number;
  /** Timeline index after the last reference sample written; reads at or past it are silence. */
  private writeEnd = 0;
  private resampler: StreamingResampler | undefined;
  /** Client audio: samples received so far, and the timeline offset (ms) of its sample 0. */
  private micSamples = 0;
  private micOrigin: number | undefined;
  /** Samples waiting to fill a frame. */
  private readonly pending = new Int16Array(FRAME);
  private pendingCount = 0;
  private readonly reference = new Int16Array(FRAME);
  private readonly out = new Int16Array(FRAME);
  private doubleTalkUntil = -Infinity;
  private closed = false;

  constructor(
    private readonly output: Pick<OutputAudioFormat, 'encoding' | 'sampleRate'>,
    options: EchoSuppressorOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
    this.origin = this.now();
    const span = (options.leadMs + ECHO_TAIL_MS + RESYNC_MS) * SAMPLES_PER_MS;
    let size = 1024;
    while (size < span) size *= 2;
    this.ring = new Int16Array(size);
    this.mask = size - 1;
    const lib = speexdsp();
    this.state = lib.echoInit(FRAME, ECHO_TAIL_MS * SAMPLES_PER_MS);
    lib.echoCtlInt(this.state, SPEEX_ECHO_SET_SAMPLING_RATE, [RATE]);
  }

  /** A frame of agent audio went out (PlayoutClock's onPlayed): it is heard at `heardAtMs`. */
  played(frame: PlayedFrame): void {
    if (this.closed) return;
    const pcm = this.pcmOf(frame);
    if (pcm === undefined || pcm.length === 0) return;
    const rate = this.output.sampleRate;
    let at = Math.round((frame.heardAtMs - this.origin) * SAMPLES_PER_MS);
    // Contiguous with what is already there (the next frame of the same utterance): no seam.
    const contiguous = Math.abs(at - this.writeEnd) <= 2 * SAMPLES_PER_MS;
    if (contiguous) at = this.writeEnd;
    if (this.resampler?.fromRate !== rate) {
      this.resampler?.destroy();
      this.resampler = new StreamingResampler(rate, RATE);
    } else if (!contiguous) {
      this.resampler.reset();
    }
    const samples = this.resampler.process(pcm);
    if (at > this.writeEnd) this.fill(this.writeEnd, Math.min(at, this.writeEnd + this.ring.length), 0);
    for (let i = 0; i < samples.length; i++) this.ring[(at + i) & this.mask] = samples[i] as number;
    this.writeEnd = at + samples.length;
  }

  /** Client audio at 16 kHz in, what the listener should get out (whole frames; the rest waits). */
  process(samples: Int16Array): Int16Array {
    if (this.closed || samples.length === 0) return new Int16Array(0);
    this.timeMic(samples.length);
    const frames = Math.floor((this.pendingCount + samples.length) / FRAME);
    const result = new Int16Array(frames * FRAME);
    let read = 0;
    for (let f = 0; f < frames; f++) {
      const take = FRAME - this.pendingCount;
      this.pending.set(samples.subarray(read, read + take), this.pendingCount);
      read += take;
      this.pendingCount = 0;
      const endSample = this.micSamples - (samples.length - read);
      this.frame(this.pending, this.timelineIndex(endSample), result.subarray(f * FRAME, (f + 1) * FRAME));
    }
    this.pending.set(samples.subarray(read), this.pendingCount);
    this.pendingCount += samples.length - read;
    return result;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    speexdsp().echoDestroy(this.state);
    this.resampler?.destroy();
  }

  /** Keeps the client timeline: capture time of sample n = micOrigin + n / rate, steadied to the earliest arrival. */
  private timeMic(count: number): void {
    this.micSamples += count;
    const arrival = this.now() - this.origin - this.micSamples / SAMPLES_PER_MS;
    if (this.micOrigin === undefined || arrival < this.micOrigin || arrival - this.micOrigin > RESYNC_MS) this.micOrigin = arrival;
  }

  private timelineIndex(micSample: number): number {
    return Math.round(((this.micOrigin ?? 0) + micSample / SAMPLES_PER_MS) * SAMPLES_PER_MS);
  }

  /** One 20 ms frame ending at timeline index `end`. */
  private frame(mic: Int16Array, end: number, out: Int16Array): void {
    const peak = this.referencePeak(end - FRAME - ECHO_TAIL_MS * SAMPLES_PER_MS, end);
    if (peak === 0) {
      // No agent audio within the tail: there is no echo to remove, and the canceller's own
      // reference history is silence already.
      out.set(mic);
      return;
    }
    this.read(end - FRAME, this.reference);
    speexdsp().echoCancel(this.state, mic, this.reference, this.out);
    let near = 0;
    for (const sample of this.out) near = Math.max(near, Math.abs(sample));
    const nowMs = end / SAMPLES_PER_MS;
    if (near > NEAR_END_RATIO * peak) this.doubleTalkUntil = nowMs + DOUBLE_TALK_HANGOVER_MS;
    if (nowMs <= this.doubleTalkUntil) out.set(this.out);
    else out.fill(0);
  }

  /** The loudest reference sample in [from, to). */
  private referencePeak(from: number, to: number): number {
    const start = Math.max(from, this.writeEnd - this.ring.length);
    const end = Math.min(to, this.writeEnd);
    let peak = 0;
    for (let i = start; i < end; i++) {
      const value = this.ring[i & this.mask] as number;
      if (value > peak) peak = value;
      else if (-value > peak) peak = -value;
    }
    return peak;
  }

  private read(from: number, into: Int16Array): void {
    const oldest = this.writeEnd - this.ring.length;
    for (let i = 0; i < into.length; i++) {
      const index = from + i;
      into[i] = index >= this.writeEnd || index < oldest ? 0 : (this.ring[index & this.mask] as number);
    }
  }

  private fill(from: number, to: number, value: number): void {
    for (let i = from; i < to; i++) this.ring[i & this.mask] = value;
  }

  private pcmOf(frame: PlayedFrame): Int16Array | undefined {
    if (frame.pcm !== undefined) return frame.pcm;
    switch (this.output.encoding) {
      case 'linear16':
        return pcm16FromBytes(frame.bytes);
      case 'mulaw':
        return decodeMulaw(frame.bytes);
      case 'alaw':
        return decodeAlaw(frame.bytes);
      default:
        return undefined;
    }
  }
}
