import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOGUE } from './catalogue.js';
import type { ModelRole } from './catalogue.js';
import { modelsDir, PARTIAL_SUFFIX } from './cache-dir.js';
import type { Env } from './cache-dir.js';

/** Files sherpa-onnx's OfflineTts needs for a Piper (VITS) or Kokoro voice. */
export interface TtsModelFiles {
  kind: 'vits' | 'kokoro';
  model: string;
  tokens: string;
  /** espeak-ng data folder (phonemizer), when the bundle has one. */
  dataDir?: string;
  /** Kokoro's voice embeddings. */
  voices?: string;
}

export interface NeuralModels {
  stt?: string;
  llm?: string;
  tts?: TtsModelFiles;
}

const isFile = (path: string): boolean => existsSync(path) && statSync(path).isFile();
const isDir = (path: string): boolean => existsSync(path) && statSync(path).isDirectory();

function entries(dir: string): string[] {
  return isDir(dir) ? readdirSync(dir).filter((n) => !n.endsWith(PARTIAL_SUFFIX) && !n.startsWith('.')).sort() : [];
}

/** The catalogue's file for a role when present, else the first file in the dir that matches. */
function pickFile(dir: string, role: ModelRole, match: (name: string) => boolean): string | undefined {
  for (const entry of CATALOGUE) {
    if (entry.role === role && entry.archive === undefined && isFile(join(dir, entry.file))) return join(dir, entry.file);
  }
  const found = entries(dir).find((n) => match(n) && isFile(join(dir, n)));
  return found === undefined ? undefined : join(dir, found);
}

/** Reads a voice folder: one `.onnx` model and `tokens.txt`, optionally espeak-ng-data and voices.bin. */
export function ttsFilesIn(folder: string): TtsModelFiles | undefined {
  const names = entries(folder);
  const model = names.find((n) => n.endsWith('.onnx'));
  if (model === undefined || !names.includes('tokens.txt')) return undefined;
  const files: TtsModelFiles = {
    kind: names.includes('voices.bin') ? 'kokoro' : 'vits',
    model: join(folder, model),
    tokens: join(folder, 'tokens.txt'),
  };
  if (isDir(join(folder, 'espeak-ng-data'))) files.dataDir = join(folder, 'espeak-ng-data');
  if (files.kind === 'kokoro') files.voices = join(folder, 'voices.bin');
  return files;
}

function pickTts(dir: string): TtsModelFiles | undefined {
  const preferred = CATALOGUE.filter((e) => e.role === 'tts').map((e) => e.file);
  const folders = [...preferred, ...entries(dir)].filter((n) => isDir(join(dir, n)));
  for (const name of folders) {
    const files = ttsFilesIn(join(dir, name));
    if (files !== undefined) return files;
  }
  return undefined;
}

/**
 * Which neural models are present. Explicit paths (`PARLEY_WHISPER_MODEL`, `PARLEY_LLM_MODEL`,
 * `PARLEY_TTS_MODEL` = a voice folder) win over the cache dir. A role left out has no model,
 * so its classic engine serves it.
 */
export function detectNeuralModels(env: Env = process.env): NeuralModels {
  const dir = modelsDir(env);
  const found: NeuralModels = {};
  const sttEnv = env['PARLEY_WHISPER_MODEL'];
  const stt = sttEnv !== undefined && sttEnv !== '' ? (isFile(sttEnv) ? sttEnv : undefined) : pickFile(dir, 'stt', (n) => /^ggml-.*\.bin$/.test(n));
  if (stt !== undefined) found.stt = stt;
  const llmEnv = env['PARLEY_LLM_MODEL'];
  const llm = llmEnv !== undefined && llmEnv !== '' ? (isFile(llmEnv) ? llmEnv : undefined) : pickFile(dir, 'llm', (n) => n.endsWith('.gguf'));
  if (llm !== undefined) found.llm = llm;
  const ttsEnv = env['PARLEY_TTS_MODEL'];
  const tts = ttsEnv !== undefined && ttsEnv !== '' ? ttsFilesIn(ttsEnv) : pickTts(dir);
  if (tts !== undefined) found.tts = tts;
  return found;
}
