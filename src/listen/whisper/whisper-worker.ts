// Worker module: Silero VAD turn detection per session (VadSegmenter), then whisper.cpp on each
// finished turn.
import { performance } from 'node:perf_hooks';
import { registerJobHandler } from '../../workers/worker-runtime.js';
import { VadSegmenter } from '../vad/vad-segmenter.js';
import { VAD_SAMPLE_RATE } from '../vad/silero-vad.js';
import { loadWhisper, transcribe, unloadWhisper } from './whisper-transcribe.js';
import { WHISPER_JOBS } from './whisper-protocol.js';
import type { WhisperListenEvent, WhisperListenInput, WhisperListenPayload, WhisperTranscribePayload } from './whisper-protocol.js';

/** The utterance's PCM16 windows as the float samples whisper.cpp takes. */
function toFloats(parts: readonly Int16Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) out[at + i] = (part[i] ?? 0) / 32768;
    at += part.length;
  }
  return out;
}

registerJobHandler<WhisperListenPayload, WhisperListenInput, WhisperListenEvent>(WHISPER_JOBS.listen, async (payload, job) => {
  await loadWhisper(payload.model.modelPath);
  // Turns are transcribed one after another, so their endOfTurn events keep their order.
  let transcribing: Promise<void> = Promise.resolve();
  let utterance: Int16Array[] = [];
  const turns = new VadSegmenter(payload.turn, {
    start: (preRoll) => {
      utterance = [preRoll];
      job.emit({ t: 'speechStarted' });
    },
    // The segmenter reuses its window buffer: keep a copy.
    audio: (window) => utterance.push(window.slice()),
    end: (speechEndSample) => {
      const pcm = toFloats(utterance);
      utterance = [];
      transcribing = transcribing.then(async () => {
        const started = performance.now();
        const text = job.signal.aborted ? '' : await transcribe(pcm, payload.model);
        job.emit({ t: 'endOfTurn', text, speechEndSample, audioMs: (pcm.length / VAD_SAMPLE_RATE) * 1000, finalizeMs: performance.now() - started });
      });
    },
  });
  try {
    job.emit({ t: 'ready' });
    for await (const input of job.input) {
      if (job.signal.aborted) break;
      if (input instanceof Int16Array) turns.write(input);
      else turns.forceEnd();
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
