// VAD → turn detector → streaming STT for one session, synchronous; runs inside a worker.
import { acquireDecoder, releaseDecoder } from '../pocketsphinx/decoder.js';
import type { PocketsphinxDecoder } from '../pocketsphinx/decoder.js';
import { VAD_SAMPLE_RATE, VAD_WINDOW_SAMPLES } from '../vad/silero-vad.js';
import { acquireVad, releaseVad } from './vad-cache.js';
import type { SherpaVad } from '../vad/silero-vad.js';
import type { ListenJobEvent, ListenJobPayload } from './listen-job.js';

/** Audio kept before the VAD's onset decision, so that the STT hears the word's beginning. */
const PRE_ROLL_PADDING_MS = 300;

export class TurnPipeline {
  private readonly vad: SherpaVad;
  private readonly vadKey: string;
  private readonly window = new Float32Array(VAD_WINDOW_SAMPLES);
  private readonly pending = new Int16Array(VAD_WINDOW_SAMPLES);
  private pendingLength = 0;
  /** Ring of the most recent audio, read at onset. */
  private readonly preRoll: Int16Array;
  private preRollEnd = 0;
  private preRollFilled = 0;
  private decoder: PocketsphinxDecoder | undefined;
  private samplesSinceInterim = 0;
  private lastInterim = '';
  private readonly interimSamples: number;

  constructor(
    private readonly payload: ListenJobPayload,
    private readonly emit: (event: ListenJobEvent) => void,
  ) {
    const { turn } = payload;
    const vadOptions = {
      threshold: turn.vadThreshold,
      minSpeechMs: turn.minSpeechMs,
      minSilenceMs: turn.endpointingMs,
      maxSpeechMs: turn.maxSpeechMs,
    };
    this.vadKey = JSON.stringify(vadOptions);
    this.vad = acquireVad(this.vadKey, vadOptions);
    this.preRoll = new Int16Array(Math.ceil(((turn.minSpeechMs + PRE_ROLL_PADDING_MS) * VAD_SAMPLE_RATE) / 1000) + VAD_WINDOW_SAMPLES);
    this.interimSamples = Math.max(1, Math.round((payload.interimIntervalMs * VAD_SAMPLE_RATE) / 1000));
    // Load a decoder (and the grammar) now, so that a bad grammar fails the session up front
    // and the first utterance does not wait for the model.
    const warm = acquireDecoder();
    try {
      warm.useGrammar(payload.grammar);
    } finally {
      releaseDecoder(warm);
    }
  }

  get speaking(): boolean {
    return this.decoder !== undefined;
  }

  write(samples: Int16Array): void {
    let offset = 0;
    while (offset < samples.length) {
      const take = Math.min(VAD_WINDOW_SAMPLES - this.pendingLength, samples.length - offset);
      this.pending.set(samples.subarray(offset, offset + take), this.pendingLength);
      this.pendingLength += take;
      offset += take;
      if (this.pendingLength === VAD_WINDOW_SAMPLES) {
        this.processWindow(this.pending);
        this.pendingLength = 0;
      }
    }
  }

  /** Finalizes the current utterance now; false when the user was not speaking. */
  forceEndTurn(): boolean {
    if (this.decoder === undefined) return false;
    this.endUtterance();
    this.vad.reset();
    return true;
  }

  close(): void {
    if (this.decoder !== undefined) releaseDecoder(this.decoder);
    this.decoder = undefined;
    releaseVad(this.vadKey, this.vad);
  }

  private processWindow(window: Int16Array): void {
    for (let i = 0; i < window.length; i++) this.window[i] = (window[i] ?? 0) / 32768;
    this.vad.acceptWaveform(this.window);
    const detected = this.vad.isDetected();
    // Segments are not used (the STT streams instead); drop them to free their audio.
    while (!this.vad.isEmpty()) this.vad.pop();
    this.rememberPreRoll(window);
    if (this.decoder === undefined) {
      if (detected) this.startUtterance();
      return;
    }
    this.decoder.process(window);
    if (!detected) {
      this.endUtterance();
      return;
    }
    this.samplesSinceInterim += window.length;
    if (this.samplesSinceInterim >= this.interimSamples) {
      this.samplesSinceInterim = 0;
      const text = this.decoder.partial();
      if (text !== '' && text !== this.lastInterim) {
        this.lastInterim = text;
        this.emit({ t: 'interim', text });
      }
    }
  }

  private startUtterance(): void {
    this.emit({ t: 'speechStarted' });
    const decoder = acquireDecoder();
    this.decoder = decoder;
    this.samplesSinceInterim = 0;
    this.lastInterim = '';
    decoder.useGrammar(this.payload.grammar);
    decoder.start();
    decoder.process(this.preRollAudio());
  }

  private endUtterance(): void {
    const decoder = this.decoder;
    if (decoder === undefined) return;
    this.decoder = undefined;
    const text = decoder.finish();
    releaseDecoder(decoder);
    this.emit({ t: 'endOfTurn', text });
  }

  private rememberPreRoll(window: Int16Array): void {
    for (const sample of window) {
      this.preRoll[this.preRollEnd] = sample;
      this.preRollEnd = (this.preRollEnd + 1) % this.preRoll.length;
    }
    this.preRollFilled = Math.min(this.preRoll.length, this.preRollFilled + window.length);
  }

  /** The remembered audio (ending with the current window), oldest first. */
  private preRollAudio(): Int16Array {
    const out = new Int16Array(this.preRollFilled);
    const start = (this.preRollEnd - this.preRollFilled + this.preRoll.length) % this.preRoll.length;
    for (let i = 0; i < this.preRollFilled; i++) out[i] = this.preRoll[(start + i) % this.preRoll.length] ?? 0;
    return out;
  }
}
