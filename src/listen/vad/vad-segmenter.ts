// Silero VAD windows → utterances, for one listening session; runs inside an engine worker and is
// shared by every recognizer (streaming pocketsphinx, whisper on whole turns).
import { VAD_SAMPLE_RATE, VAD_WINDOW_SAMPLES } from './silero-vad.js';
import type { SherpaVad } from './silero-vad.js';
import type { TurnSettings } from '../pocketsphinx/listen-job.js';
import { acquireVad, releaseVad } from './vad-cache.js';

/**
 * Audio kept from before the first window Silero heard as speech, so that the recognizer hears
 * the first word whole. It is counted from that window, not from the onset decision, so that
 * min_speech_ms (how long a sound must last to be speech) does not move where an utterance starts.
 * 276 ms is where utterances began when min_speech_ms was 200, as the recognizer's figures were
 * measured. No other length did better on real speech (docs/turn-taking.md): the length only
 * moves pocketsphinx's 10 ms frames against the speech, which flips a few fragile segments
 * either way.
 */
const PRE_SPEECH_MS = 276;

/**
 * The pre-gate: while nobody speaks, Silero runs only on windows louder than this (dBFS of the
 * 32 ms window), so a quiet line costs a sum of squares per window instead of a network pass
 * (about 0.2 ms). Written by hand: it is one comparison, and the Debian archive has no WebRTC VAD
 * library (libfvad) to call instead. It never decides that anyone speaks; Silero does, woken by the
 * first louder window after hearing the second before it again, so it judges every onset with the
 * context it would have had awake (test/listen/vad/pre-gate.test.ts: the same utterances on every
 * speech fixture, gated or not, as recorded, over a noise floor and as 8 kHz mu-law).
 */
const GATE_DBFS = -55;
const GATE_SUM_OF_SQUARES = VAD_WINDOW_SAMPLES * (32768 * 10 ** (GATE_DBFS / 20)) ** 2;
/** Quiet windows (about half a second) after which Silero, hearing no speech, sleeps again. */
const SLEEP_AFTER_WINDOWS = 16;
/**
 * Windows (about a second) kept for Silero to hear when it wakes: those it slept through, so that
 * it decides exactly as it would have awake, or after a longer sleep, afresh on the last second
 * (half a second was not enough to decide as awake on the fixtures).
 */
const CONTEXT_WINDOWS = 32;

/**
 * Windows from the first one Silero hears as speech to its onset decision, both included: the
 * sherpa-onnx Vad decides once min_speech_ms more samples have passed, every window above the
 * threshold. (A pre-roll of min_speech_ms plus padding, rounded to windows, began 276 ms before
 * the speech at 200 ms and 300 ms at 160: a different first frame for the recognizer.)
 */
function onsetWindows(minSpeechMs: number): number {
  return Math.ceil((minSpeechMs * VAD_SAMPLE_RATE) / 1000 / VAD_WINDOW_SAMPLES) + 1;
}

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
  /** Whether Silero runs (see GATE_DBFS), and for how many windows the line has been quiet. */
  private awake = false;
  private quietWindows = 0;
  /** The last CONTEXT_WINDOWS windows, for Silero to hear again when it wakes. */
  private readonly context = new Int16Array(CONTEXT_WINDOWS * VAD_WINDOW_SAMPLES);
  private contextWindows = 0;
  /** The first window (counted as contextWindows) Silero did not hear. */
  private asleepSince = 0;

  constructor(
    turn: TurnSettings,
    private readonly events: UtteranceEvents,
    /** Silero on every window, as before the pre-gate: for the test that compares the two. */
    private readonly ungated = false,
  ) {
    const options = { threshold: turn.vadThreshold, minSpeechMs: turn.minSpeechMs, minSilenceMs: turn.endpointingMs, maxSpeechMs: turn.maxSpeechMs };
    this.vadKey = JSON.stringify(options);
    this.endpointingSamples = Math.round((turn.endpointingMs * VAD_SAMPLE_RATE) / 1000);
    this.vad = acquireVad(this.vadKey, options);
    this.preRoll = new Int16Array(onsetWindows(turn.minSpeechMs) * VAD_WINDOW_SAMPLES + Math.round((PRE_SPEECH_MS * VAD_SAMPLE_RATE) / 1000));
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

  /** Whether anyone may be speaking: Silero runs on the window, woken first if it slept. */
  private gate(window: Int16Array): boolean {
    if (this.ungated) return true;
    let sum = 0;
    for (let i = 0; i < window.length; i++) sum += (window[i] ?? 0) ** 2;
    this.quietWindows = sum > GATE_SUM_OF_SQUARES ? 0 : this.quietWindows + 1;
    if (!this.awake) {
      if (this.quietWindows > 0) return false;
      this.wake();
      return true;
    }
    if (!this.inSpeech && this.quietWindows >= SLEEP_AFTER_WINDOWS) {
      this.awake = false;
      this.asleepSince = this.contextWindows;
    }
    return this.awake;
  }

  /**
   * Silero hears the windows it slept through, as it would have awake; after a sleep longer than
   * the context, it starts afresh on the last second of them. No window costs it more than once.
   */
  private wake(): void {
    this.awake = true;
    let from = this.asleepSince;
    if (this.contextWindows - from > CONTEXT_WINDOWS) {
      this.vad.reset();
      from = this.contextWindows - CONTEXT_WINDOWS;
    }
    for (let k = from; k < this.contextWindows; k++) {
      const at = (k % CONTEXT_WINDOWS) * VAD_WINDOW_SAMPLES;
      this.judge(this.context.subarray(at, at + VAD_WINDOW_SAMPLES));
    }
  }

  /** Silero's verdict with this window: speech ongoing. */
  private judge(window: Int16Array): boolean {
    for (let i = 0; i < window.length; i++) this.floats[i] = (window[i] ?? 0) / 32768;
    this.vad.acceptWaveform(this.floats);
    const detected = this.vad.isDetected();
    // Segments are not used (the audio is passed on as it comes); drop them to free their audio.
    while (!this.vad.isEmpty()) this.vad.pop();
    return detected;
  }

  private processWindow(window: Int16Array): void {
    this.windowed += window.length;
    const open = this.gate(window);
    if (!this.ungated) {
      this.context.set(window, (this.contextWindows % CONTEXT_WINDOWS) * VAD_WINDOW_SAMPLES);
      this.contextWindows++;
    }
    if (!open) {
      this.rememberPreRoll(window);
      return;
    }
    const detected = this.judge(window);
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
