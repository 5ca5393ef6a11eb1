import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { CATALOGUE, catalogueEntry } from './catalogue.js';
import type { CatalogueEntry } from './catalogue.js';
import { downloadFile } from './download.js';
import type { DownloadProgress } from './download.js';
import { trimTrailingSlashes } from '../core/url-path.js';

const run = promisify(execFile);

export interface PullProgress extends DownloadProgress {
  name: string;
}

export interface PullOptions {
  dir: string;
  /** Replaces each entry's origin: files are fetched from `${baseUrl}/${basename(url)}` (mirrors, tests). */
  baseUrl?: string;
  onProgress?: (progress: PullProgress) => void;
  /** Lets entries without a checksum download; their digest is reported in the result. */
  allowUnverified?: boolean;
  catalogue?: readonly CatalogueEntry[];
  signal?: AbortSignal;
  retries?: number;
}

export interface PullResult {
  name: string;
  path: string;
  status: 'downloaded' | 'present';
  digest?: string;
  verified?: boolean;
}

function sourceUrl(entry: CatalogueEntry, baseUrl: string | undefined): string {
  return baseUrl === undefined ? entry.url : `${trimTrailingSlashes(baseUrl)}/${basename(new URL(entry.url).pathname)}`;
}

/** Unpacks next to the target, then renames: the model folder appears whole or not at all. */
async function unpack(archive: string, entry: CatalogueEntry, dir: string): Promise<string> {
  const scratch = join(dir, `.${entry.file}.unpacking`);
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  try {
    await run('tar', ['-xjf', archive, '-C', scratch]);
    const target = join(dir, entry.file);
    await rename(join(scratch, entry.file), target);
    return target;
  } finally {
    await rm(scratch, { recursive: true, force: true });
    await rm(archive, { force: true });
  }
}

async function pullOne(entry: CatalogueEntry, options: PullOptions): Promise<PullResult> {
  const target = join(options.dir, entry.file);
  if (existsSync(target)) return { name: entry.name, path: target, status: 'present' };
  const dest = entry.archive === undefined ? target : `${target}.${entry.archive}`;
  const downloaded = await downloadFile(sourceUrl(entry, options.baseUrl), dest, {
    ...(entry.checksum === undefined ? {} : { checksum: entry.checksum }),
    ...(entry.size === undefined ? {} : { expectedSize: entry.size }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
    allowUnverified: options.allowUnverified === true,
    onProgress: (p) => options.onProgress?.({ name: entry.name, ...p }),
  });
  const path = entry.archive === undefined ? downloaded.path : await unpack(downloaded.path, entry, options.dir);
  return { name: entry.name, path, status: 'downloaded', digest: downloaded.digest, verified: downloaded.verified };
}

/** Entries of a pull with no published checksum, refused before anything is downloaded. */
export class UnverifiedEntriesError extends Error {
  constructor(readonly names: readonly string[]) {
    super(
      `${names.join(', ')} ${names.length === 1 ? 'has' : 'have'} no published checksum, so nothing was downloaded: ` +
        'run again with --allow-unverified to download unverified (the digest seen is printed), or name only the other models',
    );
    this.name = 'UnverifiedEntriesError';
  }
}

/**
 * Downloads the named catalogue entries (all of them when `names` is empty) into `dir`, one
 * after another. Entries already present are left alone. Entries without a checksum are refused
 * up front unless `allowUnverified`. Throws on the first failure, after
 * which the cache holds only complete, verified models (and a `.partial` to resume from).
 */
export async function pullModels(names: readonly string[], options: PullOptions): Promise<PullResult[]> {
  const catalogue = options.catalogue ?? CATALOGUE;
  const entries = names.length === 0 ? [...catalogue] : names.map((name) => {
    const entry = catalogueEntry(name, catalogue);
    if (entry === undefined) throw new Error(`unknown model "${name}" (known: ${catalogue.map((e) => e.name).join(', ')})`);
    return entry;
  });
  // The whole set is checked first: a refusal after 1.3 GB of other downloads helps no one.
  const unverified = entries.filter((e) => e.checksum === undefined && !existsSync(join(options.dir, e.file)));
  if (unverified.length > 0 && options.allowUnverified !== true) throw new UnverifiedEntriesError(unverified.map((e) => e.name));
  await mkdir(options.dir, { recursive: true });
  const results: PullResult[] = [];
  for (const entry of entries) results.push(await pullOne(entry, options));
  return results;
}
