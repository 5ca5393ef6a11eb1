// VAD → turn detector → streaming STT for one session, synchronous; runs inside a worker.
import { acquireDecoder, releaseDecoder } from './decoder.js';
import type { PocketsphinxDecoder } from './decoder.js';
import { VAD_SAMPLE_RATE } from '../vad/silero-vad.js';
import type { ListenJobEvent, ListenJobPayload } from './listen-job.js';
import { VadSegmenter } from '../vad/vad-segmenter.js';

export class TurnPipeline {
  private readonly segmenter: VadSegmenter;
  private decoder: PocketsphinxDecoder | undefined;
  private samplesSinceInterim = 0;
  private lastInterim = '';
  private readonly interimSamples: number;

  constructor(
    private readonly payload: ListenJobPayload,
    private readonly emit: (event: ListenJobEvent) => void,
  ) {
    this.interimSamples = Math.max(1, Math.round((payload.interimIntervalMs * VAD_SAMPLE_RATE) / 1000));
    // Load a decoder (and the grammar) now, so that a bad grammar fails the session up front
    // and the first utterance does not wait for the model.
    const warm = acquireDecoder();
    try {
      warm.useGrammar(payload.grammar);
    } finally {
      releaseDecoder(warm);
    }
    this.segmenter = new VadSegmenter(payload.turn, {
      start: (preRoll) => this.startUtterance(preRoll),
      audio: (window) => this.continueUtterance(window),
      end: () => this.endUtterance(),
    });
  }

  write(samples: Int16Array): void {
    this.segmenter.write(samples);
  }

  /** Finalizes the current utterance now; false when the user was not speaking. */
  forceEndTurn(): boolean {
    return this.segmenter.forceEnd();
  }

  close(): void {
    if (this.decoder !== undefined) releaseDecoder(this.decoder);
    this.decoder = undefined;
    this.segmenter.close();
  }

  private startUtterance(preRoll: Int16Array): void {
    this.emit({ t: 'speechStarted' });
    const decoder = acquireDecoder();
    this.decoder = decoder;
    this.samplesSinceInterim = 0;
    this.lastInterim = '';
    decoder.useGrammar(this.payload.grammar);
    decoder.start();
    decoder.process(preRoll);
  }

  private continueUtterance(window: Int16Array): void {
    const decoder = this.decoder;
    if (decoder === undefined) return;
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
    const decoder = this.decoder;
    if (decoder === undefined) return;
    this.decoder = undefined;
    const text = decoder.finish();
    releaseDecoder(decoder);
    this.emit({ t: 'endOfTurn', text });
  }
}
