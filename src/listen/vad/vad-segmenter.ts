// Silero VAD windows → utterances, for one listening session; runs inside an engine worker and is
// shared by every recognizer (streaming pocketsphinx, whisper on whole turns).
import { VAD_SAMPLE_RATE, VAD_WINDOW_SAMPLES } from './silero-vad.js';
import type { SherpaVad } from './silero-vad.js';
import type { TurnSettings } from '../pocketsphinx/listen-job.js';
import { acquireVad, releaseVad } from './vad-cache.js';

/** Audio kept before the VAD's onset decision, so that the recognizer hears the first word whole. */
const PRE_ROLL_PADDING_MS = 300;

export interface UtteranceEvents {
  /** Speech began; `preRoll` is the audio just before the onset, ending with its window. */
  start(preRoll: Int16Array): void;
  /** One more window of the utterance. */
  audio(window: Int16Array): void;
  /**
   * The utterance ended (endpointing silence, max length, or forced); its speech ended at sample
   * `speechEndSample` of the stream (0: the first written), before the endpointing silence.
   */
  end(speechEndSample: number): void;
}

export class VadSegmenter {
  private readonly vad: SherpaVad;
  private readonly vadKey: string;
  private readonly floats = new Float32Array(VAD_WINDOW_SAMPLES);
  private readonly pending = new Int16Array(VAD_WINDOW_SAMPLES);
  private pendingLength = 0;
  /** Ring of the most recent audio, read at onset. */
  private readonly preRoll: Int16Array;
  private preRollEnd = 0;
  private preRollFilled = 0;
  private inSpeech = false;
  /** Samples cut into windows so far, and where the current utterance's onset window began. */
  private windowed = 0;
  private onsetSample = 0;
  private readonly endpointingSamples: number;

  constructor(
    turn: TurnSettings,
    private readonly events: UtteranceEvents,
  ) {
    const options = { threshold: turn.vadThreshold, minSpeechMs: turn.minSpeechMs, minSilenceMs: turn.endpointingMs, maxSpeechMs: turn.maxSpeechMs };
    this.vadKey = JSON.stringify(options);
    this.endpointingSamples = Math.round((turn.endpointingMs * VAD_SAMPLE_RATE) / 1000);
    this.vad = acquireVad(this.vadKey, options);
    this.preRoll = new Int16Array(Math.ceil(((turn.minSpeechMs + PRE_ROLL_PADDING_MS) * VAD_SAMPLE_RATE) / 1000) + VAD_WINDOW_SAMPLES);
  }

  /** PCM16 mono 16 kHz of any length: cut into VAD windows. */
  write(samples: Int16Array): void {
    let offset = 0;
    while (offset < samples.length) {
      const take = Math.min(VAD_WINDOW_SAMPLES - this.pendingLength, samples.length - offset);
      this.pending.set(samples.subarray(offset, offset + take), this.pendingLength);
      this.pendingLength += take;
      offset += take;
      if (this.pendingLength === VAD_WINDOW_SAMPLES) {
        this.pendingLength = 0;
        this.processWindow(this.pending);
      }
    }
  }

  /** Ends the current utterance now; false when the user was not speaking. */
  forceEnd(): boolean {
    if (!this.inSpeech) return false;
    this.inSpeech = false;
    this.vad.reset();
    this.events.end(this.windowed + this.pendingLength);
    return true;
  }

  close(): void {
    releaseVad(this.vadKey, this.vad);
  }

  private processWindow(window: Int16Array): void {
    this.windowed += window.length;
    for (let i = 0; i < window.length; i++) this.floats[i] = (window[i] ?? 0) / 32768;
    this.vad.acceptWaveform(this.floats);
    const detected = this.vad.isDetected();
    // Segments are not used (the audio is passed on as it comes); drop them to free their audio.
    while (!this.vad.isEmpty()) this.vad.pop();
    this.rememberPreRoll(window);
    if (!this.inSpeech) {
      if (detected) {
        this.inSpeech = true;
        this.onsetSample = this.windowed - window.length;
        this.events.start(this.preRollAudio());
      }
      return;
    }
    this.events.audio(window);
    if (!detected) {
      this.inSpeech = false;
      // Silero lets go once the endpointing silence has passed: the speech ended that long ago.
      this.events.end(Math.max(this.onsetSample, this.windowed - this.endpointingSamples));
    }
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
