// Parley's polyphase converter against the libsamplerate WASM converter it replaced and a naive
// linear interpolator, in one run: cost per 20 ms frame, cost of creating a stream and the
// memory each one holds, and the quality figures (passband edge, aliasing of tones and a sweep).
import { performance } from 'node:perf_hooks';
import { measure, printTable } from '../harness.js';
import type { Row } from '../harness.js';
import { StreamingResampler, prepareResampler } from '../../src/audio/resampler.js';
import { LibsamplerateResampler } from './libsamplerate-resampler.js';
import { LinearResampler, tone } from './linear-resampler.js';
import { toneAmplitude } from '../../test/support/tone-level.js';

const PAIRS: [number, number][] = [[24000, 8000], [16000, 24000], [8000, 16000], [48000, 16000], [44100, 8000]];
const FRAME_MS = 20;
const AUDIO_MS = 10_000;
const STREAMS = 20;

interface Converter {
  process(samples: Int16Array): Int16Array;
}

type Kind = 'polyphase' | 'libsamplerate' | 'linear';
const KINDS: [Kind, string][] = [
  ['linear', 'linear (baseline)'],
  ['libsamplerate', 'libsamplerate medium (before)'],
  ['polyphase', 'polyphase (now)'],
];

async function open(kind: Kind, from: number, to: number): Promise<[Converter, () => void]> {
  switch (kind) {
    case 'linear':
      return [new LinearResampler(from, to), () => {}];
    case 'libsamplerate': {
      const r = await LibsamplerateResampler.create(from, to);
      return [r, () => r.destroy()];
    }
    case 'polyphase': {
      const r = new StreamingResampler(from, to);
      return [r, () => {}];
    }
  }
}

/** Converts a whole signal, flushing where the converter can. */
async function convert(kind: Kind, from: number, to: number, input: Int16Array): Promise<Int16Array> {
  if (kind === 'polyphase') {
    const r = new StreamingResampler(from, to);
    return Int16Array.from([...r.process(input), ...r.flush()]);
  }
  const [converter, dispose] = await open(kind, from, to);
  const out = converter.process(input);
  dispose();
  return out;
}

/** Level of the `hz` component, in dB re `reference`. */
function levelDb(samples: Int16Array, rate: number, hz: number, reference: number): number | string {
  const amplitude = toneAmplitude(samples, rate, hz);
  return amplitude < 1e-3 ? 'silent' : 20 * Math.log10(amplitude / reference);
}

/** Output level over its middle half, where the sweep's onset and end no longer ring, in dB re the input's. */
function rmsDb(output: Int16Array, input: Int16Array): number | string {
  const rms = (x: Int16Array): number => {
    const middle = x.subarray(Math.floor(x.length / 4), Math.floor((3 * x.length) / 4));
    return Math.sqrt(middle.reduce((s, v) => s + v * v, 0) / middle.length);
  };
  const level = rms(output);
  return level === 0 ? 'silent' : 20 * Math.log10(level / rms(input));
}

/** A linear sweep from `lowHz` to `highHz` over `ms`. */
function sweep(rate: number, ms: number, lowHz: number, highHz: number, amplitude = 10000): Int16Array {
  const n = Math.round((rate * ms) / 1000);
  const out = new Int16Array(n);
  const seconds = ms / 1000;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    out[i] = Math.round(amplitude * Math.sin(2 * Math.PI * (lowHz * t + ((highHz - lowHz) * t * t) / (2 * seconds))));
  }
  return out;
}

function buffersBytes(): number {
  const m = process.memoryUsage();
  return m.arrayBuffers + m.external;
}

export default async function (): Promise<void> {
  const frameRows: Row[] = [];
  for (const [from, to] of PAIRS) {
    prepareResampler(from, to);
    const audio = tone(from, AUDIO_MS);
    const frame = from / (1000 / FRAME_MS);
    const frames = Array.from({ length: AUDIO_MS / FRAME_MS }, (_, i) => audio.subarray(i * frame, (i + 1) * frame));
    let baselineUs = NaN;
    for (const [kind, name] of KINDS) {
      const [converter, dispose] = await open(kind, from, to);
      const perRun = await measure(() => {
        for (const f of frames) converter.process(f);
      }, { runs: 15, warmup: 2 });
      dispose();
      const frameUs = (perRun.median * 1000) / frames.length;
      if (Number.isNaN(baselineUs)) baselineUs = frameUs;
      frameRows.push({
        pair: `${from}→${to}`,
        converter: name,
        'µs/frame median': frameUs,
        'µs/frame p95': (perRun.p95 * 1000) / frames.length,
        'vs linear': frameUs / baselineUs,
      });
    }
  }
  printTable(`Resampling per ${FRAME_MS} ms frame (${AUDIO_MS / FRAME_MS} frames per run, 15 runs)`, frameRows);

  const streamRows: Row[] = [];
  for (const [kind, name] of KINDS.slice(1)) {
    const disposers: (() => void)[] = [];
    const before = buffersBytes();
    const start = performance.now();
    for (let i = 0; i < STREAMS; i++) disposers.push((await open(kind, 24000, 8000))[1]);
    const createMs = (performance.now() - start) / STREAMS;
    streamRows.push({ converter: name, 'ms to create a stream': createMs, 'kB held per stream': (buffersBytes() - before) / STREAMS / 1024 });
    for (const dispose of disposers) dispose();
  }
  printTable(`Creating ${STREAMS} streams 24k→8k (polyphase: filter already designed, as at startup)`, streamRows);

  const qualityRows: Row[] = [];
  const amplitude = 10000;
  for (const [kind, name] of KINDS) {
    const lowSweep = sweep(24000, 4000, 4400, 12000);
    qualityRows.push({
      converter: name,
      '24k→8k at 3.4 kHz (dB)': levelDb(await convert(kind, 24000, 8000, tone(24000, 1000, 3400)), 8000, 3400, amplitude),
      '24k→8k 5 kHz → alias at 3 kHz (dB)': levelDb(await convert(kind, 24000, 8000, tone(24000, 1000, 5000)), 8000, 3000, amplitude),
      '24k→8k sweep 4.4–12 kHz, output (dB)': rmsDb(await convert(kind, 24000, 8000, lowSweep), lowSweep),
      '16k→24k at 7 kHz (dB)': levelDb(await convert(kind, 16000, 24000, tone(16000, 1000, 7000)), 24000, 7000, amplitude),
      '16k→24k 7 kHz → image at 9 kHz (dB)': levelDb(await convert(kind, 16000, 24000, tone(16000, 1000, 7000)), 24000, 9000, amplitude),
    });
  }
  printTable('Converter quality (0 dB is the input level; a sweep above 4.4 kHz should vanish going to 8 kHz)', qualityRows);
}
