import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistoryItem } from '../../src/protocol/agent-config.js';
import type { ServerEvent } from '../../src/protocol/server-events.js';
import { AgentResponse } from '../../src/session/agent-response.js';
import { FunctionCalls } from '../../src/session/function-calls.js';
import { LatencyTracker } from '../../src/session/latency.js';
import { SpeakChain } from '../../src/session/speak-chain.js';
import { Utterance } from '../../src/session/utterance.js';
import type { AudioEncoder, PlayoutClockLike } from '../../src/session/utterance.js';
import type { PcmChunk, SpeakProvider } from '../../src/speak/types.js';
import type { ThinkEvent, ThinkProvider, ThinkRequest } from '../../src/think/types.js';

/** Says every sentence as 100 ms of audio, except those marked "(silent)", which make none. */
class MarkedVoice implements SpeakProvider {
  readonly label = 'marked';
  async *synthesize(text: string): AsyncGenerator<PcmChunk> {
    await Promise.resolve();
    if (!text.includes('(silent)')) yield { samples: new Int16Array(1600).fill(100), sampleRate: 16000 };
  }
}

/** Round one: three sentences (the middle one silent) and a tool call; round two: one sentence. */
class TwoRoundLlm implements ThinkProvider {
  readonly label = 'two-round';
  async *stream(request: ThinkRequest): AsyncIterable<ThinkEvent> {
    await Promise.resolve();
    if (request.messages.at(-1)?.role === 'tool') {
      yield { type: 'text', text: 'Done.' };
      return;
    }
    yield { type: 'text', text: 'Checking now. This one is (silent). Hold on please. ' };
    yield { type: 'tool_call', call: { id: 'call_1', name: 'look', arguments: '{}' } };
  }
}

const encoder: AudioEncoder = {
  bytesPerMs: 32,
  startUtterance: () => new Uint8Array(0),
  encode: (chunk) => new Uint8Array(chunk.samples.buffer),
  endUtterance: () => new Uint8Array(0),
};

/** The listener hears everything as soon as it is sent. */
function instantClock(): PlayoutClockLike {
  let sent = 0;
  return {
    startUtterance: () => undefined,
    enqueue: (bytes) => void (sent += bytes.length / 32),
    enqueueFrame: () => undefined,
    enqueueRaw: () => undefined,
    endUtterance: () => undefined,
    playedMs: () => sent,
    drained: () => Promise.resolve(),
    interrupt: () => sent,
    pause: () => undefined,
    resume: () => undefined,
  };
}

describe('heard sentences', () => {
  it('a sentence that made no audio does not shift what was heard onto later sentences, past a function call', async () => {
    const committed: HistoryItem[] = [];
    const events: ServerEvent[] = [];
    const functionCalls = new FunctionCalls({
      emit: (event) => {
        events.push(event);
        if (event.type === 'FunctionCallRequest') queueMicrotask(() => functionCalls.respond({ id: 'call_1', content: 'found' }));
      },
      warn: () => undefined,
      timeoutMs: 1000,
      maxResultBytes: 1024,
      fetch,
      sessionClosed: new AbortController().signal,
      completedLate: () => undefined,
    });
    const chain = new SpeakChain([new MarkedVoice()], () => undefined);
    const response = new AgentResponse(
      {
        emit: (event) => events.push(event),
        warn: () => undefined,
        fail: (error) => assert.fail(error.message),
        openUtterance: (callbacks) => new Utterance(chain, encoder, instantClock(), callbacks, 60_000),
        functionCalls,
        latency: new LatencyTracker(),
        commit: (items) => committed.push(...items),
      },
      { kind: 'think', providers: [new TwoRoundLlm()], messages: [{ role: 'user', content: 'look it up' }], functions: [{ name: 'look', description: '', parameters: {}, deferUntilEot: false }] },
    );
    await response.done;
    const shape = committed.map((item) => (item.kind === 'text' ? item.content : `[${item.calls.map((c) => c.name).join()}]`));
    assert.deepEqual(shape, ['Checking now. Hold on please.', '[look]', 'Done.']);
  });
});
