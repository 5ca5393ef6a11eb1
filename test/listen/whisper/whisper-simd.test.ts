import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lacksSimd, whisperSystemInfo } from '../../../src/listen/whisper/whisper-simd.js';

test('the installed whisper.cpp reports its CPU features, and this build has SIMD', () => {
  const info = whisperSystemInfo();
  assert.match(info ?? '', /AVX2 = \d/);
  // CI installs with SIMD flags (.ci/run); a build without them would be flagged at start-up.
  assert.equal(lacksSimd(info ?? ''), false);
  assert.equal(lacksSimd('AVX = 1 | AVX2 = 0 | FMA = 0 | F16C = 1'), process.arch === 'x64');
});
