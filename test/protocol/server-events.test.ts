import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeServerEvent } from '../../src/protocol/server-events.js';

const decode = (frames: string[]): unknown[] => frames.map((f) => JSON.parse(f) as unknown);

describe('encodeServerEvent', () => {
  it('uses V1 names and converts latency milliseconds to seconds', () => {
    assert.deepEqual(decode(encodeServerEvent({ type: 'Welcome', id: 'u' }, 'v1')), [{ type: 'Welcome', request_id: 'u' }]);
    assert.deepEqual(decode(encodeServerEvent({ type: 'AgentStartedSpeaking', totalMs: 1234, tttMs: 1000, ttsMs: 234 }, 'v1')), [
      { type: 'AgentStartedSpeaking', total_latency: 1.234, tts_latency: 0.234, ttt_latency: 1 },
    ]);
    assert.deepEqual(decode(encodeServerEvent({ type: 'LatencyReport', latency: { totalMs: 500, tttTokenMs: 120 } }, 'v1')), [
      { type: 'LatencyReport', ttt_token_latency: 0.12, total_latency: 0.5 },
    ]);
  });

  it('encodes function calls in V1 as one message with argument strings', () => {
    const frames = encodeServerEvent(
      { type: 'FunctionCallRequest', functions: [{ id: 'c1', name: 'f', arguments: '{"a":1}', clientSide: true }] },
      'v1',
    );
    assert.deepEqual(decode(frames), [{ type: 'FunctionCallRequest', functions: [{ id: 'c1', name: 'f', arguments: '{"a":1}', client_side: true }] }]);
  });

  it('encodes EA shapes: session_id, per-call requests with object input, Error message', () => {
    assert.deepEqual(decode(encodeServerEvent({ type: 'Welcome', id: 'u' }, 'ea')), [{ type: 'Welcome', session_id: 'u' }]);
    assert.deepEqual(
      decode(
        encodeServerEvent(
          {
            type: 'FunctionCallRequest',
            functions: [
              { id: 'c1', name: 'f', arguments: '{"a":1}', clientSide: true },
              { id: 'c2', name: 'g', arguments: '{}', clientSide: false },
            ],
          },
          'ea',
        ),
      ),
      [{ type: 'FunctionCallRequest', function_name: 'f', function_call_id: 'c1', input: { a: 1 } }],
    );
    assert.deepEqual(decode(encodeServerEvent({ type: 'Error', code: 'INVALID_SETTINGS', description: 'bad' }, 'ea')), [
      { type: 'Error', message: 'bad', code: 'INVALID_SETTINGS' },
    ]);
    assert.deepEqual(decode(encodeServerEvent({ type: 'PromptUpdated' }, 'ea')), [{ type: 'InstructionsUpdated' }]);
    assert.deepEqual(encodeServerEvent({ type: 'History', item: { kind: 'text', role: 'user', content: 'x' } }, 'ea'), []);
  });
});
