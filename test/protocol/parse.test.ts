import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../src/protocol/errors.js';
import { DEFAULT_CLIENT_LIMITS, nestsDeeperThan } from '../../src/protocol/limits.js';
import { parseClientMessage } from '../../src/protocol/parse.js';
import { MAX_URL_CHARS } from '../../src/protocol/client-schemas.js';

function parseError(text: string): ProtocolError {
  try {
    parseClientMessage(text);
  } catch (err) {
    assert.ok(err instanceof ProtocolError);
    return err;
  }
  assert.fail('expected a ProtocolError');
}

describe('parseClientMessage', () => {
  it('reports bad JSON as UNPARSABLE_CLIENT_MESSAGE', () => {
    const err = parseError('{"type": "Settings",');
    assert.equal(err.code, 'UNPARSABLE_CLIENT_MESSAGE');
    assert.match(err.message, /not valid JSON/);
  });

  it('names an unknown message type', () => {
    const err = parseError('{"type":"Dance"}');
    assert.equal(err.code, 'UNPARSABLE_CLIENT_MESSAGE');
    assert.match(err.message, /Unknown message type "Dance"/);
  });

  it('names the field and what was expected on a schema violation', () => {
    const err = parseError('{"type":"Settings","agent":{"think":{"provider":{"type":3}}}}');
    assert.equal(err.code, 'UNPARSABLE_CLIENT_MESSAGE');
    assert.match(err.message, /agent\.think\.provider\.type: expected string, received number/);
  });

  it('refuses an endpoint URL past MAX_URL_CHARS, naming the field, before any provider sees it', () => {
    const long = `https://example.com/${'/'.repeat(MAX_URL_CHARS)}`;
    const err = parseError(JSON.stringify({ type: 'Settings', agent: { think: { provider: { type: 'open_ai' }, endpoint: { url: long } } } }));
    assert.equal(err.code, 'UNPARSABLE_CLIENT_MESSAGE');
    assert.match(err.message, new RegExp(`agent\\.think\\.endpoint\\.url: a URL may have at most ${MAX_URL_CHARS} characters`));
    const fn = { name: 'f', endpoint: { url: long } };
    assert.match(parseError(JSON.stringify({ type: 'Settings', agent: { think: { provider: { type: 'open_ai' }, functions: [fn] } } })).message, /functions\.0\.endpoint\.url/);
  });

  it('rejects a message without a type', () => {
    assert.match(parseError('{"content":"hi"}').message, /type: expected a string/);
    assert.match(parseError('[1,2]').message, /JSON object/);
  });

  it('accepts the exact frames SDK 3.12.1, 4.11.3 and 5.13.0 sent', () => {
    const frames = [
      '{"type":"SettingsConfiguration","audio":{"input":{"encoding":"linear16","sample_rate":16000},"output":{"encoding":"linear16","container":"none","sample_rate":24000}},"agent":{"listen":{"model":"nova-3"},"think":{"provider":{"type":"open_ai"},"model":"gpt-4o-mini","instructions":"be brief"},"speak":{"model":"aura-asteria-en"}}}',
      '{"type":"UpdateInstructions","instructions":"new instr"}',
      '{"type":"UpdateSpeak","model":"aura-luna-en"}',
      '{"type":"InjectAgentMessage","message":"hello there"}',
      '{"type":"FunctionCallResponse","function_call_id":"fc1","output":"42"}',
      '{"type":"Settings","audio":{"input":{"encoding":"linear16","sample_rate":16000},"output":{"encoding":"linear16","sample_rate":24000,"container":"none"}},"agent":{"language":"en","listen":{"provider":{"type":"deepgram","model":"nova-3"}},"think":{"provider":{"type":"open_ai","model":"gpt-4o-mini"},"prompt":"be brief"},"speak":{"provider":{"type":"deepgram","model":"aura-2-thalia-en"}},"greeting":"Hi!"}}',
      '{"type":"KeepAlive"}',
      '{"type":"UpdatePrompt","prompt":"new prompt"}',
      '{"type":"UpdateSpeak","speak":{"provider":{"type":"deepgram","model":"aura-2-luna-en"}}}',
      '{"type":"InjectAgentMessage","content":"hello there"}',
      '{"type":"InjectUserMessage","content":"hi from user"}',
      '{"type":"FunctionCallResponse","id":"fc1","name":"get_weather","content":"42"}',
      '{"type":"UpdatePrompt","instructions":"go sdk key"}',
      '{"type":"ForceEndTurn"}',
      '{"type":"UpdateThink","think":[{"provider":{"type":"open_ai","model":"a"}},{"provider":{"type":"anthropic","model":"b"}}]}',
      '{"type":"UpdateListen","listen":{"provider":{"type":"deepgram","model":"nova-3"}}}',
    ];
    for (const frame of frames) {
      const message = parseClientMessage(frame);
      assert.equal(message.type, (JSON.parse(frame) as { type: string }).type);
    }
  });

  it('refuses a deep value with a readable error before anything recursive meets it', () => {
    const deep = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    // 20,000 levels once overflowed the stack (RangeError) past the parser.
    const err = parseError(`{"type":"Settings","agent":{"think":{"provider":{"type":"x"},"functions":[{"name":"f","parameters":${deep(20_000)}}]}}}`);
    assert.equal(err.code, 'UNPARSABLE_CLIENT_MESSAGE');
    assert.match(err.message, /more than 64 levels deep/);
    assert.equal(parseError(`{"type":"KeepAlive","x":${'['.repeat(65)}${']'.repeat(65)}}`).code, 'UNPARSABLE_CLIENT_MESSAGE');
    // The limit counts the message itself: 63 levels inside it make 64.
    assert.equal(parseClientMessage(`{"type":"KeepAlive","x":${'['.repeat(63)}${']'.repeat(63)}}`).type, 'KeepAlive');
    assert.equal(parseClientMessage('{"type":"KeepAlive","x":[[[1]]]}', 4).type, 'KeepAlive');
    assert.throws(() => parseClientMessage('{"type":"KeepAlive","x":[[[1]]]}', 3), ProtocolError);
  });

  it('counts no brackets inside strings, escaped quotes included', () => {
    const brackets = '[{'.repeat(DEFAULT_CLIENT_LIMITS.maxJsonDepth);
    assert.equal(parseClientMessage(JSON.stringify({ type: 'InjectUserMessage', content: `\\"${brackets}` })).type, 'InjectUserMessage');
    assert.equal(nestsDeeperThan('["\\\\",[["x"]]]', 2), true, 'an escaped backslash ends before the closing quote');
    assert.equal(nestsDeeperThan('["\\"[[",1]', 1), false, 'an escaped quote does not end the string');
  });
});
