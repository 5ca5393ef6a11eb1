import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyProviders } from '../../src/session/provider-registry.js';
import { canAuthenticate, hasManagedKey } from '../../src/providers/keys.js';
import { registerCloudProviders } from '../../src/runtime/cloud-providers.js';

test('registerCloudProviders registers every cloud provider type per seam', () => {
  const providers = emptyProviders();
  registerCloudProviders(providers);
  assert.deepEqual(providers.think.types(), ['anthropic', 'aws_bedrock', 'google', 'groq', 'open_ai', 'x_ai']);
  assert.deepEqual(providers.speak.types(), ['aws_polly', 'cartesia', 'deepgram', 'eleven_labs', 'open_ai']);
  assert.deepEqual(providers.listen.types(), ['deepgram', 'open_ai']);
});

test('hasManagedKey and canAuthenticate tell a usable managed provider from one without a key', () => {
  assert.equal(hasManagedKey('open_ai', {}), false);
  assert.equal(hasManagedKey('open_ai', { OPENAI_API_KEY: 'x' }), true);
  assert.equal(hasManagedKey('google', { GEMINI_API_KEY: 'x' }), true);
  assert.equal(hasManagedKey('aws_bedrock', { AWS_ACCESS_KEY_ID: 'a' }), false);
  assert.equal(hasManagedKey('unknown', { OPENAI_API_KEY: 'x' }), false);
  assert.equal(canAuthenticate({ provider: { type: 'open_ai' }, endpoint: { url: 'http://localhost:11434/v1/chat/completions', headers: {} } }, {}), true);
  assert.equal(canAuthenticate({ provider: { type: 'open_ai' }, endpoint: { url: 'https://api.openai.com/v1/chat/completions', headers: {} } }, {}), false);
  assert.equal(canAuthenticate({ provider: { type: 'anthropic' }, endpoint: { url: 'https://api.anthropic.com', headers: { 'x-api-key': 'k' } } }, {}), true);
});
