import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export type Env = Readonly<Record<string, string | undefined>>;

/** Where model files live: `PARLEY_MODELS_DIR`, else `~/.cache/parley/models` (XDG_CACHE_HOME honoured). */
export function modelsDir(env: Env = process.env): string {
  const explicit = env['PARLEY_MODELS_DIR'];
  if (explicit !== undefined && explicit !== '') return resolve(explicit);
  const cache = env['XDG_CACHE_HOME'];
  return join(cache !== undefined && cache !== '' ? cache : join(homedir(), '.cache'), 'parley', 'models');
}

/** Suffix of a download in progress; such files are never taken for a model. */
export const PARTIAL_SUFFIX = '.partial';
