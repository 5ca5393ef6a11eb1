import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectNeuralModels } from '../../src/models/detect.js';
import { modelsDir } from '../../src/models/cache-dir.js';
import { suggestPull } from '../../src/models/suggest.js';

const scratch = (): string => mkdtempSync(join(tmpdir(), 'parley-detect-'));

test('an empty cache dir has no neural models, and start-up gets a pull hint', () => {
  const dir = scratch();
  assert.deepEqual(detectNeuralModels({ PARLEY_MODELS_DIR: dir }), {});
  const lines: string[] = [];
  assert.equal(suggestPull({ PARLEY_MODELS_DIR: dir }, (l) => lines.push(l)), true);
  assert.match(lines[0] ?? '', /parley models pull/);
});

test('models in the cache dir are found per role; partial downloads are ignored', () => {
  const dir = scratch();
  writeFileSync(join(dir, 'ggml-tiny.en.bin'), 'x');
  writeFileSync(join(dir, 'other.gguf.partial'), 'x');
  writeFileSync(join(dir, 'my-model.gguf'), 'x');
  mkdirSync(join(dir, 'voice', 'espeak-ng-data'), { recursive: true });
  writeFileSync(join(dir, 'voice', 'en.onnx'), 'x');
  writeFileSync(join(dir, 'voice', 'tokens.txt'), 'x');
  const found = detectNeuralModels({ PARLEY_MODELS_DIR: dir });
  assert.equal(found.stt, join(dir, 'ggml-tiny.en.bin'));
  assert.equal(found.llm, join(dir, 'my-model.gguf'));
  assert.deepEqual(found.tts, {
    kind: 'vits',
    model: join(dir, 'voice', 'en.onnx'),
    tokens: join(dir, 'voice', 'tokens.txt'),
    dataDir: join(dir, 'voice', 'espeak-ng-data'),
  });
  assert.equal(suggestPull({ PARLEY_MODELS_DIR: dir }, () => assert.fail('no hint expected')), false);
});

test('explicit model paths win over the cache dir', () => {
  const dir = scratch();
  writeFileSync(join(dir, 'a.gguf'), 'x');
  const other = join(scratch(), 'b.gguf');
  writeFileSync(other, 'x');
  assert.equal(detectNeuralModels({ PARLEY_MODELS_DIR: dir, PARLEY_LLM_MODEL: other }).llm, other);
  assert.equal(detectNeuralModels({ PARLEY_MODELS_DIR: dir, PARLEY_LLM_MODEL: join(dir, 'missing.gguf') }).llm, undefined);
});

test('the default cache dir is under the user cache', () => {
  assert.equal(modelsDir({ XDG_CACHE_HOME: '/c' }), '/c/parley/models');
  assert.equal(modelsDir({ PARLEY_MODELS_DIR: '/m' }), '/m');
});
