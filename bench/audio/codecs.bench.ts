// Per-frame cost of the G.711 codecs, the client-audio decoder and the agent-audio encoder,
// against a plain copy of the same frame measured in the same run.
import { measure, printTable } from '../harness.js';
import type { Row } from '../harness.js';
import { decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw } from '../../src/audio/g711.js';
import { InputDecoder } from '../../src/audio/input-decoder.js';
import { OutputEncoder } from '../../src/audio/output-encoder.js';
import { pcm16ToBytes } from '../../src/audio/pcm16.js';
import type { InputAudioFormat, OutputAudioFormat } from '../../src/protocol/agent-config.js';
import { LISTEN_SAMPLE_RATE } from '../../src/listen/types.js';
import { tone } from './linear-resampler.js';

const FRAME_MS = 20;
const FRAMES = 500;

/** Times `fn` over FRAMES frames per run and reports microseconds per frame. */
async function perFrame(name: string, fn: (frame: number) => unknown, baselineUs?: number): Promise<Row & { us: number }> {
  const stats = await measure(() => {
    for (let i = 0; i < FRAMES; i++) fn(i);
  }, { runs: 20, warmup: 3 });
  const us = (stats.median * 1000) / FRAMES;
  return {
    operation: name,
    'µs/frame median': us,
    'µs/frame p95': (stats.p95 * 1000) / FRAMES,
    'real-time factor': (us / 1000 / FRAME_MS).toPrecision(2),
    'vs copy': baselineUs === undefined ? 1 : us / baselineUs,
    us,
  };
}

function withoutUs({ us: _us, ...row }: Row & { us: number }): Row {
  return row;
}

export default async function (): Promise<void> {
  const pcm8k = tone(8000, FRAME_MS * FRAMES);
  const pcmFrames = Array.from({ length: FRAMES }, (_, i) => pcm8k.subarray(i * 160, (i + 1) * 160));
  const mulawFrames = pcmFrames.map((f) => encodeMulaw(f));
  const alawFrames = pcmFrames.map((f) => encodeAlaw(f));
  const copy = await perFrame('copy 160 samples (baseline)', (i) => (pcmFrames[i] as Int16Array).slice());
  const g711 = [
    copy,
    await perFrame('mu-law encode 160 samples', (i) => encodeMulaw(pcmFrames[i] as Int16Array), copy.us),
    await perFrame('mu-law decode 160 bytes', (i) => decodeMulaw(mulawFrames[i] as Uint8Array), copy.us),
    await perFrame('A-law encode 160 samples', (i) => encodeAlaw(pcmFrames[i] as Int16Array), copy.us),
    await perFrame('A-law decode 160 bytes', (i) => decodeAlaw(alawFrames[i] as Uint8Array), copy.us),
  ];
  printTable('G.711 per 20 ms frame at 8 kHz', g711.map(withoutUs));

  const inputs: InputAudioFormat[] = [
    { encoding: 'linear16', sampleRate: 16000 },
    { encoding: 'linear16', sampleRate: 24000 },
    { encoding: 'linear16', sampleRate: 48000 },
    { encoding: 'mulaw', sampleRate: 8000 },
  ];
  const decoderRows: Row[] = [];
  for (const format of inputs) {
    const pcm = tone(format.sampleRate, FRAME_MS * FRAMES);
    const bytes = format.encoding === 'mulaw' ? encodeMulaw(pcm) : pcm16ToBytes(pcm);
    const frameBytes = bytes.length / FRAMES;
    const frames = Array.from({ length: FRAMES }, (_, i) => bytes.subarray(i * frameBytes, (i + 1) * frameBytes));
    const label = `${format.encoding} ${format.sampleRate} → pcm ${LISTEN_SAMPLE_RATE}`;
    const baseline = await perFrame(`copy ${frameBytes} bytes (baseline)`, (i) => (frames[i] as Uint8Array).slice());
    const decoder = InputDecoder.create(format, LISTEN_SAMPLE_RATE);
    decoderRows.push(withoutUs(baseline), withoutUs(await perFrame(`InputDecoder ${label}`, (i) => decoder.push(frames[i] as Uint8Array), baseline.us)));
    decoder.close();
  }
  printTable('InputDecoder per 20 ms client frame', decoderRows);

  const outputs: [OutputAudioFormat, number][] = [
    [{ encoding: 'linear16', sampleRate: 24000, container: 'none' }, 24000],
    [{ encoding: 'linear16', sampleRate: 24000, container: 'none' }, 16000],
    [{ encoding: 'mulaw', sampleRate: 8000, container: 'none' }, 24000],
  ];
  const encoderRows: Row[] = [];
  for (const [format, engineRate] of outputs) {
    const pcm = tone(engineRate, FRAME_MS * FRAMES);
    const step = pcm.length / FRAMES;
    const chunks = Array.from({ length: FRAMES }, (_, i) => ({ samples: pcm.subarray(i * step, (i + 1) * step), sampleRate: engineRate }));
    const encoder = OutputEncoder.create(format);
    const baseline = await perFrame(`copy ${step} samples (baseline)`, (i) => (chunks[i]?.samples as Int16Array).slice());
    const label = `pcm ${engineRate} → ${format.encoding} ${format.sampleRate}`;
    encoderRows.push(withoutUs(baseline), withoutUs(await perFrame(`OutputEncoder ${label}`, (i) => encoder.encode(chunks[i] as (typeof chunks)[number]), baseline.us)));
    encoder.close();
  }
  printTable('OutputEncoder per 20 ms engine chunk', encoderRows);
}
