import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import type { Checksum } from './catalogue.js';
import { PARTIAL_SUFFIX } from './cache-dir.js';

export interface DownloadProgress {
  /** Bytes on disk so far, resumed ones included. */
  received: number;
  /** Total bytes, when the server or the catalogue says. */
  total: number | undefined;
}

export interface DownloadOptions {
  /** Required unless `allowUnverified`; a mismatch deletes the partial file and throws. */
  checksum?: Checksum;
  allowUnverified?: boolean;
  expectedSize?: number;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Further attempts after a dropped connection, each resuming where the last stopped. */
  retries?: number;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  /** Hex digest of the file, in the checksum's algorithm (sha256 when none was given). */
  digest: string;
  verified: boolean;
}

export class ChecksumMismatchError extends Error {
  constructor(
    readonly url: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`checksum mismatch for ${url}: expected ${expected}, got ${actual}; the download was deleted`);
    this.name = 'ChecksumMismatchError';
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function hashFile(hash: Hash, path: string): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

/** A request that reached no server: names the host and why (fetch's own message is "fetch failed"). */
export class NetworkError extends Error {
  constructor(
    readonly host: string,
    readonly reason: string,
  ) {
    super(`cannot download from ${host}: ${reason}`);
    this.name = 'NetworkError';
  }
}

/** The innermost cause of a failed fetch, in words: "ENOTFOUND (getaddrinfo ENOTFOUND host)". */
function networkReason(err: unknown): string {
  let cause: unknown = err;
  while (cause instanceof Error && cause.cause !== undefined) cause = cause.cause;
  if (!(cause instanceof Error)) return String(cause);
  const code = (cause as { code?: unknown }).code;
  return typeof code === 'string' && !cause.message.includes(code) ? `${code} (${cause.message})` : cause.message;
}

/** One HTTP request continuing `partial` from its current length. Throws on a dropped connection. */
async function fetchInto(url: string, partial: string, options: DownloadOptions): Promise<number | undefined> {
  const have = await sizeOf(partial);
  const headers: Record<string, string> = have > 0 ? { range: `bytes=${have}-` } : {};
  const init: RequestInit = { headers, redirect: 'follow' };
  if (options.signal !== undefined) init.signal = options.signal;
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    if (options.signal?.aborted === true) throw err;
    throw new NetworkError(new URL(url).host, networkReason(err));
  }
  if (response.status === 416 && have > 0) {
    await response.body?.cancel();
    return have;
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    throw new Error(`GET ${url}: HTTP ${response.status}`);
  }
  const resumed = response.status === 206;
  const start = resumed ? have : 0;
  const length = Number(response.headers.get('content-length') ?? NaN);
  const total = Number.isFinite(length) ? start + length : options.expectedSize;
  const out = createWriteStream(partial, { flags: resumed ? 'a' : 'w' });
  let received = start;
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      if (!out.write(chunk)) await once(out, 'drain');
      received += chunk.byteLength;
      options.onProgress?.({ received, total });
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  if (total !== undefined && received < total) throw new Error(`GET ${url}: connection closed at ${received} of ${total} bytes`);
  return total;
}

/**
 * Downloads `url` to `dest` through `dest.partial`: resumes a partial file with an HTTP Range
 * request, retries dropped connections, verifies the checksum and only then renames, so `dest`
 * is either absent or complete and verified.
 */
export async function downloadFile(url: string, dest: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  if (options.checksum === undefined && options.allowUnverified !== true) {
    throw new Error(`no checksum known for ${url}; refusing an unverified download`);
  }
  const partial = dest + PARTIAL_SUFFIX;
  const retries = options.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    try {
      await fetchInto(url, partial, options);
      break;
    } catch (err) {
      if (options.signal?.aborted === true || attempt >= retries) throw err;
    }
  }
  const algorithm = options.checksum?.algorithm ?? 'sha256';
  const hash = createHash(algorithm);
  await hashFile(hash, partial);
  const digest = hash.digest('hex');
  if (options.checksum !== undefined && digest !== options.checksum.digest.toLowerCase()) {
    await rm(partial, { force: true });
    throw new ChecksumMismatchError(url, options.checksum.digest, digest);
  }
  await rename(partial, dest);
  return { path: dest, bytes: await sizeOf(dest), digest, verified: options.checksum !== undefined };
}
