import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { UnverifiedEntriesError, pullModels } from '../../src/models/pull.js';
import { ChecksumMismatchError, NetworkError } from '../../src/models/download.js';
import type { CatalogueEntry } from '../../src/models/catalogue.js';
import { listModels } from '../../src/models/list.js';

interface FileServer {
  baseUrl: string;
  /** Range headers seen, in order ('' for none). */
  ranges: string[];
  /** The next N responses are cut after this many bytes of body. */
  cutNext(times: number, afterBytes: number): void;
  close(): Promise<void>;
}

async function serve(files: Record<string, Buffer>): Promise<FileServer> {
  const ranges: string[] = [];
  let cuts = 0;
  let cutAt = 0;
  const server: Server = createServer((req, res) => {
    const body = files[(req.url ?? '').slice(1)];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    const range = req.headers.range ?? '';
    ranges.push(range);
    const start = /^bytes=(\d+)-$/.exec(range)?.[1];
    const from = start === undefined ? 0 : Number(start);
    const slice = body.subarray(from);
    res.writeHead(start === undefined ? 200 : 206, { 'content-length': slice.length, 'accept-ranges': 'bytes' });
    if (cuts > 0) {
      cuts--;
      res.write(slice.subarray(0, cutAt), () => res.socket?.destroy());
    } else {
      res.end(slice);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    ranges,
    cutNext(times, afterBytes) {
      cuts = times;
      cutAt = afterBytes;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function entry(name: string, body: Buffer, extra: Partial<CatalogueEntry> = {}): CatalogueEntry {
  return {
    name,
    role: 'llm',
    description: name,
    licence: 'test',
    url: `https://example.invalid/models/${name}.gguf`,
    file: `${name}.gguf`,
    checksum: { algorithm: 'sha256', digest: sha256(body) },
    checksumSource: 'test',
    ...extra,
  };
}

const scratch = (): string => mkdtempSync(join(tmpdir(), 'parley-pull-'));
const leftovers = (dir: string): string[] => readdirSync(dir).filter((n) => n.includes('partial') || n.startsWith('.'));

test('pull downloads from the base URL, reports progress and verifies the checksum', async () => {
  const body = randomBytes(300_000);
  const server = await serve({ 'tiny.gguf': body });
  const dir = scratch();
  const seen: number[] = [];
  try {
    const [result] = await pullModels(['tiny'], {
      dir,
      baseUrl: server.baseUrl,
      catalogue: [entry('tiny', body)],
      onProgress: (p) => {
        assert.equal(p.name, 'tiny');
        seen.push(p.received);
      },
    });
    assert.equal(result?.status, 'downloaded');
    assert.equal(result?.verified, true);
    assert.deepEqual(readFileSync(join(dir, 'tiny.gguf')), body);
    assert.ok(seen.length > 1, 'several progress reports');
    assert.equal(seen.at(-1), body.length);
    assert.deepEqual(leftovers(dir), []);
    const again = await pullModels(['tiny'], { dir, baseUrl: server.baseUrl, catalogue: [entry('tiny', body)] });
    assert.equal(again[0]?.status, 'present');
  } finally {
    await server.close();
  }
});

test('a cut connection is resumed with an HTTP Range request', async () => {
  const body = randomBytes(200_000);
  const server = await serve({ 'cut.gguf': body });
  const dir = scratch();
  try {
    server.cutNext(1, 50_000);
    await pullModels(['cut'], { dir, baseUrl: server.baseUrl, catalogue: [entry('cut', body)] });
    assert.deepEqual(readFileSync(join(dir, 'cut.gguf')), body);
    assert.equal(server.ranges[0], '');
    assert.match(server.ranges[1] ?? '', /^bytes=[1-9]\d*-$/);
    assert.deepEqual(leftovers(dir), []);
  } finally {
    await server.close();
  }
});

test('an interrupted pull leaves only a .partial that the next pull resumes', async () => {
  const body = randomBytes(200_000);
  const server = await serve({ 'later.gguf': body });
  const dir = scratch();
  const catalogue = [entry('later', body)];
  try {
    server.cutNext(1, 80_000);
    await assert.rejects(pullModels(['later'], { dir, baseUrl: server.baseUrl, catalogue, retries: 0 }));
    assert.equal(existsSync(join(dir, 'later.gguf')), false, 'no half-written model');
    const status = listModels(dir, catalogue)[0];
    assert.equal(status?.present, false);
    assert.ok((status?.partialBytes ?? 0) > 0);
    await pullModels(['later'], { dir, baseUrl: server.baseUrl, catalogue });
    assert.deepEqual(readFileSync(join(dir, 'later.gguf')), body);
    assert.match(server.ranges.at(-1) ?? '', /^bytes=[1-9]\d*-$/);
    assert.deepEqual(leftovers(dir), []);
  } finally {
    await server.close();
  }
});

test('a checksum mismatch is refused and nothing is left in the cache', async () => {
  const body = randomBytes(10_000);
  const server = await serve({ 'bad.gguf': body });
  const dir = scratch();
  try {
    const wrong = entry('bad', body, { checksum: { algorithm: 'sha256', digest: sha256(Buffer.from('other')) } });
    await assert.rejects(pullModels(['bad'], { dir, baseUrl: server.baseUrl, catalogue: [wrong] }), ChecksumMismatchError);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    await server.close();
  }
});

test('an entry without a checksum is refused unless unverified downloads are allowed', async () => {
  const body = randomBytes(5_000);
  const server = await serve({ 'nosum.gguf': body });
  const dir = scratch();
  const unsummed: CatalogueEntry = { ...entry('nosum', body) };
  delete unsummed.checksum;
  try {
    await assert.rejects(pullModels(['nosum'], { dir, baseUrl: server.baseUrl, catalogue: [unsummed] }), /no published checksum/);
    assert.deepEqual(readdirSync(dir), []);
    const [result] = await pullModels(['nosum'], { dir, baseUrl: server.baseUrl, catalogue: [unsummed], allowUnverified: true });
    assert.equal(result?.verified, false);
    assert.equal(result?.digest, sha256(body));
  } finally {
    await server.close();
  }
});

test('an archive entry unpacks to its folder whole, and the archive is removed', async () => {
  const src = scratch();
  mkdirSync(join(src, 'voice-x', 'espeak-ng-data'), { recursive: true });
  writeFileSync(join(src, 'voice-x', 'model.onnx'), 'onnx');
  writeFileSync(join(src, 'voice-x', 'tokens.txt'), 'a 1\n');
  execFileSync('tar', ['-cjf', join(src, 'voice-x.tar.bz2'), '-C', src, 'voice-x']);
  const archive = readFileSync(join(src, 'voice-x.tar.bz2'));
  const server = await serve({ 'voice-x.tar.bz2': archive });
  const dir = scratch();
  try {
    const voice = entry('voice', archive, {
      role: 'tts',
      url: 'https://example.invalid/voice-x.tar.bz2',
      file: 'voice-x',
      archive: 'tar.bz2',
    });
    await pullModels([], { dir, baseUrl: server.baseUrl, catalogue: [voice] });
    assert.deepEqual(readdirSync(dir), ['voice-x']);
    assert.equal(readFileSync(join(dir, 'voice-x', 'tokens.txt'), 'utf8'), 'a 1\n');
  } finally {
    await server.close();
  }
});

test('an unknown model name is refused before anything is fetched', async () => {
  await assert.rejects(pullModels(['nope'], { dir: scratch(), catalogue: [] }), /unknown model "nope"/);
});

test('the whole set is checked before anything is downloaded: an entry without a checksum is named up front, with the flag that allows it', async () => {
  const summed = randomBytes(5_000);
  const body = randomBytes(5_000);
  const server = await serve({ 'summed.gguf': summed, 'nosum.gguf': body });
  const dir = scratch();
  const unsummed: CatalogueEntry = { ...entry('nosum', body) };
  delete unsummed.checksum;
  try {
    await assert.rejects(
      pullModels([], { dir, baseUrl: server.baseUrl, catalogue: [entry('summed', summed), unsummed] }),
      (err: Error) => err instanceof UnverifiedEntriesError && /^nosum has no published checksum/.test(err.message) && err.message.includes('--allow-unverified'),
    );
    assert.deepEqual(server.ranges, [], 'not one request, not even for the entry that has a checksum');
    assert.ok(!existsSync(join(dir, 'summed.gguf')));
  } finally {
    await server.close();
  }
});

test('a network failure names the host and the cause', async () => {
  // A port that was just free: nothing listens there.
  const probe = await serve({});
  const baseUrl = probe.baseUrl;
  await probe.close();
  const body = randomBytes(100);
  await assert.rejects(
    pullModels([], { dir: scratch(), baseUrl, catalogue: [entry('one', body)], retries: 0 }),
    (err: Error) => err instanceof NetworkError && err.message.startsWith(`cannot download from ${new URL(baseUrl).host}: `) && err.message.includes('ECONNREFUSED'),
  );
});
