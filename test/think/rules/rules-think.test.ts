import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRulesThink, loadRules, rulesGrammarFor, RulesThinkProvider } from '../../../src/think/rules/rules-think.js';
import { compileRulesGrammar } from '../../../src/think/rules/rules-grammar.js';
import { createLocalListenFactory } from '../../../src/listen/pocketsphinx/pocketsphinx-listen.js';
import { createFliteSpeak } from '../../../src/speak/flite/flite-speak.js';
import { closeClassicPools } from '../../../src/runtime/classic-pools.js';
import { silentLogger } from '../../../src/core/logger.js';
import type { ProviderContext } from '../../../src/core/provider-context.js';
import type { ThinkSettings } from '../../../src/protocol/agent-config.js';
import type { ChatMessage, ThinkEvent, ThinkProvider, ToolDefinition } from '../../../src/think/types.js';
import { concat, listenTo, silence } from '../../listen/pocketsphinx/pocketsphinx-listen-support.js';

after(closeClassicPools);

const context = (env: Record<string, string> = {}): ProviderContext => ({ env, logger: silentLogger(), warn: () => {} });
const settings = (provider: Record<string, unknown> = {}): ThinkSettings => ({
  provider: { type: 'rules', ...provider },
  prompt: '',
  functions: [],
});
const GET_WEATHER: ToolDefinition = {
  name: 'get_weather',
  description: 'Current weather of a city',
  parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
};

async function think(provider: ThinkProvider, messages: ChatMessage[], tools: ToolDefinition[] = []): Promise<ThinkEvent[]> {
  const events: ThinkEvent[] = [];
  for await (const event of provider.stream({ messages, tools, signal: new AbortController().signal })) events.push(event);
  return events;
}

async function say(provider: ThinkProvider, text: string): Promise<string> {
  const [event] = await think(provider, [{ role: 'user', content: text }]);
  assert.ok(event?.type === 'text');
  return event.text;
}

test('the default rules answer greetings, time, date, capabilities and goodbye', async () => {
  const at = new Date(2024, 2, 5, 15, 7);
  const rules = new RulesThinkProvider(loadRules(settings(), context()), () => at);
  assert.match(await say(rules, 'Hello there!'), /hello|hi/i);
  assert.equal(await say(rules, 'so what time is it now'), 'It is 3:07 PM.');
  assert.equal(await say(rules, 'what is the date today'), 'Today is Tuesday, March 5, 2024.');
  assert.match(await say(rules, 'what can you do'), /time.*date.*weather.*sum.*joke/);
  assert.match(await say(rules, 'ok goodbye'), /bye/i);
  assert.match(await say(rules, 'colorless green ideas sleep furiously'), /not/i, 'fallback');
  assert.match(await say(rules, 'white'), /not/i, 'a pattern word inside another word does not match ("hi")');
});

test('a function-calling intent emits a tool call with its slot, then speaks the result', async () => {
  const rules = createRulesThink(settings(), context());
  const user: ChatMessage = { role: 'user', content: "What's the weather like in New York?" };
  const [call] = await think(rules, [{ role: 'system', content: 'be nice' }, user], [GET_WEATHER]);
  assert.ok(call?.type === 'tool_call');
  assert.equal(call.call.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.call.arguments), { location: 'new york' });
  const events = await think(
    rules,
    [
      user,
      { role: 'assistant', content: '', toolCalls: [call.call] },
      { role: 'tool', toolCallId: call.call.id, name: 'get_weather', content: '{"temperature_c": 18, "conditions": "light rain"}' },
    ],
    [GET_WEATHER],
  );
  assert.deepEqual(events, [{ type: 'text', text: 'Here is the weather in new york: temperature c 18, conditions light rain.' }]);
});

test('without the function among the tools, the intent says it cannot look it up', async () => {
  const text = await say(createRulesThink(settings(), context()), 'how is the weather in paris');
  assert.match(text, /weather in paris.*no way to look it up/);
});

test('inline rules replace the file, fill {result.field}, and are validated', async () => {
  const inline = {
    fallback: ['Pardon?'],
    intents: [
      { name: 'order', patterns: ['order {count} pizzas', 'i want {count} pizzas'], responses: ['Ordering {count} pizzas.'] },
      {
        name: 'balance',
        patterns: ['my balance'],
        call: { function: 'get_balance', arguments: { currency: 'EUR' } },
        responses: ['You have {result.amount} euros.'],
      },
    ],
  };
  const rules = createRulesThink(settings({ rules: inline }), context());
  assert.equal(await say(rules, 'I want three large pizzas'), 'Ordering three large pizzas.', 'an open slot takes a run of words');
  assert.equal(await say(rules, 'I want pizzas'), 'Pardon?', 'an open slot needs a word');
  assert.equal(await say(rules, 'please order twelve pizzas'), 'Ordering twelve pizzas.');
  const tool: ToolDefinition = { name: 'get_balance', description: '', parameters: {} };
  const user: ChatMessage = { role: 'user', content: 'what is my balance' };
  const [call] = await think(rules, [user], [tool]);
  assert.ok(call?.type === 'tool_call');
  assert.deepEqual(JSON.parse(call.call.arguments), { currency: 'EUR' });
  const [answer] = await think(rules, [user, { role: 'assistant', content: '', toolCalls: [call.call] }, { role: 'tool', toolCallId: call.call.id, name: 'get_balance', content: '{"amount": 42.5}' }], [tool]);
  assert.deepEqual(answer, { type: 'text', text: 'You have 42.5 euros.' });
  assert.throws(() => createRulesThink(settings({ rules: { fallback: [], intents: [] } }), context()), { code: 'INVALID_SETTINGS' });
});

test('PARLEY_RULES_FILE names the server rules file; a broken one is a ProviderError', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-rules-'));
  const file = join(dir, 'rules.json');
  writeFileSync(file, JSON.stringify({ fallback: ['Nope.'], intents: [{ name: 'ping', patterns: ['ping'], responses: ['Pong.'] }] }));
  assert.equal(await say(createRulesThink(settings(), context({ PARLEY_RULES_FILE: file })), 'ping'), 'Pong.');
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{ "fallback": ');
  assert.throws(() => createRulesThink(settings(), context({ PARLEY_RULES_FILE: broken })), { name: 'ProviderError' });
});

test('an aborted request yields nothing', async () => {
  const controller = new AbortController();
  controller.abort();
  const events: ThinkEvent[] = [];
  for await (const event of createRulesThink(settings(), context()).stream({
    messages: [{ role: 'user', content: 'hello' }],
    tools: [],
    signal: controller.signal,
  })) {
    events.push(event);
  }
  assert.deepEqual(events, []);
});

test('the rules grammar lists every pattern with its slot words', () => {
  const grammar = compileRulesGrammar(loadRules(settings(), context()));
  assert.match(grammar, /^#JSGF V1\.0;/);
  assert.match(grammar, /\( what is the weather like in <slot_city> \)/);
  assert.match(grammar, /<slot_city> = amsterdam \| berlin .*\| new york \|/);
  assert.equal(rulesGrammarFor(settings({ rules: { grammar: false, fallback: ['x'], intents: [{ name: 'a', patterns: ['a'], responses: ['b'] }] } }), context()), undefined);
});

test('spoken questions, recognized with the rules grammar, reach the right intent', async () => {
  const ctx = context();
  const grammar = rulesGrammarFor(settings(), ctx);
  assert.ok(grammar !== undefined);
  const listen = createLocalListenFactory({ grammar })({ provider: { type: 'local' } }, ctx);
  const voice = createFliteSpeak({ provider: { type: 'flite', voice: 'slt' } }, ctx);
  const rules = createRulesThink(settings(), ctx);
  for (const [question, expected] of [
    ['What is the weather like in San Francisco?', 'san francisco'],
    ['What time is it?', 'It is'],
    ['What is seven plus six?', 'is 13'],
  ] as const) {
    const chunks: Int16Array[] = [];
    for await (const chunk of voice.synthesize(question, new AbortController().signal)) chunks.push(chunk.samples);
    const heard = await listenTo(listen, concat([silence(400), ...chunks, silence(1200)]));
    const events = await think(rules, [{ role: 'user', content: heard.turns.join(' ') }], [GET_WEATHER]);
    const said = events[0]?.type === 'tool_call' ? events[0].call.arguments : events[0]?.type === 'text' ? events[0].text : '';
    assert.ok(said.includes(expected), `heard "${heard.turns.join(' ')}", replied ${said}`);
  }
});

test('the default rules work out sums of spoken or written numbers up to a hundred', async () => {
  const rules = createRulesThink(settings(), context());
  assert.equal(await say(rules, 'What is two plus two?'), 'two plus two is 4.');
  assert.equal(await say(rules, 'twenty one times three'), 'twenty one times three is 63.');
  assert.equal(await say(rules, 'how much is seven divided by two'), 'seven divided by two is 3.5.');
  assert.equal(await say(rules, 'calculate one hundred minus ninety nine'), 'one hundred minus ninety nine is 1.');
  assert.equal(await say(rules, 'what is five minus nine'), 'five minus nine is minus 4.');
  assert.equal(await say(rules, 'what is 12 multiplied by 3'), '12 multiplied by 3 is 36.');
  assert.equal(await say(rules, 'one divided by three'), 'one divided by three is 0.33.');
  assert.match(await say(rules, 'what is eight divided by zero'), /dividing by zero/, 'no answer: the intent says it cannot');
  assert.match(await say(rules, 'what is two hundred plus one'), /not/i, 'past a hundred is not a number slot: fallback');
});

test('the default rules tell a joke and repeat the last reply, all its sentences', async () => {
  const rules = createRulesThink(settings(), context());
  assert.match(await say(rules, 'tell me a joke'), /\?|\./);
  const [repeat] = await think(rules, [
    { role: 'assistant', content: 'Hello!' },
    { role: 'user', content: 'what time is it' },
    { role: 'assistant', content: 'It is noon.' },
    { role: 'assistant', content: 'Anything else?' },
    { role: 'user', content: 'sorry, can you repeat that' },
  ]);
  assert.deepEqual(repeat, { type: 'text', text: 'It is noon. Anything else?' });
  assert.match(await say(rules, 'say that again'), /not said anything yet/, 'nothing to repeat');
});

test('PROMPT_IGNORED: a rules provider given a prompt warns once; an empty prompt never', async () => {
  const warnings: string[] = [];
  const ctx: ProviderContext = { env: {}, logger: silentLogger(), warn: (n) => warnings.push(n.code) };
  const prompted = createRulesThink({ ...settings(), prompt: 'You are a dental receptionist.' }, ctx);
  assert.deepEqual(warnings, ['PROMPT_IGNORED']);
  await think(prompted, [{ role: 'system', content: 'You are a dental receptionist.' }, { role: 'user', content: 'hello' }]);
  assert.deepEqual(warnings, ['PROMPT_IGNORED'], 'not again on each turn');

  warnings.length = 0;
  const plain = createRulesThink({ ...settings(), prompt: '  ' }, ctx);
  await think(plain, [{ role: 'user', content: 'hello' }]);
  assert.deepEqual(warnings, []);
  await think(plain, [{ role: 'system', content: 'Talk about teeth.' }, { role: 'user', content: 'hello' }]);
  assert.deepEqual(warnings, ['PROMPT_IGNORED'], 'a prompt added later (UpdatePrompt) is named at the next reply');
});

test('number slots enter the grammar as words only; patterns and slot words it cannot hold are left out', () => {
  const grammar = compileRulesGrammar(loadRules(settings(), context()));
  assert.match(grammar, /\( what is <slot_left> <slot_operator> <slot_right> \)/);
  const left = grammar.split('\n').find((line) => line.startsWith('<slot_left> ='));
  assert.ok(left?.includes('| twenty one |') && left.includes('| one hundred |') && left.includes('| ninety nine |'), left);
  assert.doesNotMatch(left ?? '', /\d/);
  const inline = compileRulesGrammar(
    loadRules(settings({ rules: { fallback: ['x'], slots: { code: ['42'], n: 'number' }, intents: [{ name: 'a', patterns: ['call 911', 'code {code}', 'add {n}', 'ping'], responses: ['b'] }] } }), context()),
  );
  assert.doesNotMatch(inline, /911|slot_code|42/);
  assert.match(inline, /\( add <slot_n> \)/);
  assert.match(inline, /\( ping \)/);
});
