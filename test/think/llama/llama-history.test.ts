import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toGrammarSchema, toLlamaFunctions, toLlamaHistory } from '../../../src/think/llama/llama-history.js';

test('tool calls and their results fold into the model turn, which the next reply continues', () => {
  const history = toLlamaHistory([
    { role: 'system', content: 'sys' },
    { role: 'user', content: 'weather?' },
    { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'get_weather', arguments: '{"city":"oslo"}' }] },
    { role: 'tool', toolCallId: 'c1', name: 'get_weather', content: '{"temp":3}' },
  ]);
  assert.deepEqual(history, [
    { type: 'system', text: 'sys' },
    { type: 'user', text: 'weather?' },
    { type: 'model', response: [{ type: 'functionCall', name: 'get_weather', params: { city: 'oslo' }, result: { temp: 3 } }] },
  ]);
});

test('a plain conversation ends with an empty model turn to generate', () => {
  const history = toLlamaHistory([
    { role: 'user', content: 'hi' },
    { role: 'assistant', content: 'hello' },
    { role: 'user', content: 'bye' },
  ]);
  assert.deepEqual(history.at(-1), { type: 'model', response: [] });
  assert.deepEqual(history[1], { type: 'model', response: ['hello'] });
});

test('tool schemas keep only what the grammar builder knows; tools without properties take no params', () => {
  assert.deepEqual(toGrammarSchema({ type: 'object', $schema: 'x', properties: { a: { anyOf: [{ type: 'string', pattern: 'x' }] } } }), {
    type: 'object',
    properties: { a: { oneOf: [{ type: 'string' }] } },
  });
  assert.deepEqual(toLlamaFunctions([{ name: 'now', description: 'time', parameters: { type: 'object', properties: {} } }]), {
    now: { description: 'time' },
  });
  assert.equal(toLlamaFunctions([]), undefined);
});
