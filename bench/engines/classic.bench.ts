// Classic local engines: load time, real-time factor, STT finalization delay, TTS time to first
// audio, per-window VAD cost, and WER on the test clips.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { measure, printTable, summarize } from '../harness.js';
import type { Row, Stats } from '../harness.js';
import { PocketsphinxDecoder } from '../../src/listen/pocketsphinx/decoder.js';
import { createSileroVad, VAD_WINDOW_SAMPLES } from '../../src/listen/vad/silero-vad.js';
import { synthesizeWithFlite } from '../../src/speak/flite/flite-synth.js';
import { createFliteSpeak } from '../../src/speak/flite/flite-speak.js';
import { closeClassicPools } from '../../src/runtime/classic-pools.js';
import { silentLogger } from '../../src/core/logger.js';
import { CARDS_GRAMMAR, JFK_TRANSCRIPT, cardsClips, fixturePath, librivoxClips, readPcm16 } from '../../test/support/fixtures.js';
import type { Clip } from '../../test/support/fixtures.js';
import { wordErrors } from '../../test/support/wer.js';
import { measureRulesRecognition } from './rules-recognition.js';

const SENTENCE = 'Your appointment with doctor Smith is confirmed for Tuesday morning at ten thirty downtown.';
const FRAME = 320;

const row = (name: string, unit: string, stats: Stats): Row => ({
  measure: name,
  unit,
  median: stats.median,
  p95: stats.p95,
  runs: stats.runs,
});

interface Decoded {
  rtf: number;
  finalizeMs: number;
  errors: number;
  words: number;
}

/** Streams a clip through a decoder in 20 ms frames, as the listen worker does. */
function decode(decoder: PocketsphinxDecoder, clip: Clip): Decoded {
  const { samples } = readPcm16(clip.path);
  const start = performance.now();
  // Live, from the cepstral mean the previous clip left (a session's later turns).
  decoder.start(decoder.mean());
  for (let i = 0; i < samples.length; i += FRAME) decoder.process(samples.subarray(i, i + FRAME));
  const lastFrame = performance.now();
  const text = decoder.finish();
  const end = performance.now();
  const { errors, words } = wordErrors(clip.transcript, text);
  return { rtf: (end - start) / ((samples.length / 16000) * 1000), finalizeMs: end - lastFrame, errors, words };
}

function decodeAll(decoder: PocketsphinxDecoder, clips: Clip[], rounds: number): { rtf: Stats; finalize: Stats; wer: number } {
  const results: Decoded[] = [];
  for (let round = 0; round < rounds; round++) for (const clip of clips) results.push(decode(decoder, clip));
  const firstRound = results.slice(0, clips.length);
  const wer = (100 * firstRound.reduce((n, r) => n + r.errors, 0)) / firstRound.reduce((n, r) => n + r.words, 0);
  return { rtf: summarize(results.map((r) => r.rtf)), finalize: summarize(results.map((r) => r.finalizeMs)), wer };
}

export default async function (): Promise<void> {
  const rows: Row[] = [];

  rows.push(row('pocketsphinx load (en-us, open LM)', 'ms', await measure(() => PocketsphinxDecoder.load().free(), { runs: 5, warmup: 1 })));
  const decoder = PocketsphinxDecoder.load();
  const real = [...librivoxClips(), { id: 'jfk', path: await fixturePath('jfk'), transcript: JFK_TRANSCRIPT }];
  const open = decodeAll(decoder, real, 2);
  rows.push(row('pocketsphinx RTF, open LM (LibriVox + JFK)', 'x', open.rtf));
  rows.push(row('pocketsphinx finalization, open LM', 'ms', open.finalize));
  const cards = readFileSync(CARDS_GRAMMAR, 'utf8');
  let cardErrors = 0;
  let cardWords = 0;
  const cardRtf: number[] = [];
  for (const clip of cardsClips()) {
    const { samples } = readPcm16(clip.path);
    const start = performance.now();
    const counted = wordErrors(clip.transcript, decoder.decodeWhole(cards, samples));
    cardRtf.push((performance.now() - start) / ((samples.length / 16000) * 1000));
    cardErrors += counted.errors;
    cardWords += counted.words;
  }
  rows.push(row('pocketsphinx RTF, cards JSGF, whole utterance (done after the LM pass)', 'x', summarize(cardRtf)));
  decoder.free();
  const recognition = await measureRulesRecognition();

  rows.push(
    row('Silero v5 load (sherpa-onnx Vad)', 'ms', await measure(() => createSileroVad({ threshold: 0.5, minSpeechMs: 200, minSilenceMs: 700, maxSpeechMs: 25000 }), { runs: 5, warmup: 1 })),
  );
  const vad = createSileroVad({ threshold: 0.5, minSpeechMs: 200, minSilenceMs: 700, maxSpeechMs: 25000 });
  const speech = readPcm16(real[0]?.path ?? '').samples;
  const windows: Float32Array[] = [];
  for (let i = 0; i + VAD_WINDOW_SAMPLES <= speech.length; i += VAD_WINDOW_SAMPLES) {
    windows.push(Float32Array.from(speech.subarray(i, i + VAD_WINDOW_SAMPLES), (s) => s / 32768));
  }
  let next = 0;
  rows.push(
    row('Silero v5 per 32 ms window', 'ms', await measure(() => {
      vad.acceptWaveform(windows[next++ % windows.length] ?? new Float32Array(VAD_WINDOW_SAMPLES));
      while (!vad.isEmpty()) vad.pop();
    }, { runs: 1000, warmup: 50 })),
  );

  const firstCall = performance.now();
  synthesizeWithFlite('Hello.', 'rms');
  rows.push({ measure: 'flite first call (compile wasm)', unit: 'ms', median: performance.now() - firstCall, p95: '', runs: 1 });
  for (const voice of ['rms', 'slt', 'kal16'] as const) {
    let audioMs = 0;
    const stats = await measure(() => {
      const { samples, sampleRate } = synthesizeWithFlite(SENTENCE, voice);
      audioMs = (samples.length / sampleRate) * 1000;
    }, { runs: 10, warmup: 1 });
    rows.push({ measure: `flite ${voice} RTF (15 words)`, unit: 'x', median: stats.median / audioMs, p95: stats.p95 / audioMs, runs: stats.runs });
  }
  const context = { env: {}, logger: silentLogger(), warn: () => {} };
  for (const voice of ['rms', 'kal16']) {
    const speak = createFliteSpeak({ provider: { type: 'flite', voice } }, context);
    rows.push(
      row(`flite ${voice} time to first audio via pool (15 words)`, 'ms', await measure(async () => {
        const controller = new AbortController();
        for await (const _chunk of speak.synthesize(SENTENCE, controller.signal)) {
          controller.abort();
          break;
        }
      }, { runs: 10, warmup: 2 })),
    );
  }
  await closeClassicPools();

  printTable('Classic local engines (pocketsphinx, Silero VAD, flite)', rows);
  printTable('Classic STT accuracy', [
    { clips: 'LibriVox ×5 + JFK, open LM', 'WER %': open.wer },
    { clips: 'cards ×5, JSGF grammar', 'WER %': (100 * cardErrors) / cardWords },
  ]);
  printTable('Rules grammar recognition (default rules, each utterance a new session)', recognition.rows);
}
