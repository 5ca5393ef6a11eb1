/** Reading back what a recording wrote (docs/recordings.md). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

/** The recording's channels, rate and samples, read by the RIFF chunk sizes the header states. */
export function readStereoWav(path: string): { channels: number; sampleRate: number; left: Int16Array; right: Int16Array; dataBytes: number; fileBytes: number; riffBytes: number } {
  const bytes = readFileSync(path);
  assert.equal(bytes.toString('ascii', 0, 4), 'RIFF');
  assert.equal(bytes.toString('ascii', 8, 12), 'WAVE');
  assert.equal(bytes.toString('ascii', 36, 40), 'data');
  const channels = bytes.readUInt16LE(22);
  const sampleRate = bytes.readUInt32LE(24);
  const dataBytes = bytes.readUInt32LE(40);
  const frames = Math.floor(dataBytes / 4);
  const left = new Int16Array(frames);
  const right = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    left[i] = bytes.readInt16LE(44 + i * 4);
    right[i] = bytes.readInt16LE(46 + i * 4);
  }
  return { channels, sampleRate, left, right, dataBytes, fileBytes: bytes.length, riffBytes: bytes.readUInt32LE(4) };
}

/** Index of the first sample louder than `level`, or -1. */
export function firstLoud(samples: Int16Array, level = 2000): number {
  return samples.findIndex((s) => Math.abs(s) > level);
}

