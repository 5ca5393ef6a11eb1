import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRandomLlamaGguf } from '../../support/random-models/gguf.js';
import { LlamaEngine, llamaWorkerModule } from '../../../src/think/llama/llama-engine.js';
import type { LlamaEvent } from '../../../src/think/llama/llama-protocol.js';
import { WorkerPool, workerModuleUrl } from '../../../src/workers/worker-pool.js';
import { createLlamaThink } from '../../../src/think/llama/llama-think.js';
import { ProviderError } from '../../../src/core/errors.js';
import { silentLogger } from '../../../src/core/logger.js';
import type { ChatMessage, ThinkEvent, ThinkProvider, ToolDefinition } from '../../../src/think/types.js';
import type { ThinkSettings } from '../../../src/protocol/agent-config.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-llama-'));
const chattyPath = join(dir, 'chatty.gguf');
const callerPath = join(dir, 'caller.gguf');
let chatty: LlamaEngine;

const ctx = { env: {}, logger: silentLogger(), warn: () => undefined };
const settings = (extra: Record<string, unknown> = {}): ThinkSettings => ({
  provider: { type: 'llama', temperature: 0, ...extra },
  prompt: 'You are terse.',
  functions: [],
});
const ask = (text: string): ChatMessage[] => [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: text },
];

async function collect(provider: ThinkProvider, messages: ChatMessage[], tools: ToolDefinition[] = [], signal = new AbortController().signal): Promise<ThinkEvent[]> {
  const events: ThinkEvent[] = [];
  for await (const e of provider.stream({ messages, tools, signal })) events.push(e);
  return events;
}
const textOf = (events: readonly (ThinkEvent | LlamaEvent)[]): string =>
  events.map((e) => (e.type === 'text' ? e.text : '')).join('');

before(() => {
  writeRandomLlamaGguf(chattyPath, { favourite: 'Ġhello' });
  writeRandomLlamaGguf(callerPath, { favourite: '<function=', contextLength: 8192 });
  chatty = new LlamaEngine({ modelPath: chattyPath, contextSize: 1024, maxSessions: 2, threads: 1 });
});
after(() => chatty.close());

test('the random GGUF loads with prebuilt llama.cpp and maps to a function-calling chat wrapper', async () => {
  const info = await chatty.load();
  assert.equal(info.chatWrapper, 'Llama 3.1');
  assert.equal(info.trainContextSize, 2048);
});

test('a reply streams as several text deltas, then the provider frees its sequence', async () => {
  const think = createLlamaThink(settings({ max_tokens: 6 }), ctx, { engine: chatty });
  const events = await collect(think, ask('hello'));
  assert.ok(events.length >= 3, `expected streamed deltas, got ${events.length}`);
  assert.ok(events.every((e) => e.type === 'text'));
  assert.equal(textOf(events), ' hello'.repeat(6));
  think.close?.();
});

test('the second turn of a session reuses the KV cache of the first', async () => {
  const session = chatty.openSession();
  const signal = new AbortController().signal;
  const run = async (messages: ChatMessage[]): Promise<LlamaEvent[]> => {
    const out: LlamaEvent[] = [];
    for await (const e of session.generate({ messages, tools: [], signal, sampling: { temperature: 0, maxTokens: 4 } })) out.push(e);
    return out;
  };
  const first = await run(ask('what is the weather in paris today'));
  const reply = textOf(first);
  const second = await run([...ask('what is the weather in paris today'), { role: 'assistant', content: reply }, { role: 'user', content: 'thank you' }]);
  const usage = (events: LlamaEvent[]) => events.find((e) => e.type === 'usage');
  const firstIn = usage(first)?.type === 'usage' ? (usage(first) as { evaluatedInputTokens: number }).evaluatedInputTokens : 0;
  const secondIn = usage(second)?.type === 'usage' ? (usage(second) as { evaluatedInputTokens: number }).evaluatedInputTokens : Infinity;
  assert.ok(firstIn > 30, `first turn evaluated the whole prompt (${firstIn})`);
  assert.ok(secondIn < firstIn / 2, `second turn evaluated ${secondIn} new tokens, first ${firstIn}`);
  session.close();
});

test('aborting mid-stream stops the reply at once and the session stays usable', async () => {
  const think = createLlamaThink(settings({ max_tokens: 100_000 }), ctx, { engine: chatty });
  const controller = new AbortController();
  const seen: ThinkEvent[] = [];
  for await (const e of think.stream({ messages: ask('hello'), tools: [], signal: controller.signal })) {
    seen.push(e);
    if (seen.length === 3) controller.abort();
  }
  assert.equal(seen.length, 3, 'nothing is yielded after the abort');
  const again = createLlamaThink(settings({ max_tokens: 3 }), ctx, { engine: chatty });
  assert.equal(textOf(await collect(again, ask('again'))), ' hello'.repeat(3));
  think.close?.();
  again.close?.();
});

test('one session aborting, or failing for want of a slot, leaves another session generating', async () => {
  const a = chatty.openSession();
  const b = chatty.openSession();
  const c = chatty.openSession();
  const abortA = new AbortController();
  const runA = (async () => {
    let n = 0;
    for await (const _ of a.generate({ messages: ask('a'), tools: [], signal: abortA.signal, sampling: { temperature: 0, maxTokens: 10_000 } })) {
      if (++n === 2) abortA.abort();
    }
  })();
  let bStarted: () => void = () => undefined;
  const bRunning = new Promise<void>((resolve) => (bStarted = resolve));
  const runB = (async () => {
    const out: LlamaEvent[] = [];
    for await (const e of b.generate({ messages: ask('b'), tools: [], signal: new AbortController().signal, sampling: { temperature: 0, maxTokens: 12 } })) {
      out.push(e);
      bStarted();
    }
    return out;
  })();
  await assert.rejects(runA, { name: 'AbortError' });
  await bRunning;
  // a's sequence is held until a.close(), so with 2 slots c cannot get one; b is not disturbed.
  const runC = (async () => {
    for await (const _ of c.generate({ messages: ask('c'), tools: [], signal: new AbortController().signal })) void _;
  })();
  await assert.rejects(runC, /slots are in use/);
  assert.equal(textOf(await runB), ' hello'.repeat(12));
  a.close();
  b.close();
  c.close();
});

test('a native tool call is parsed by the chat wrapper and surfaces as a tool_call event', async () => {
  const engine = new LlamaEngine({ modelPath: callerPath, contextSize: 4096, maxSessions: 1, threads: 2 });
  try {
    const think = createLlamaThink(settings({ max_tokens: 64 }), ctx, { engine });
    const tools: ToolDefinition[] = [
      {
        name: 'get_weather',
        description: 'Get the weather in a city',
        parameters: { type: 'object', properties: { city: { type: 'string', enum: ['paris', 'oslo'] } }, required: ['city'], $schema: 'ignored' },
      },
    ];
    const events = await collect(think, ask('weather in paris?'), tools);
    const calls = events.filter((e) => e.type === 'tool_call');
    assert.equal(calls.length, 1);
    const call = calls[0]?.type === 'tool_call' ? calls[0].call : undefined;
    assert.equal(call?.name, 'get_weather');
    assert.match(call?.id ?? '', /^call_/);
    assert.ok(['paris', 'oslo'].includes((JSON.parse(call?.arguments ?? '{}') as { city: string }).city));
    think.close?.();
  } finally {
    await engine.close();
  }
});

test('a worker crash fails the running reply with ProviderError and the next reply works', async () => {
  const pool = new WorkerPool({
    name: 'llama-crash-test',
    modules: [llamaWorkerModule(), workerModuleUrl(import.meta.url, './crash-worker')],
    size: 1,
    jobsPerWorker: 4,
    isolation: 'process',
  });
  const engine = new LlamaEngine({ modelPath: chattyPath, contextSize: 512, maxSessions: 2, threads: 1, pool });
  try {
    const think = createLlamaThink(settings({ max_tokens: 100_000 }), ctx, { engine });
    const running = (async () => {
      let n = 0;
      for await (const _ of think.stream({ messages: ask('hello'), tools: [], signal: new AbortController().signal })) {
        if (++n === 2) void pool.request('test.crash', {}).catch(() => undefined);
      }
    })();
    await assert.rejects(running, (err: unknown) => err instanceof ProviderError && /crashed/.test(err.message));
    const again = createLlamaThink(settings({ max_tokens: 2 }), ctx, { engine });
    assert.equal(textOf(await collect(again, ask('hi'))), ' hello'.repeat(2));
    think.close?.();
    again.close?.();
  } finally {
    await engine.close();
    await pool.close();
  }
});
