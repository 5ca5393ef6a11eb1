// Worker module: Silero VAD turn detection per session, then whisper.cpp on each finished turn.
import { performance } from 'node:perf_hooks';
import { registerJobHandler } from '../worker-runtime.js';
import { acquireVad, releaseVad } from '../listen/vad-cache.js';
import { VAD_SAMPLE_RATE, VAD_WINDOW_SAMPLES } from '../vad/silero-vad.js';
import { loadWhisper, transcribe, unloadWhisper } from './whisper-transcribe.js';
import { WHISPER_JOBS } from './whisper-protocol.js';
import type { WhisperListenEvent, WhisperListenInput, WhisperListenPayload, WhisperTranscribePayload } from './whisper-protocol.js';

/** Audio kept from before the VAD's onset decision, so whisper hears the first word whole. */
const PRE_ROLL_PADDING_MS = 300;

class WhisperTurns {
  private readonly vadKey: string;
  private readonly vad;
  private readonly window = new Float32Array(VAD_WINDOW_SAMPLES);
  private readonly pending = new Int16Array(VAD_WINDOW_SAMPLES);
  private pendingLength = 0;
  private readonly preRoll: Float32Array[] = [];
  private readonly preRollWindows: number;
  private utterance: Float32Array[] | undefined;

  constructor(
    private readonly payload: WhisperListenPayload,
    private readonly emit: (event: WhisperListenEvent) => void,
    private readonly finished: (audio: Float32Array[]) => void,
  ) {
    const { turn } = payload;
    const options = { threshold: turn.vadThreshold, minSpeechMs: turn.minSpeechMs, minSilenceMs: turn.endpointingMs, maxSpeechMs: turn.maxSpeechMs };
    this.vadKey = JSON.stringify(options);
    this.vad = acquireVad(this.vadKey, options);
    const windowMs = (VAD_WINDOW_SAMPLES / VAD_SAMPLE_RATE) * 1000;
    this.preRollWindows = Math.ceil((turn.minSpeechMs + PRE_ROLL_PADDING_MS) / windowMs);
  }

  write(samples: Int16Array): void {
    let offset = 0;
    while (offset < samples.length) {
      const take = Math.min(VAD_WINDOW_SAMPLES - this.pendingLength, samples.length - offset);
      this.pending.set(samples.subarray(offset, offset + take), this.pendingLength);
      this.pendingLength += take;
      offset += take;
      if (this.pendingLength === VAD_WINDOW_SAMPLES) {
        this.pendingLength = 0;
        this.processWindow();
      }
    }
  }

  forceEndTurn(): boolean {
    if (this.utterance === undefined) return false;
    this.end();
    this.vad.reset();
    return true;
  }

  close(): void {
    releaseVad(this.vadKey, this.vad);
  }

  private processWindow(): void {
    for (let i = 0; i < VAD_WINDOW_SAMPLES; i++) this.window[i] = (this.pending[i] ?? 0) / 32768;
    this.vad.acceptWaveform(this.window);
    const detected = this.vad.isDetected();
    while (!this.vad.isEmpty()) this.vad.pop();
    const copy = this.window.slice();
    if (this.utterance === undefined) {
      this.preRoll.push(copy);
      if (this.preRoll.length > this.preRollWindows) this.preRoll.shift();
      if (detected) {
        this.utterance = this.preRoll.splice(0);
        this.emit({ t: 'speechStarted' });
      }
      return;
    }
    this.utterance.push(copy);
    if (!detected) this.end();
  }

  private end(): void {
    const audio = this.utterance;
    this.utterance = undefined;
    if (audio !== undefined) this.finished(audio);
  }
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

registerJobHandler<WhisperListenPayload, WhisperListenInput, WhisperListenEvent>(WHISPER_JOBS.listen, async (payload, job) => {
  await loadWhisper(payload.model.modelPath);
  // Turns are transcribed one after another, so their endOfTurn events keep their order.
  let transcribing: Promise<void> = Promise.resolve();
  const turns = new WhisperTurns(payload, (e) => job.emit(e), (audio) => {
    const pcm = concat(audio);
    transcribing = transcribing.then(async () => {
      const started = performance.now();
      const text = job.signal.aborted ? '' : await transcribe(pcm, payload.model);
      job.emit({ t: 'endOfTurn', text, audioMs: (pcm.length / VAD_SAMPLE_RATE) * 1000, finalizeMs: performance.now() - started });
    });
  });
  try {
    job.emit({ t: 'ready' });
    for await (const input of job.input) {
      if (job.signal.aborted) break;
      if (input instanceof Int16Array) turns.write(input);
      else turns.forceEndTurn();
    }
    await transcribing;
  } finally {
    turns.close();
  }
});

registerJobHandler<WhisperTranscribePayload, never, string>(WHISPER_JOBS.transcribe, async ({ model, pcm }, job) => {
  job.emit(await transcribe(pcm, model));
});

registerJobHandler(WHISPER_JOBS.unload, () => unloadWhisper());
