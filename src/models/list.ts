import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOGUE, type CatalogueEntry, type ModelRole } from './catalogue.js';
import { PARTIAL_SUFFIX } from './cache-dir.js';

export interface ModelStatus {
  name: string;
  role: ModelRole;
  description: string;
  path: string;
  present: boolean;
  /** Bytes downloaded so far of an interrupted pull. */
  partialBytes?: number;
}

/** Each catalogue entry and whether it is in `dir`. */
export function listModels(dir: string, catalogue: readonly CatalogueEntry[] = CATALOGUE): ModelStatus[] {
  return catalogue.map((entry) => {
    const path = join(dir, entry.file);
    const status: ModelStatus = { name: entry.name, role: entry.role, description: entry.description, path, present: existsSync(path) };
    const partial = (entry.archive === undefined ? path : `${path}.${entry.archive}`) + PARTIAL_SUFFIX;
    if (!status.present && existsSync(partial)) status.partialBytes = statSync(partial).size;
    return status;
  });
}
