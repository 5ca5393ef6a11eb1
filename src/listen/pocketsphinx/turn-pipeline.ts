// VAD → turn detector → streaming STT for one session, synchronous; runs inside a worker.
import { acquireDecoder, releaseDecoder, tryAcquireDecoder } from './decoder.js';
import type { PocketsphinxDecoder } from './decoder.js';
import { VAD_SAMPLE_RATE } from '../vad/silero-vad.js';
import type { ListenJobEvent, ListenJobPayload } from './listen-job.js';
import { VadSegmenter } from '../vad/vad-segmenter.js';

/** Audio held per session while every decoder of its thread is busy: past it, a turn is cut short. */
const MAX_BACKLOG_SECONDS = 60;

/**
 * An utterance heard but not yet decoded: its audio not yet decoded, all of it when a grammar
 * decodes it again at its end (bounded by max_speech_ms), and whether the VAD ended it.
 */
interface Pending {
  audio: Int16Array[];
  whole: Int16Array[];
  ended: boolean;
  /** Where its speech ended, in samples of the stream, once it has. */
  speechEndSample: number;
}

export class TurnPipeline {
  private readonly segmenter: VadSegmenter;
  /** Decodes `pending[0]` live once it has caught up with its buffered audio. */
  private decoder: PocketsphinxDecoder | undefined;
  /** Utterances waiting for a decoder or being decoded, oldest first; the last one may still be heard. */
  private readonly pending: Pending[] = [];
  private backlogSamples = 0;
  private withdraw: (() => void) | undefined;
  private closed = false;
  /** A decoder handed over by another session's release failed on this one's utterance (its grammar). */
  private failure: Error | undefined;
  private samplesSinceInterim = 0;
  private lastInterim = '';
  private readonly interimSamples: number;
  /** This session's cepstral mean, from its last utterance: no other session's audio moves it. */
  private mean: Float32Array | undefined;

  constructor(
    private readonly payload: ListenJobPayload,
    private readonly emit: (event: ListenJobEvent) => void,
  ) {
    this.interimSamples = Math.max(1, Math.round((payload.interimIntervalMs * VAD_SAMPLE_RATE) / 1000));
    // Load a decoder (and the grammar) now, so that a bad grammar fails the session up front
    // and the first utterance does not wait for the model. When every decoder of the thread is
    // busy, the grammar is checked by the first utterance instead.
    const warm = payload.grammar === undefined ? undefined : tryAcquireDecoder();
    if (warm !== undefined && payload.grammar !== undefined) {
      try {
        warm.addGrammar(payload.grammar);
      } finally {
        releaseDecoder(warm);
      }
    }
    this.segmenter = new VadSegmenter(payload.turn, {
      start: (preRoll) => this.startUtterance(preRoll),
      audio: (window) => this.hear(window),
      end: (speechEndSample) => this.endUtterance(speechEndSample),
    });
  }

  write(samples: Int16Array): void {
    if (this.failure !== undefined) throw this.failure;
    this.segmenter.write(samples);
  }

  /** Finalizes the current utterance now; false when the user was not speaking. */
  forceEndTurn(): boolean {
    return this.segmenter.forceEnd();
  }

  close(): void {
    this.closed = true;
    this.withdraw?.();
    this.withdraw = undefined;
    if (this.decoder !== undefined) releaseDecoder(this.decoder);
    this.decoder = undefined;
    this.pending.length = 0;
    this.segmenter.close();
  }

  private startUtterance(preRoll: Int16Array): void {
    this.emit({ t: 'speechStarted' });
    this.pending.push({ audio: [], whole: [], ended: false, speechEndSample: 0 });
    this.hear(preRoll);
    if (this.pending.length === 1) this.requestDecoder();
  }

  private requestDecoder(): void {
    this.withdraw = acquireDecoder((decoder) => {
      this.withdraw = undefined;
      if (this.closed) {
        releaseDecoder(decoder);
        return;
      }
      try {
        this.catchUp(decoder);
      } catch (err) {
        // Called from whichever session released the decoder: the failure is this session's.
        this.failure = err instanceof Error ? err : new Error(String(err));
        if (this.decoder === undefined) releaseDecoder(decoder);
      }
    });
  }

  /** Decodes the buffered utterances with `decoder`, keeping it for the one still being heard. */
  private catchUp(decoder: PocketsphinxDecoder): void {
    let first = this.pending[0];
    while (first !== undefined) {
      decoder.start(this.mean ?? decoder.initialMean, this.payload.grammar);
      this.samplesSinceInterim = 0;
      this.lastInterim = '';
      for (const chunk of first.audio.splice(0)) {
        this.backlogSamples -= chunk.length;
        decoder.process(chunk);
      }
      if (!first.ended) {
        this.decoder = decoder;
        return;
      }
      this.pending.shift();
      this.emit(this.finish(decoder, first));
      first = this.pending[0];
    }
    releaseDecoder(decoder);
  }

  /** A window of the utterance being heard: decoded now, or kept until a decoder frees. */
  private hear(window: Int16Array): void {
    const current = this.pending.at(-1);
    if (current === undefined) return;
    const decoder = this.decoder;
    const live = decoder !== undefined && this.pending.length === 1;
    if (!live && this.backlogSamples + window.length > MAX_BACKLOG_SECONDS * VAD_SAMPLE_RATE) return;
    // The segmenter reuses its window buffer.
    const copy = window.slice();
    if (this.payload.grammar !== undefined || this.mean === undefined) current.whole.push(copy);
    if (live) {
      this.decodeLive(decoder, window);
      return;
    }
    current.audio.push(copy);
    this.backlogSamples += window.length;
  }

  private decodeLive(decoder: PocketsphinxDecoder, window: Int16Array): void {
    decoder.process(window);
    this.samplesSinceInterim += window.length;
    if (this.samplesSinceInterim < this.interimSamples) return;
    this.samplesSinceInterim = 0;
    const text = decoder.partial();
    if (text !== '' && text !== this.lastInterim) {
      this.lastInterim = text;
      this.emit({ t: 'interim', text });
    }
  }

  private endUtterance(speechEndSample: number): void {
    const current = this.pending.at(-1);
    if (current === undefined) return;
    current.ended = true;
    current.speechEndSample = speechEndSample;
    const decoder = this.decoder;
    if (decoder === undefined || this.pending.length !== 1) return;
    this.decoder = undefined;
    this.pending.shift();
    const turn = this.finish(decoder, current);
    releaseDecoder(decoder);
    this.emit(turn);
  }

  /**
   * Ends an utterance decoded live (on the session's grammar, or the open LM). The session's
   * first utterance had no cepstral mean of its own to start from (the model's default made
   * 16 kHz WER ~54 % instead of ~40 %), so it is decoded again whole with its own. A grammar's
   * reading goes out with the utterance's audio and how it was normalized, to be checked on
   * another thread (check-decode.ts) before it is reported.
   */
  private finish(decoder: PocketsphinxDecoder, utterance: Pending): ListenJobEvent & { t: 'endOfTurn' } {
    const live = decoder.finish();
    const grammar = this.payload.grammar;
    const pieces = utterance.whole.map((chunk) => chunk.length);
    const whole = new Int16Array(pieces.reduce((n, length) => n + length, 0));
    let offset = 0;
    for (const chunk of utterance.whole.splice(0)) {
      whole.set(chunk, offset);
      offset += chunk.length;
    }
    const before = this.mean;
    const text = before === undefined ? decoder.decodeWhole(grammar, whole) : live;
    this.mean = decoder.mean();
    if (grammar === undefined) return { t: 'endOfTurn', text, speechEndSample: utterance.speechEndSample };
    return { t: 'endOfTurn', text, speechEndSample: utterance.speechEndSample, check: { text, grammar, audio: whole, ...(before === undefined ? {} : { mean: before, pieces }) } };
  }
}
