import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentConfig } from '../../src/protocol/agent-config.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { DEFAULT_CLIENT_LIMITS } from '../../src/protocol/limits.js';
import { MAX_PROMPT_CHARS, normalizeEaSettings, normalizeThink, normalizeV1Settings } from '../../src/protocol/normalize.js';
import { parseClientMessage } from '../../src/protocol/parse.js';

function v1(settings: Record<string, unknown>) {
  const message = parseClientMessage(JSON.stringify({ type: 'Settings', ...settings }));
  assert.equal(message.type, 'Settings');
  return normalizeV1Settings(message.settings);
}

function invalid(settings: Record<string, unknown>): ProtocolError {
  try {
    v1(settings);
  } catch (err) {
    assert.ok(err instanceof ProtocolError);
    return err;
  }
  assert.fail('expected INVALID_SETTINGS');
}

describe('normalizeV1Settings', () => {
  it('fills the documented defaults', () => {
    const { value } = v1({ agent: {} });
    assert.deepEqual(value.input, { encoding: 'linear16', sampleRate: 24000 });
    assert.deepEqual(value.output, { encoding: 'linear16', sampleRate: 24000, container: 'none' });
    assert.equal(value.think.length, 1);
    assert.equal(value.think[0]?.provider.type, 'open_ai');
    assert.equal(value.historyEvents, true);
  });

  it('accepts SDK quirks: language object, top-level greeting, mips_opt_out, nested flags', () => {
    const { value } = v1({
      mips_opt_out: true,
      greeting: 'Hello from the top level',
      settings: { flags: { history: false } },
      agent: { language: { type: 'es' } },
    });
    assert.equal(value.language, 'es');
    assert.equal(value.greeting, 'Hello from the top level');
    assert.equal(value.historyEvents, false);
  });

  it('turns EA function fields on V1 into an endpoint with lower-case headers', () => {
    const { value } = v1({
      agent: {
        think: {
          provider: { type: 'open_ai', model: 'm' },
          functions: [
            { name: 'book', description: 'd', url: 'https://example.test/book', headers: [{ key: 'Authorization', value: 'Bearer x' }] },
            { name: 'client_fn', parameters: { type: 'object', properties: {} }, defer_until_eot: true },
          ],
        },
      },
    });
    const [book, clientFn] = value.think[0]?.functions ?? [];
    assert.deepEqual(book?.endpoint, { url: 'https://example.test/book', method: 'POST', headers: { authorization: 'Bearer x' } });
    assert.equal(clientFn?.endpoint, undefined);
    assert.equal(clientFn?.deferUntilEot, true);
  });

  it('keeps think and speak arrays as ordered fallback chains', () => {
    const { value } = v1({
      agent: {
        think: [{ provider: { type: 'a' } }, { provider: { type: 'b' } }],
        speak: [{ provider: { type: 'c' } }, { provider: { type: 'd' } }],
      },
    });
    assert.deepEqual(value.think.map((t) => t.provider.type), ['a', 'b']);
    assert.deepEqual(value.speak.map((s) => s.provider.type), ['c', 'd']);
  });

  it('rejects unsupported audio with INVALID_SETTINGS naming the field', () => {
    assert.match(invalid({ agent: {}, audio: { input: { encoding: 'speex', sample_rate: 16000 } } }).message, /audio\.input\.encoding "speex"/);
    assert.match(invalid({ agent: {}, audio: { input: { encoding: 'linear16', sample_rate: 4000 } } }).message, /audio\.input\.sample_rate 4000/);
    assert.match(invalid({ agent: {}, audio: { output: { encoding: 'mulaw', sample_rate: 24000 } } }).message, /not available for mulaw/);
    assert.match(invalid({ agent: {}, audio: { output: { encoding: 'aac' } } }).message, /audio\.output\.encoding "aac"/);
    assert.equal(invalid({ agent: {}, audio: { output: { container: 'ogg' } } }).code, 'INVALID_SETTINGS');
  });

  it('accepts every encoding of the protocol this server decodes or encodes, with the TTS table\'s rates and bitrates', () => {
    const audio = (input: object, output: object): AgentConfig => v1({ agent: {}, audio: { input, output } }).value;
    for (const encoding of ['linear32', 'flac', 'opus', 'ogg-opus']) assert.equal(audio({ encoding, sample_rate: 16000 }, {}).input.encoding, encoding);
    assert.deepEqual(audio({}, { encoding: 'opus' }).output, { encoding: 'opus', sampleRate: 48000, container: 'ogg', bitrate: 12000 });
    assert.deepEqual(audio({}, { encoding: 'mp3', bitrate: 32000, container: 'none' }).output, { encoding: 'mp3', sampleRate: 22050, container: 'none', bitrate: 32000 });
    assert.deepEqual(audio({}, { encoding: 'flac', sample_rate: 22050 }).output, { encoding: 'flac', sampleRate: 22050, container: 'none' });
    assert.equal(audio({ echo_suppression: true }, {}).input.echoSuppression, true);
    assert.equal(audio({}, {}).input.echoSuppression, undefined);
  });

  it('names what this server supports when a client asks for an encoding it does not have', () => {
    for (const encoding of ['amr-nb', 'amr-wb', 'speex', 'g729']) {
      const error = invalid({ agent: {}, audio: { input: { encoding, sample_rate: 8000 } } });
      assert.equal(error.code, 'INVALID_SETTINGS');
      assert.match(error.message, new RegExp(`"${encoding}" is not supported by this server \\(supported: linear16, linear32, mulaw, alaw, flac, opus, ogg-opus\\)`));
    }
    assert.match(invalid({ agent: {}, audio: { output: { encoding: 'aac' } } }).message, /\(supported: linear16, mulaw, alaw, opus, mp3, flac\)/);
    assert.match(invalid({ agent: {}, audio: { output: { encoding: 'opus', sample_rate: 24000 } } }).message, /not available for opus \(48000\)/);
    assert.match(invalid({ agent: {}, audio: { output: { encoding: 'mp3', sample_rate: 24000 } } }).message, /not available for mp3 \(22050\)/);
    assert.match(invalid({ agent: {}, audio: { output: { encoding: 'mp3', bitrate: 64000 } } }).message, /bitrate 64000 is not available for mp3 \(32000 or 48000 bps\)/);
    assert.match(invalid({ agent: {}, audio: { output: { encoding: 'opus', bitrate: 700000 } } }).message, /4000 to 650000 bps/);
    assert.match(invalid({ agent: {}, audio: { output: { encoding: 'flac', sample_rate: 24000 } } }).message, /not available for flac \(8000, 16000, 22050, 32000, 48000\)/);
    assert.match(invalid({ agent: {}, audio: { output: { encoding: 'mp3', container: 'wav' } } }).message, /container "wav" is not supported for mp3/);
  });

  it('rejects duplicate function names and bad endpoint URLs', () => {
    const fn = { name: 'same', description: '' };
    assert.match(invalid({ agent: { think: { provider: { type: 'x' }, functions: [fn, fn] } } }).message, /defined twice/);
    assert.match(
      invalid({ agent: { think: { provider: { type: 'x' }, functions: [{ name: 'f', endpoint: { url: 'nope' } }] } } }).message,
      /not a valid URL/,
    );
  });

  it('reports a saved agent id as AGENT_ID_NOT_SUPPORTED', () => {
    assert.equal(invalid({ agent: '3f1c8d3e-0000-4000-8000-000000000000' }).code, 'AGENT_ID_NOT_SUPPORTED');
  });

  it('truncates an overlong prompt with PROMPT_TOO_LONG', () => {
    const { value, warnings } = v1({ agent: { think: { provider: { type: 'x' }, prompt: 'a'.repeat(MAX_PROMPT_CHARS + 10) } } });
    assert.equal(value.think[0]?.prompt.length, MAX_PROMPT_CHARS);
    assert.equal(warnings[0]?.code, 'PROMPT_TOO_LONG');
  });

  it('preloads context messages including function calls', () => {
    const { value } = v1({
      agent: {
        context: {
          messages: [
            { type: 'History', role: 'user', content: 'hi' },
            { type: 'History', function_calls: [{ id: '1', name: 'f', client_side: true, arguments: '{}', response: 'ok' }] },
          ],
        },
      },
    });
    assert.deepEqual(value.context[0], { kind: 'text', role: 'user', content: 'hi' });
    assert.equal(value.context[1]?.kind, 'functions');
  });
});

describe('limits inside settings', () => {
  const fns = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `f${i}` }));

  it('refuses more functions than the limit with INVALID_SETTINGS naming the count', () => {
    const { maxFunctions } = DEFAULT_CLIENT_LIMITS;
    assert.equal(v1({ agent: { think: { provider: { type: 'x' }, functions: fns(maxFunctions) } } }).value.think[0]?.functions.length, maxFunctions);
    const err = invalid({ agent: { think: { provider: { type: 'x' }, functions: fns(maxFunctions + 1) } } });
    assert.equal(err.code, 'INVALID_SETTINGS');
    assert.match(err.message, new RegExp(`agent\\.think\\.functions defines ${maxFunctions + 1} functions; at most ${maxFunctions}`));
    assert.throws(() => normalizeThink([{ provider: { type: 'x' } }, { provider: { type: 'x' }, functions: fns(3) }], 'think', 2), /think\[1\]\.functions defines 3/);
    const ea = parseClientMessage(JSON.stringify({ type: 'SettingsConfiguration', agent: { think: { provider: { type: 'x' }, functions: fns(3) } } }));
    assert.equal(ea.type, 'SettingsConfiguration');
    assert.throws(() => normalizeEaSettings(ea.settings, { maxFunctions: 2 }), (e: unknown) => e instanceof ProtocolError && e.code === 'INVALID_SETTINGS');
  });

  it('cuts a greeting over the limit with PROMPT_TOO_LONG, keeping surrogate pairs whole', () => {
    const message = parseClientMessage(JSON.stringify({ type: 'Settings', agent: { greeting: `${'a'.repeat(9)}🎉🎉` } }));
    assert.equal(message.type, 'Settings');
    const { value, warnings } = normalizeV1Settings(message.settings, { maxFunctions: 1, maxInjectChars: 10 });
    assert.equal(value.greeting, 'a'.repeat(9), 'half an emoji is not kept');
    assert.deepEqual(warnings, [{ code: 'PROMPT_TOO_LONG', description: 'The greeting has 13 characters; only the first 10 are used.' }]);
    assert.deepEqual(normalizeV1Settings(message.settings, { maxFunctions: 1, maxInjectChars: 13 }).warnings, []);
  });
});

describe('normalizeEaSettings', () => {
  it('maps EA custom LLMs, listen and speak models, and context replay', () => {
    const message = parseClientMessage(
      JSON.stringify({
        type: 'SettingsConfiguration',
        audio: { input: { encoding: 'mulaw', sample_rate: 8000 }, output: { encoding: 'mulaw', sample_rate: 8000, container: 'none' } },
        agent: {
          listen: { model: 'nova-3' },
          think: { provider: { type: 'custom', url: 'https://llm.test/v1/chat/completions', key: 'k' }, model: 'm', instructions: 'be kind' },
          speak: { model: 'aura-luna-en' },
        },
        context: { messages: [{ role: 'assistant', content: 'Welcome back!' }], replay: true },
      }),
    );
    assert.equal(message.type, 'SettingsConfiguration');
    const { value } = normalizeEaSettings(message.settings);
    assert.equal(value.dialect, 'ea');
    assert.deepEqual(value.input, { encoding: 'mulaw', sampleRate: 8000 });
    assert.equal(value.think[0]?.provider.type, 'open_ai');
    assert.deepEqual(value.think[0]?.endpoint, { url: 'https://llm.test/v1/chat/completions', headers: { authorization: 'Bearer k' } });
    assert.equal(value.think[0]?.prompt, 'be kind');
    assert.equal(value.listen.provider.model, 'nova-3');
    assert.equal(value.speak[0]?.provider.model, 'aura-luna-en');
    assert.equal(value.replay, true);
  });
});
