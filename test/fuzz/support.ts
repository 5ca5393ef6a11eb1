/**
 * Shared parts of the fuzz tests: the seed and run budget, a logger that records what it writes,
 * the checks every server answer must pass, and fast-check arbitraries for client frames.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { pino } from 'pino';
import type { Logger } from '../../src/core/logger.js';
import { ERROR_CODES, WARNING_CODES } from '../../src/protocol/codes.js';

export type Dialect = 'v1' | 'ea';
export type State = 'before-settings' | 'after-settings' | 'mid-reply' | 'function-call';
export const STATES: readonly State[] = ['before-settings', 'after-settings', 'mid-reply', 'function-call'];

const DEFAULT_SEED = 20261124;
/** Cases `npm test` runs over all fuzz files; `npm run fuzz` sets FUZZ_RUNS higher. */
const DEFAULT_TOTAL_RUNS = 12_000;

/**
 * fast-check parameters for one property, given its share of the total budget. The seed is fixed
 * unless FUZZ_SEED says otherwise; a failure prints the seed, the path and the counterexample.
 */
export function fuzzParameters(share: number): { seed: number; numRuns: number; includeErrorInReport: boolean } {
  const seed = Number(process.env['FUZZ_SEED'] ?? DEFAULT_SEED);
  const total = Number(process.env['FUZZ_RUNS'] ?? DEFAULT_TOTAL_RUNS);
  assert.ok(Number.isInteger(seed) && Number.isInteger(total) && total > 0, 'FUZZ_SEED and FUZZ_RUNS must be integers');
  const numRuns = Math.max(1, Math.round(total * share));
  console.log(`fuzz seed=${seed} runs=${numRuns} (replay: FUZZ_SEED=${seed} FUZZ_RUNS=${total})`);
  return { seed, numRuns, includeErrorInReport: true };
}

/** A pino logger at trace level whose lines the test can inspect. */
export function capturingLogger(): { logger: Logger; lines: { level: number; msg?: string }[] } {
  const lines: { level: number; msg?: string }[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg?: string }) });
  return { logger, lines };
}

/** Nothing above `warn` (pino level 40) is logged for a client's mistake. */
export function assertNothingAboveWarn(lines: readonly { level: number; msg?: string }[]): void {
  const loud = lines.filter((l) => l.level > 40);
  assert.deepEqual(loud, [], 'a client mistake was logged above warn');
}

/** No client key (`__proto__`, `constructor`) ever reaches the shared object prototype. */
export function assertNoPollution(): void {
  assert.deepEqual(Object.keys(Object.prototype), [], 'Object.prototype was polluted');
}

/** Frames a stack trace or an engine exception would leave in a description. */
const NOT_READABLE = /\n\s+at |RangeError|TypeError|ReferenceError|Maximum call stack|undefined is not|Cannot read propert/;

/** Every `Error` and `Warning` carries a known code and a readable description; no fault is internal. */
export function assertCodedEvents(events: readonly Record<string, unknown>[]): void {
  for (const event of events) {
    if (event['type'] !== 'Error' && event['type'] !== 'Warning') continue;
    const codes: readonly string[] = event['type'] === 'Error' ? ERROR_CODES : WARNING_CODES;
    assert.ok(codes.includes(String(event['code'])), `unknown ${String(event['type'])} code ${String(event['code'])}`);
    assert.notEqual(event['code'], 'INTERNAL_SERVER_ERROR', `a client frame caused an internal error: ${JSON.stringify(event)}`);
    const description = String(event['description'] ?? event['message']);
    assert.ok(description.length >= 10 && !NOT_READABLE.test(description), `unreadable description: ${description}`);
  }
}

// ---- arbitraries ----

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const SCRIPTED = { type: 'scripted' };

/** Valid settings of each dialect, on the scripted providers (test/support/scripted-providers.ts, stand-in names for EA). */
export function validSettings(dialect: Dialect, greeting?: string): JsonObject {
  const functions = [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { query: { type: 'string' } } } }];
  if (dialect === 'ea') {
    return {
      type: 'SettingsConfiguration',
      audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000, container: 'none' } },
      agent: { listen: { model: 'nova-3' }, think: { provider: { type: 'open_ai' }, model: 'fuzz', instructions: 'Be brief.', functions }, speak: { model: 'aura-asteria-en' } },
    };
  }
  return {
    type: 'Settings',
    audio: { input: { encoding: 'mulaw', sample_rate: 8000 }, output: { encoding: 'linear16', sample_rate: 16000 } },
    agent: {
      listen: { provider: SCRIPTED },
      think: { provider: { type: 'scripted', model: 'fuzz' }, prompt: 'Be brief.', functions },
      speak: { provider: SCRIPTED },
      ...(greeting === undefined ? {} : { greeting }),
    },
  };
}

/** One valid message of every type a client may send. */
const validMessage: fc.Arbitrary<JsonObject> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<Dialect>('v1', 'ea').map((d) => validSettings(d)) },
  fc.record({ type: fc.constant('UpdatePrompt'), prompt: fc.string() }),
  fc.record({ type: fc.constant('UpdatePrompt'), instructions: fc.string() }),
  fc.record({ type: fc.constant('UpdateInstructions'), instructions: fc.string() }),
  fc.record({ type: fc.constant('UpdateThink'), think: fc.constantFrom<Json>({ provider: SCRIPTED, prompt: 'p' }, [{ provider: SCRIPTED }, { provider: { type: 'scripted', model: 'b' }, functions: [{ name: 'get_time' }] }]) }),
  fc.record({ type: fc.constant('UpdateSpeak'), speak: fc.constantFrom<Json>({ provider: SCRIPTED }, [{ provider: SCRIPTED }]) }),
  fc.record({ type: fc.constant('UpdateSpeak'), model: fc.constantFrom('aura-luna-en', '') }),
  fc.record({ type: fc.constant('UpdateListen'), listen: fc.constant<Json>({ provider: SCRIPTED }) }),
  fc.record({ type: fc.constant('InjectUserMessage'), content: fc.oneof(fc.string(), fc.constantFrom('get weather', 'tell me a story', 'call an unknown function')) }),
  fc.record({ type: fc.constant('InjectAgentMessage'), message: fc.string(), behavior: fc.constantFrom('default', 'queue', 'interrupt') }),
  fc.record({ type: fc.constant('InjectAgentMessage'), content: fc.string() }),
  fc.record({ type: fc.constant('FunctionCallResponse'), id: fc.string(), name: fc.constantFrom('get_weather', 'x'), content: fc.string() }),
  fc.record({ type: fc.constant('FunctionCallResponse'), function_call_id: fc.string(), output: fc.string() }),
  fc.record({ type: fc.constant('FunctionCallResponse'), name: fc.constant('get_weather'), content: fc.string() }),
  fc.constantFrom<JsonObject>({ type: 'KeepAlive' }, { type: 'ForceEndTurn' }, { type: 'Close' }),
);

/** Nested arrays or objects, built without recursion so any depth is cheap. */
function deep(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '0' + '}'.repeat(depth);
}

const oddKey = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'type', 'provider', 'functions', ''));

/** A value to put where another was: any JSON, wrong types, huge texts, odd strings. */
const anyValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
  fc.constantFrom<Json>(null, true, 0, -1, 1e308, 2 ** 53, '', [], {}, 'Settings'),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.tuple(fc.integer({ min: 1, max: 300_000 }), fc.constantFrom('a', ' ', '🎉', '\u0000', '\ud800')).map(([n, c]) => c.repeat(Math.ceil(n / c.length))),
  fc.dictionary(oddKey, fc.jsonValue({ maxDepth: 1 }) as fc.Arbitrary<Json>, { maxKeys: 4 }),
);

interface Mutation {
  at: number;
  op: 'replace' | 'delete' | 'add' | 'deep';
  key: string;
  value: Json;
  depth: number;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('replace', 'replace', 'replace', 'delete', 'add', 'deep'),
  key: oddKey,
  value: anyValue,
  depth: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 58 }) }, fc.integer({ min: 58, max: 70 }), fc.integer({ min: 70, max: 30_000 })),
});

/** Each container in a value with the keys (or indexes) of its children, depth first. */
function containers(value: Json, out: { parent: JsonObject | Json[]; key: string | number }[] = []): typeof out {
  if (Array.isArray(value)) {
    value.forEach((child, i) => {
      out.push({ parent: value, key: i });
      containers(child, out);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      out.push({ parent: value, key });
      containers(child, out);
    }
  }
  return out;
}

const DEEP_MARK = '"__fuzz_deep__"';

/**
 * Sets an own property, so a key like `__proto__` stays a key and never reaches a prototype; a
 * copy of the value, so a later mutation cannot make it contain itself.
 */
function setOwn(target: object, key: string | number, value: Json): void {
  Object.defineProperty(target, key, { value: structuredClone(value), enumerable: true, configurable: true, writable: true });
}

/** Applies mutations to a copy of the message; deep values are spliced into the text afterwards. */
function mutate(message: JsonObject, mutations: readonly Mutation[]): string {
  const copy = structuredClone(message);
  const deepValues: string[] = [];
  for (const m of mutations) {
    // The root `type` is spared most of the time, so most mutations reach the message's own schema.
    const slots = containers(copy).filter((s) => m.at % 5 === 0 || s.parent !== copy || s.key !== 'type');
    const slot = slots[m.at % Math.max(1, slots.length)];
    const parent = slot?.parent ?? copy;
    const key = slot?.key ?? m.key;
    const target = parent as Record<string | number, Json>;
    if (m.op === 'delete') {
      if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
      else delete target[key];
    } else if (m.op === 'add') {
      const inner = Object.hasOwn(target, key) ? target[key] : undefined;
      if (inner !== null && typeof inner === 'object' && !Array.isArray(inner)) setOwn(inner, m.key, m.value);
      else setOwn(target, key, m.value);
    } else if (m.op === 'deep') {
      deepValues.push(deep(m.depth, m.at % 2 === 0 ? 'array' : 'object'));
      setOwn(target, key, '__fuzz_deep__');
    } else {
      setOwn(target, key, m.value);
    }
  }
  let text = JSON.stringify(copy);
  for (const value of deepValues) text = text.replace(DEEP_MARK, value);
  return text;
}

/** A text frame as a string: a valid message, a mutated one, cut JSON, or noise. */
export const textFrame: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: validMessage.map((m) => JSON.stringify(m)) },
  { weight: 6, arbitrary: fc.tuple(validMessage, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([m, ms]) => mutate(m, ms)) },
  fc.tuple(validMessage, fc.nat()).map(([m, n]) => {
    const text = JSON.stringify(m);
    return text.slice(0, n % (text.length + 1));
  }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.constantFrom('', 'null', '[]', '{}', '{"type":null}', '{"type":"Dance"}', '{"type":"Settings"}', '"Settings"', '\uFEFF{"type":"KeepAlive"}'),
);

/** A frame on the wire: a text frame, a text frame of invalid UTF-8, or binary audio of any length. */
export type Frame = { kind: 'text'; bytes: Buffer } | { kind: 'binary'; bytes: Buffer };

export function frame(maxBinaryBytes: number): fc.Arbitrary<Frame> {
  const text = textFrame.map((t): Frame => ({ kind: 'text', bytes: Buffer.from(t, 'utf8') }));
  const badUtf8 = fc
    .tuple(textFrame, fc.constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]), fc.nat())
    .map(([t, bad, at]): Frame => {
      const bytes = Buffer.from(t, 'utf8');
      const cut = at % (bytes.length + 1);
      return { kind: 'text', bytes: Buffer.concat([bytes.subarray(0, cut), Buffer.from(bad), bytes.subarray(cut)]) };
    });
  const binary = fc
    .oneof(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 4000 }), fc.integer({ min: maxBinaryBytes - 2, max: maxBinaryBytes + 3 }))
    .chain((length) => fc.tuple(fc.constant(length), fc.nat(255)))
    .map(([length, fill]): Frame => ({ kind: 'binary', bytes: Buffer.alloc(length, fill) }));
  return fc.oneof({ weight: 6, arbitrary: text }, { weight: 1, arbitrary: badUtf8 }, { weight: 2, arbitrary: binary });
}

// ---- one case, against any client ----

/** What a fuzz case needs from a client: send frames, see events and the close code. */
export interface FuzzClient {
  send(frame: Frame): void;
  readonly events: readonly Record<string, unknown>[];
  readonly closeCode: number | undefined;
}

const text = (message: JsonObject): Frame => ({ kind: 'text', bytes: Buffer.from(JSON.stringify(message)) });

/** Resolves once `done()` holds, or throws after the timeout naming what it waited for. */
export async function until(done: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Most answers come within a few turns of the event loop; timers only for the slow ones.
  for (let spins = 0; !done(); spins++) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => (spins < 20 ? setImmediate(r) : setTimeout(r, 1)));
  }
}

const seen = (client: FuzzClient, type: string, from = 0): boolean => client.events.slice(from).some((e) => e['type'] === type);

/** Brings a fresh connection into `state`: settings applied, an agent reply under way, or a client-side call waiting. */
export async function enterState(client: FuzzClient, dialect: Dialect, state: State): Promise<void> {
  if (state === 'before-settings') return;
  client.send(text(validSettings(dialect)));
  await until(() => seen(client, 'SettingsApplied'), 'SettingsApplied');
  if (state === 'mid-reply') {
    client.send(text({ type: 'InjectAgentMessage', message: 'A reply that takes a while to say out loud.', behavior: 'interrupt' }));
  } else if (state === 'function-call') {
    client.send(text({ type: 'InjectUserMessage', content: 'what is the get weather forecast' }));
    await until(() => seen(client, 'FunctionCallRequest'), 'FunctionCallRequest');
  }
}

/**
 * After the fuzz frames, the session still answers: a prompt update (or, before settings, valid
 * settings) is acknowledged, or the session has ended with a coded Error or the client's Close.
 */
export async function probe(client: FuzzClient, dialect: Dialect, state: State, frames: readonly Frame[]): Promise<void> {
  if (client.closeCode !== undefined) return;
  const from = client.events.length;
  const settled = state === 'before-settings' ? ['SettingsApplied', 'Error'] : ['PromptUpdated', 'InstructionsUpdated', 'Error'];
  client.send(state === 'before-settings' ? text(validSettings(dialect)) : text({ type: 'UpdatePrompt', prompt: 'probe' }));
  await until(() => client.closeCode !== undefined || settled.some((t) => seen(client, t, from)), `an answer to the probe after ${frames.length} frames`);
}

/** The checks every case ends with. */
export function assertCaseOutcome(client: FuzzClient, frames: readonly Frame[], maxPayload?: number): void {
  assertNoPollution();
  assertCodedEvents(client.events);
  const errors = client.events.filter((e) => e['type'] === 'Error');
  assert.ok(errors.length <= 1, 'at most one Error');
  if (errors.length === 1) assert.equal(client.events.at(-1)?.['type'], 'Error', 'nothing follows an Error');
  if (client.closeCode === undefined) return;
  const oversized = maxPayload !== undefined && frames.some((f) => f.bytes.length > maxPayload);
  assert.ok(client.closeCode === 1000 || (client.closeCode === 1009 && oversized), `close code ${client.closeCode}`);
  if (client.closeCode === 1000 && errors.length === 0) {
    const closeSent = frames.some((f) => f.kind === 'text' && /"type"\s*:\s*"Close"/.test(f.bytes.toString('latin1')));
    assert.ok(closeSent, 'a session closed without an Error only when the client sent Close');
  }
}

/**
 * The part of a `ws` socket a Connection uses, in memory. The Connection sends strings (events)
 * and bytes (audio) to the client; the test sends a Frame, which arrives as a `message`.
 */
export class MemorySocket extends EventEmitter implements FuzzClient {
  readonly OPEN = 1;
  readyState = 1;
  readonly events: Record<string, unknown>[] = [];
  closeCode: number | undefined;

  send(data: string | Uint8Array | Frame): void {
    if (typeof data === 'string') {
      this.events.push(JSON.parse(data) as Record<string, unknown>);
    } else if ('kind' in data) {
      this.emit('message', data.bytes, data.kind === 'binary');
    }
  }

  close(code: number): void {
    if (this.readyState !== this.OPEN) return;
    this.readyState = 3;
    this.closeCode = code;
    this.emit('close', code);
  }
}
