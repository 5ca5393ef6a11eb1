// Per-frame cost of the compressed codecs and of echo suppression, the longest synchronous step
// a large compressed message causes, and the native memory each costs a session.
//   npm run bench -- compressed
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { measure, printTable } from '../harness.js';
import type { Row } from '../harness.js';
import { EchoSuppressor } from '../../src/audio/echo-suppressor.js';
import { InputDecoder } from '../../src/audio/input-decoder.js';
import { OutputEncoder } from '../../src/audio/output-encoder.js';
import { pcm16ToBytes } from '../../src/audio/pcm16.js';
import type { InputEncoding, OutputAudioFormat } from '../../src/protocol/agent-config.js';
import { readPcm16, librivoxClips } from '../../test/support/fixtures.js';

const FRAME_MS = 20;

function ffmpeg(args: string[]): Buffer {
  return execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { maxBuffer: 256 * 1024 * 1024 });
}

function row(operation: string, totalMs: number, frames: number, extra: Row = {}): Row {
  const us = (totalMs * 1000) / frames;
  return { operation, 'µs per 20 ms': us, 'real-time factor': (us / 1000 / FRAME_MS).toPrecision(2), ...extra };
}

/** The longest stretch the event loop was held while `work` ran (ticks of a setImmediate chain). */
async function longestStep(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  let running = true;
  const tick = (): void => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  await work();
  running = false;
  return longest;
}

function rssDelta(create: () => unknown, count: number): number {
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  const held = Array.from({ length: count }, create);
  const after = process.memoryUsage().rss;
  void held;
  return (after - before) / count;
}

export default async function (): Promise<void> {
  const clip = librivoxClips()[0] as { path: string };
  const speech = readPcm16(clip.path).samples; // 16 kHz
  const frames = Math.floor(speech.length / 320);

  // Echo suppression: the agent talking (reference on every frame) and idle (no reference in the tail).
  const echoRows: Row[] = [];
  for (const active of [true, false]) {
    let clock = 0;
    const echo = new EchoSuppressor({ encoding: 'linear16', sampleRate: 16000 }, { leadMs: 200, now: () => clock });
    const stats = await measure(() => {
      for (let f = 0; f < frames; f++) {
        clock += FRAME_MS;
        const frame = speech.subarray(f * 320, (f + 1) * 320);
        if (active) echo.played({ bytes: pcm16ToBytes(frame), heardAtMs: clock, durationMs: FRAME_MS });
        echo.process(frame);
      }
    }, { runs: 10, warmup: 2 });
    echo.close();
    echoRows.push(row(active ? 'EchoSuppressor, agent speaking (speexdsp MDF, 300 ms tail)' : 'EchoSuppressor, agent silent', stats.median, frames, { p95: ((stats.p95 * 1000) / frames).toFixed(1) }));
  }
  printTable('Echo suppression per 20 ms of client audio at 16 kHz', echoRows);

  // Decoders: the clip encoded by ffmpeg, fed in the messages a streaming client sends.
  const wav = clip.path;
  const streams: { encoding: InputEncoding; rate: number; messages: Uint8Array[] }[] = [];
  const ogg = ffmpeg(['-i', wav, '-c:a', 'libopus', '-b:a', '24k', '-frame_duration', '20', '-f', 'ogg', '-']);
  streams.push({ encoding: 'ogg-opus', rate: 48000, messages: chunk(ogg, Math.ceil(ogg.length / frames)) });
  const flac = ffmpeg(['-i', wav, '-c:a', 'flac', '-f', 'flac', '-']);
  streams.push({ encoding: 'flac', rate: 16000, messages: chunk(flac, Math.ceil(flac.length / frames)) });
  const f32 = ffmpeg(['-i', wav, '-f', 'f32le', '-ar', '24000', '-']);
  streams.push({ encoding: 'linear32', rate: 24000, messages: chunk(f32, 24000 * 4 * 0.02) });
  const decodeRows: Row[] = [];
  for (const stream of streams) {
    const stats = await measure(async () => {
      const decoder = InputDecoder.create({ encoding: stream.encoding, sampleRate: stream.rate }, 16000);
      for (const message of stream.messages) await decoder.push(message);
      decoder.close();
    }, { runs: 10, warmup: 2 });
    decodeRows.push(row(`InputDecoder ${stream.encoding} ${stream.rate} → pcm 16000`, stats.median, frames));
  }
  printTable('InputDecoder per 20 ms of client audio (whole clip, streamed)', decodeRows);

  // Encoders: engine PCM at 16 kHz in 20 ms chunks, one utterance per run.
  const outputs: OutputAudioFormat[] = [
    { encoding: 'opus', sampleRate: 48000, container: 'ogg', bitrate: 12000 },
    { encoding: 'mp3', sampleRate: 22050, container: 'none', bitrate: 48000 },
    { encoding: 'flac', sampleRate: 16000, container: 'none' },
  ];
  const encodeRows: Row[] = [];
  for (const format of outputs) {
    const encoder = OutputEncoder.create(format);
    const stats = await measure(async () => {
      encoder.startUtterance();
      for (let f = 0; f < frames; f++) await encoder.encode({ samples: speech.subarray(f * 320, (f + 1) * 320), sampleRate: 16000 });
      encoder.endUtterance();
    }, { runs: 10, warmup: 2 });
    const start = await measure(() => {
      encoder.startUtterance();
      encoder.endUtterance();
    }, { runs: 30, warmup: 3 });
    encoder.close();
    encodeRows.push(row(`OutputEncoder pcm 16000 → ${format.encoding} ${format.sampleRate}`, stats.median, frames, { 'start+end of an utterance, ms': start.median.toFixed(3) }));
  }
  printTable('OutputEncoder per 20 ms engine chunk', encodeRows);

  // One message holding minutes of compressed audio: decoded in slices.
  const minute = ffmpeg(['-stream_loop', '15', '-i', wav, '-t', '55', '-c:a', 'libopus', '-b:a', '16k', '-f', 'ogg', '-']);
  const minuteFlac = ffmpeg(['-stream_loop', '15', '-i', wav, '-t', '55', '-c:a', 'flac', '-f', 'flac', '-']);
  const stepRows: Row[] = [];
  for (const [encoding, bytes] of [['ogg-opus', minute], ['flac', minuteFlac]] as const) {
    for (const echoOn of [false, true]) {
      // Three runs: a garbage collection can land in any one of them; the median is the step's own length.
      const runs: number[] = [];
      for (let run = 0; run < 3; run++) {
        const echo = echoOn ? new EchoSuppressor({ encoding: 'linear16', sampleRate: 16000 }, { leadMs: 200 }) : undefined;
        if (echo !== undefined) echo.played({ bytes: pcm16ToBytes(speech), heardAtMs: performance.now(), durationMs: speech.length / 16 });
        const decoder = InputDecoder.create({ encoding, sampleRate: 48000 }, 16000, echo === undefined ? {} : { process: (s) => echo.process(s) });
        runs.push(await longestStep(async () => decoder.push(bytes)));
        decoder.close();
        echo?.close();
      }
      runs.sort((a, b) => a - b);
      stepRows.push({
        message: `${encoding}, 55 s in one ${Math.round(bytes.length / 1024)} KiB message${echoOn ? ', echo suppression on' : ''}`,
        'longest step, ms (median of 3)': (runs[1] as number).toFixed(2),
        'worst of 3, ms': (runs[2] as number).toFixed(2),
      });
    }
  }
  printTable('Longest synchronous step while one large message decodes', stepRows);

  printTable('Native memory per session (RSS growth per instance, 200 instances)', [
    { state: 'EchoSuppressor (speexdsp canceller + 16 kHz reference timeline)', 'kB': (rssDelta(() => new EchoSuppressor({ encoding: 'linear16', sampleRate: 16000 }, { leadMs: 200 }), 200) / 1024).toFixed(1) },
    { state: 'InputDecoder ogg-opus (libopus decoder, libogg)', 'kB': (rssDelta(() => InputDecoder.create({ encoding: 'ogg-opus', sampleRate: 48000 }, 16000), 200) / 1024).toFixed(1) },
    { state: 'InputDecoder flac (libFLAC decoder)', 'kB': (rssDelta(() => InputDecoder.create({ encoding: 'flac', sampleRate: 16000 }, 16000), 200) / 1024).toFixed(1) },
  ]);
}

function chunk(bytes: Buffer, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) out.push(bytes.subarray(offset, offset + size));
  return out;
}
