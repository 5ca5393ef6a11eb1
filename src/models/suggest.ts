import { detectNeuralModels } from './detect.js';
import { modelsDir, type Env } from './cache-dir.js';

/**
 * Called at start-up: when no neural model is present, prints how to get them. Never prompts,
 * never downloads, never blocks start-up. Returns whether a hint was printed.
 */
export function suggestPull(env: Env = process.env, print: (line: string) => void = (l) => console.error(l)): boolean {
  const found = detectNeuralModels(env);
  if (found.stt !== undefined || found.llm !== undefined || found.tts !== undefined) return false;
  print(
    `parley: no neural models in ${modelsDir(env)}; the classic local engines will serve. ` +
      'Run `parley models pull` (about 1.3 GB) for whisper, Qwen2.5 and a Piper voice.',
  );
  return true;
}
