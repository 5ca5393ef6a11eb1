import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ERROR_CODES, WARNING_CODES } from '../../src/protocol/codes.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { DEFAULT_CLIENT_LIMITS, nestsDeeperThan } from '../../src/protocol/limits.js';
import { normalizeEaSettings, normalizeListen, normalizeSpeak, normalizeThink, normalizeV1Settings } from '../../src/protocol/normalize.js';
import { parseClientMessage } from '../../src/protocol/parse.js';
import type { ClientMessage } from '../../src/protocol/parse.js';
import { assertCodedEvents, assertNoPollution, fuzzParameters, textFrame } from './support.js';

/** Parse and normalize as the server does; what comes out must survive cloning and encoding. */
function process(text: string): { warnings: string[] } {
  const message: ClientMessage = parseClientMessage(text);
  const limits = DEFAULT_CLIENT_LIMITS;
  let result: unknown = message;
  const warnings: string[] = [];
  if (message.type === 'Settings' || message.type === 'SettingsConfiguration') {
    const normalized = message.type === 'Settings' ? normalizeV1Settings(message.settings, limits) : normalizeEaSettings(message.settings, limits);
    warnings.push(...normalized.warnings.map((w) => w.code));
    result = normalized.value;
  } else if (message.type === 'UpdateThink') {
    const normalized = normalizeThink(message.body.think, 'think', limits.maxFunctions);
    warnings.push(...normalized.warnings.map((w) => w.code));
    result = normalized.value;
  } else if (message.type === 'UpdateSpeak' && message.body.speak !== undefined) {
    result = normalizeSpeak(message.body.speak, 'speak');
  } else if (message.type === 'UpdateListen') {
    result = normalizeListen(message.body.listen);
  }
  // Workers get values by structured clone and providers by JSON: neither may overflow.
  structuredClone(result);
  JSON.stringify(result);
  return { warnings };
}

describe('fuzz: parser and normalizer', () => {
  it('answer every text frame with a value or a coded, readable ProtocolError', () => {
    fc.assert(
      fc.property(textFrame, (text) => {
        try {
          const { warnings } = process(text);
          for (const code of warnings) assert.ok((WARNING_CODES as readonly string[]).includes(code));
          assert.ok(!nestsDeeperThan(text, DEFAULT_CLIENT_LIMITS.maxJsonDepth), 'a message over the depth limit was accepted');
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
          assert.ok((ERROR_CODES as readonly string[]).includes(err.code));
          assertCodedEvents([{ type: 'Error', code: err.code, description: err.message }]);
          if (nestsDeeperThan(text, DEFAULT_CLIENT_LIMITS.maxJsonDepth)) assert.match(err.message, /levels deep/);
        }
        assertNoPollution();
      }),
      fuzzParameters(2 / 3),
    );
  });
});
