// `parley serve` as a person starts it: a port that is taken is one readable line and exit 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

test('a busy port is one clear line and exit status 1, not a stack trace', async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const { port } = holder.address() as AddressInfo;
  const data = await mkdtemp(join(tmpdir(), 'parley-serve-'));
  try {
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--port', String(port), '--host', '127.0.0.1'], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { PATH: process.env['PATH'], PARLEY_DATA_DIR: data, PARLEY_MODELS_DIR: data, PARLEY_LOG_LEVEL: 'error' },
      });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('close', (exit) => resolve({ code: exit, stderr: err }));
    });
    assert.equal(code, 1);
    const lines = stderr.split('\n').filter((l) => l.startsWith('parley serve: '));
    assert.deepEqual(lines, [`parley serve: 127.0.0.1:${port} is already in use (another server on that port?); choose another with --port or PORT`]);
    assert.doesNotMatch(stderr, /^\s+at /m, 'no stack');
  } finally {
    holder.close();
  }
});
