// VAD → turn detector → streaming STT for one session, synchronous; runs inside a worker.
import { acquireDecoder, releaseDecoder, tryAcquireDecoder } from './decoder.js';
import type { PocketsphinxDecoder } from './decoder.js';
import { VAD_SAMPLE_RATE } from '../vad/silero-vad.js';
import type { ListenJobEvent, ListenJobPayload } from './listen-job.js';
import { VadSegmenter } from '../vad/vad-segmenter.js';

/** Audio held per session while every decoder of its thread is busy: past it, a turn is cut short. */
const MAX_BACKLOG_SECONDS = 60;

/** An utterance heard but not yet decoded: its audio so far, and whether the VAD ended it. */
interface Pending {
  audio: Int16Array[];
  ended: boolean;
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

  constructor(
    private readonly payload: ListenJobPayload,
    private readonly emit: (event: ListenJobEvent) => void,
  ) {
    this.interimSamples = Math.max(1, Math.round((payload.interimIntervalMs * VAD_SAMPLE_RATE) / 1000));
    // Load a decoder (and the grammar) now, so that a bad grammar fails the session up front
    // and the first utterance does not wait for the model. When every decoder of the thread is
    // busy, the grammar is checked by the first utterance instead.
    const warm = tryAcquireDecoder(payload.grammar);
    if (warm !== undefined) {
      try {
        warm.useGrammar(payload.grammar);
      } finally {
        releaseDecoder(warm, payload.grammar);
      }
    }
    this.segmenter = new VadSegmenter(payload.turn, {
      start: (preRoll) => this.startUtterance(preRoll),
      audio: (window) => this.hear(window),
      end: () => this.endUtterance(),
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
    if (this.decoder !== undefined) releaseDecoder(this.decoder, this.payload.grammar);
    this.decoder = undefined;
    this.pending.length = 0;
    this.segmenter.close();
  }

  private startUtterance(preRoll: Int16Array): void {
    this.emit({ t: 'speechStarted' });
    this.pending.push({ audio: [], ended: false });
    this.hear(preRoll);
    if (this.pending.length === 1) this.requestDecoder();
  }

  private requestDecoder(): void {
    this.withdraw = acquireDecoder(this.payload.grammar, (decoder) => {
      this.withdraw = undefined;
      if (this.closed) {
        releaseDecoder(decoder, this.payload.grammar);
        return;
      }
      try {
        this.catchUp(decoder);
      } catch (err) {
        // Called from whichever session released the decoder: the failure is this session's.
        this.failure = err instanceof Error ? err : new Error(String(err));
        if (this.decoder === undefined) releaseDecoder(decoder, this.payload.grammar);
      }
    });
  }

  /** Decodes the buffered utterances with `decoder`, keeping it for the one still being heard. */
  private catchUp(decoder: PocketsphinxDecoder): void {
    let first = this.pending[0];
    while (first !== undefined) {
      decoder.useGrammar(this.payload.grammar);
      decoder.start();
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
      this.emit({ t: 'endOfTurn', text: decoder.finish() });
      first = this.pending[0];
    }
    releaseDecoder(decoder, this.payload.grammar);
  }

  /** A window of the utterance being heard: decoded now, or kept until a decoder frees. */
  private hear(window: Int16Array): void {
    const decoder = this.decoder;
    if (decoder !== undefined && this.pending.length === 1) {
      this.decodeLive(decoder, window);
      return;
    }
    const current = this.pending.at(-1);
    if (current === undefined || this.backlogSamples + window.length > MAX_BACKLOG_SECONDS * VAD_SAMPLE_RATE) return;
    // The segmenter reuses its window buffer.
    current.audio.push(window.slice());
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

  private endUtterance(): void {
    const current = this.pending.at(-1);
    if (current === undefined) return;
    current.ended = true;
    const decoder = this.decoder;
    if (decoder === undefined || this.pending.length !== 1) return;
    this.decoder = undefined;
    this.pending.shift();
    const text = decoder.finish();
    releaseDecoder(decoder, this.payload.grammar);
    this.emit({ t: 'endOfTurn', text });
  }
}
