// Resampling cost per 20 ms frame and for a 10 s buffer: libsamplerate's sinc converters
// against a naive linear interpolator measured in the same run, plus the quality figures that
// decide the default converter.
import { measure, printTable } from '../harness.js';
import type { Row } from '../harness.js';
import { DEFAULT_RESAMPLER_QUALITY, StreamingResampler } from '../../src/audio/resampler.js';
import type { ResamplerQuality } from '../../src/audio/resampler.js';
import { LinearResampler, tone } from './linear-resampler.js';

const PAIRS: [number, number][] = [[16000, 24000], [8000, 16000], [24000, 8000]];
const QUALITIES: ResamplerQuality[] = ['fastest', 'medium', 'best'];
const FRAME_MS = 20;
const AUDIO_MS = 10_000;

interface Converter {
  process(samples: Int16Array): Int16Array;
}

async function converters(from: number, to: number): Promise<[string, Converter, () => void][]> {
  const list: [string, Converter, () => void][] = [['linear (baseline)', new LinearResampler(from, to), () => {}]];
  for (const quality of QUALITIES) {
    const r = await StreamingResampler.create(from, to, { quality });
    list.push([`sinc ${quality}${quality === DEFAULT_RESAMPLER_QUALITY ? ' (default)' : ''}`, r, () => r.destroy()]);
  }
  return list;
}

/**
 * Output level of a pure tone after conversion, in dB relative to the input; a tone attenuated
 * below 16-bit rounding (under -86 dB at this amplitude) comes out as silence.
 */
async function gainDb(from: number, to: number, hz: number, quality: ResamplerQuality | 'linear'): Promise<number | string> {
  const input = tone(from, 1000, hz);
  const output =
    quality === 'linear' ? new LinearResampler(from, to).process(input) : await (async () => {
      const r = await StreamingResampler.create(from, to, { quality });
      const out = r.process(input);
      r.destroy();
      return out;
    })();
  const rms = (x: Int16Array): number => Math.sqrt(x.slice(x.length / 4, (3 * x.length) / 4).reduce((s, v) => s + v * v, 0) / (x.length / 2));
  const level = rms(output);
  return level === 0 ? 'silent' : 20 * Math.log10(level / rms(input));
}

export default async function (): Promise<void> {
  const frameRows: Row[] = [];
  const bufferRows: Row[] = [];
  for (const [from, to] of PAIRS) {
    const audio = tone(from, AUDIO_MS);
    const frame = from / (1000 / FRAME_MS);
    const frames = Array.from({ length: AUDIO_MS / FRAME_MS }, (_, i) => audio.subarray(i * frame, (i + 1) * frame));
    let baselineFrameUs = NaN;
    let baselineBufferMs = NaN;
    for (const [name, converter, dispose] of await converters(from, to)) {
      const perRun = await measure(() => {
        for (const f of frames) converter.process(f);
      }, { runs: 15, warmup: 2 });
      const frameUs = (perRun.median * 1000) / frames.length;
      const frameP95Us = (perRun.p95 * 1000) / frames.length;
      if (Number.isNaN(baselineFrameUs)) baselineFrameUs = frameUs;
      frameRows.push({
        pair: `${from}→${to}`,
        converter: name,
        'µs/frame median': frameUs,
        'µs/frame p95': frameP95Us,
        'real-time factor': (frameUs / 1000 / FRAME_MS).toPrecision(2),
        'vs linear': frameUs / baselineFrameUs,
      });
      const whole = await measure(() => converter.process(audio), { runs: 15, warmup: 2 });
      if (Number.isNaN(baselineBufferMs)) baselineBufferMs = whole.median;
      bufferRows.push({
        pair: `${from}→${to}`,
        converter: name,
        'ms/10 s median': whole.median,
        'ms/10 s p95': whole.p95,
        'real-time factor': (whole.median / AUDIO_MS).toPrecision(2),
        'vs linear': whole.median / baselineBufferMs,
      });
      dispose();
    }
  }
  printTable('Resampling per 20 ms frame (500 frames per run, 15 runs)', frameRows);
  printTable('Resampling a 10 s buffer in one call (15 runs)', bufferRows);

  const qualityRows: Row[] = [];
  for (const quality of ['linear', ...QUALITIES] as const) {
    qualityRows.push({
      converter: quality,
      '24k→8k gain at 3.4 kHz (dB)': await gainDb(24000, 8000, 3400, quality),
      '24k→8k alias of 5 kHz (dB)': await gainDb(24000, 8000, 5000, quality),
      '16k→24k gain at 7 kHz (dB)': await gainDb(16000, 24000, 7000, quality),
    });
  }
  printTable('Converter quality: passband edge and aliasing (0 dB is the input level)', qualityRows);
}
