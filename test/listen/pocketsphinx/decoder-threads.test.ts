/**
 * Race: decoders loaded in several threads at once. sphinxbase logs to one FILE for the whole
 * process; when each decoder opened its own (`-logfn`), a load fclosed the log other threads were
 * writing to, and the process crashed or hung (CI: a test file killed by SIGSEGV while its server
 * warmed up).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import koffi from 'koffi';
import { SPHINXBASE_NAME } from '../../../src/listen/pocketsphinx/binding.js';
import { PocketsphinxDecoder } from '../../../src/listen/pocketsphinx/decoder.js';

it('a decoder leaves the process-wide log closed: loading one opens no file for it', () => {
  const decoder = PocketsphinxDecoder.load();
  decoder.free();
  const logFile = koffi.load(SPHINXBASE_NAME).func('void *err_get_logfp(void)') as () => unknown;
  assert.equal(logFile(), null);
});

it('race: decoders loaded and freed in eight threads at once neither crash nor hang the process', () => {
  const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./load-in-threads.ts', import.meta.url))], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(child.signal, null, `the process was ended by ${child.signal ?? ''}: ${child.stderr}`);
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stderr, '', 'pocketsphinx logged nothing');
});
