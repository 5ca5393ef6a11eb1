/**
 * The per-message hot paths of a session: parsing client messages (zod schemas) and encoding
 * server events, each against plain JSON.parse / JSON.stringify measured in the same run; and
 * cutting streamed LLM text into sentences.
 */
import { parseClientMessage } from '../../src/protocol/parse.js';
import { encodeServerEvent } from '../../src/protocol/server-events.js';
import { SentenceSplitter } from '../../src/session/sentence-splitter.js';
import { measure, printTable } from '../harness.js';

const SETTINGS = JSON.stringify({
  type: 'Settings',
  audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 24000, container: 'none' } },
  agent: {
    listen: { provider: { type: 'deepgram', model: 'nova-3' } },
    think: {
      provider: { type: 'open_ai', model: 'gpt-4o-mini' },
      prompt: 'You are a helpful assistant. '.repeat(20),
      functions: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
    },
    speak: { provider: { type: 'deepgram', model: 'aura-2-thalia-en' } },
    greeting: 'Hello!',
  },
});
const KEEPALIVE = '{"type":"KeepAlive"}';
const FUNCTION_RESPONSE = '{"type":"FunctionCallResponse","id":"call_1","name":"get_weather","content":"sunny, 21 degrees"}';
const TEXT_EVENT = { type: 'ConversationText', role: 'assistant', content: 'The weather in Paris is sunny with a light breeze.' } as const;
const LLM_TEXT = 'Sure! The weather in Paris is sunny today, with a high of 21 degrees. Mr. Smith said it will rain tomorrow, around 3.5 mm. Do you want more? '.repeat(4);
const TOKENS = LLM_TEXT.match(/.{1,4}/gs) ?? [];

const REPEAT = 1000;

async function perMessage(fn: () => void): Promise<{ median: number; p95: number }> {
  const stats = await measure(() => {
    for (let i = 0; i < REPEAT; i++) fn();
  }, { runs: 30, warmup: 5 });
  return { median: (stats.median * 1000) / REPEAT, p95: (stats.p95 * 1000) / REPEAT };
}

export default async function (): Promise<void> {
  const rows = [];
  for (const [name, text] of [['Settings', SETTINGS], ['KeepAlive', KEEPALIVE], ['FunctionCallResponse', FUNCTION_RESPONSE]] as const) {
    const parsed = await perMessage(() => parseClientMessage(text));
    const baseline = await perMessage(() => JSON.parse(text) as unknown);
    rows.push({ path: `parse ${name}`, 'µs median': parsed.median, 'µs p95': parsed.p95, 'baseline µs': baseline.median, ratio: parsed.median / baseline.median });
  }
  const encoded = await perMessage(() => encodeServerEvent(TEXT_EVENT, 'v1'));
  const stringify = await perMessage(() => JSON.stringify(TEXT_EVENT));
  rows.push({ path: 'encode ConversationText', 'µs median': encoded.median, 'µs p95': encoded.p95, 'baseline µs': stringify.median, ratio: encoded.median / stringify.median });
  printTable('Protocol per message (baseline: plain JSON.parse / JSON.stringify of the same message)', rows);

  const split = await measure(() => {
    const splitter = new SentenceSplitter();
    for (const token of TOKENS) splitter.push(token);
    splitter.flush();
  }, { runs: 50, warmup: 5 });
  printTable(`Sentence splitter: ${TOKENS.length} streamed tokens (${LLM_TEXT.length} chars)`, [
    { path: 'split a reply', 'µs median': split.median * 1000, 'µs p95': split.p95 * 1000, 'µs per token': (split.median * 1000) / TOKENS.length },
  ]);
}
