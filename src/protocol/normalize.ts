import { ProtocolError } from './errors.js';
import type { WarningNotice } from './errors.js';
import { DEFAULT_CLIENT_LIMITS, cutText } from './limits.js';
import type { ClientLimits } from './limits.js';
import type {
  AgentConfig,
  Endpoint,
  FunctionDefinition,
  HistoryItem,
  InputAudioFormat,
  ListenSettings,
  InputEncoding,
  OutputAudioFormat,
  OutputEncoding,
  SpeakSettings,
  ThinkSettings,
} from './agent-config.js';
import type {
  EaSettings,
  RawFunctionDefinition,
  RawHeaders,
  RawHistoryFunctions,
  RawHistoryItem,
  RawListenSettings,
  RawSpeakSettings,
  RawThinkSettings,
  V1Settings,
} from './client-schemas.js';

/** Defaults used when a client leaves a stage out (docs/protocol-decisions.md#defaults-for-omitted-stages). */
export const DEFAULT_LISTEN: ListenSettings = { provider: { type: 'deepgram', model: 'nova-3' } };
export const DEFAULT_THINK_PROVIDER = { type: 'open_ai', model: 'gpt-4o-mini' } as const;
export const DEFAULT_SPEAK: SpeakSettings = { provider: { type: 'deepgram', model: 'aura-2-thalia-en' } };

/** Managed LLMs truncate longer prompts with a PROMPT_TOO_LONG warning (docs/protocol-decisions.md#prompt-length-limit). */
export const MAX_PROMPT_CHARS = 25_000;

const INPUT_ENCODINGS: readonly InputEncoding[] = ['linear16', 'linear32', 'mulaw', 'alaw', 'flac', 'opus', 'ogg-opus'];
const OUTPUT_ENCODINGS: readonly OutputEncoding[] = ['linear16', 'mulaw', 'alaw', 'opus', 'mp3', 'flac'];
const MIN_RATE = 8000;
const MAX_RATE = 48000;
const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export interface Normalized<T> {
  value: T;
  warnings: WarningNotice[];
}

function invalid(message: string): ProtocolError {
  return new ProtocolError('INVALID_SETTINGS', message);
}

function encodingOf<T extends string>(value: string | undefined, field: string, supported: readonly T[]): T {
  if (value === undefined) return supported[0] as T;
  const found = supported.find((e) => e === value);
  if (found === undefined) {
    throw invalid(`${field} "${value.slice(0, 64)}" is not supported by this server (supported: ${supported.join(', ')})`);
  }
  return found;
}

function sampleRate(value: number | undefined, field: string, fallback: number): number {
  const rate = value ?? fallback;
  if (rate < MIN_RATE || rate > MAX_RATE) {
    throw invalid(`${field} ${rate} is out of range (${MIN_RATE} to ${MAX_RATE} Hz)`);
  }
  return rate;
}

type RawAudio = NonNullable<V1Settings['audio']>;

function inputFormat(audio: RawAudio | undefined, defaultRate: number): InputAudioFormat {
  const input = audio?.input;
  const echo = input?.echo_suppression;
  return {
    encoding: encodingOf(input?.encoding, 'audio.input.encoding', INPUT_ENCODINGS),
    sampleRate: sampleRate(input?.sample_rate ?? input?.sampleRate, 'audio.input.sample_rate', defaultRate),
    ...(echo === undefined ? {} : { echoSuppression: echo }),
  };
}

/** Compressed outputs by Deepgram's TTS table (docs/protocol-decisions.md#audio-formats): fixed or listed rates, bitrates. */
const COMPRESSED_OUTPUT: Record<
  'opus' | 'mp3' | 'flac',
  { rates: readonly number[]; defaultRate: number; bitrates?: { min: number; max: number; allowed?: readonly number[]; fallback: number }; container: 'ogg' | 'none' }
> = {
  opus: { rates: [48000], defaultRate: 48000, bitrates: { min: 4000, max: 650000, fallback: 12000 }, container: 'ogg' },
  mp3: { rates: [22050], defaultRate: 22050, bitrates: { min: 32000, max: 48000, allowed: [32000, 48000], fallback: 48000 }, container: 'none' },
  flac: { rates: [8000, 16000, 22050, 32000, 48000], defaultRate: 16000, container: 'none' },
};

/** Output combinations follow Deepgram's TTS table (docs/protocol-decisions.md#audio-formats). */
function outputFormat(audio: RawAudio | undefined): OutputAudioFormat {
  const output = audio?.output;
  const encoding = encodingOf(output?.encoding, 'audio.output.encoding', OUTPUT_ENCODINGS);
  const container = output?.container ?? 'none';
  if (encoding === 'opus' || encoding === 'mp3' || encoding === 'flac') {
    const rule = COMPRESSED_OUTPUT[encoding];
    const rate = output?.sample_rate ?? output?.sampleRate ?? rule.defaultRate;
    if (!rule.rates.includes(rate)) throw invalid(`audio.output.sample_rate ${rate} is not available for ${encoding} (${rule.rates.join(', ')})`);
    // `none` is accepted for every compressed encoding (Deepgram's own mp3 examples send it); the stream is the container.
    if (container !== 'none' && container !== rule.container) {
      throw invalid(`audio.output.container "${container}" is not supported for ${encoding} (${rule.container === 'ogg' ? 'ogg' : 'leave it out or none'})`);
    }
    const format: OutputAudioFormat = { encoding, sampleRate: rate, container: rule.container };
    const bitrates = rule.bitrates;
    if (bitrates === undefined) return format;
    const bitrate = output?.bitrate ?? bitrates.fallback;
    const allowed = bitrates.allowed === undefined ? bitrate >= bitrates.min && bitrate <= bitrates.max : bitrates.allowed.includes(bitrate);
    if (!allowed) {
      throw invalid(`audio.output.bitrate ${bitrate} is not available for ${encoding} (${bitrates.allowed?.join(' or ') ?? `${bitrates.min} to ${bitrates.max}`} bps)`);
    }
    return { ...format, bitrate };
  }
  const companded = encoding !== 'linear16';
  const rate = sampleRate(output?.sample_rate ?? output?.sampleRate, 'audio.output.sample_rate', companded ? 8000 : 24000);
  if (companded && rate !== 8000 && rate !== 16000) {
    throw invalid(`audio.output.sample_rate ${rate} is not available for ${encoding} (8000 or 16000)`);
  }
  if (container !== 'none' && container !== 'wav') {
    throw invalid(`audio.output.container "${container}" is not supported for ${encoding} (none or wav)`);
  }
  return { encoding, sampleRate: rate, container };
}

function headerMap(raw: RawHeaders | undefined): Record<string, string> {
  if (raw === undefined) return {};
  const entries = Array.isArray(raw) ? raw.map((h) => [h.key, h.value] as const) : Object.entries(raw);
  return Object.fromEntries(entries.map(([k, v]) => [k.toLowerCase(), v]));
}

function checkUrl(url: string, field: string, schemes: readonly string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(`${field} "${url}" is not a valid URL`);
  }
  if (!schemes.includes(parsed.protocol)) {
    throw invalid(`${field} must use ${schemes.map((s) => s.replace(':', '')).join(' or ')}`);
  }
  return url;
}

function endpoint(raw: { url: string; headers?: RawHeaders } | undefined, field: string): Endpoint | undefined {
  if (raw === undefined) return undefined;
  return { url: checkUrl(raw.url, `${field}.url`, ['http:', 'https:', 'ws:', 'wss:']), headers: headerMap(raw.headers) };
}

export function normalizeFunctions(raw: readonly RawFunctionDefinition[] | undefined, field: string, maxFunctions = DEFAULT_CLIENT_LIMITS.maxFunctions): FunctionDefinition[] {
  if (raw !== undefined && raw.length > maxFunctions) {
    throw invalid(`${field} defines ${raw.length} functions; at most ${maxFunctions} are allowed`);
  }
  const seen = new Set<string>();
  return (raw ?? []).map((fn, i) => {
    if (!FUNCTION_NAME.test(fn.name)) {
      throw invalid(`${field}[${i}].name "${fn.name}" must be 1 to 64 letters, digits, _ or -`);
    }
    if (seen.has(fn.name)) throw invalid(`${field}[${i}].name "${fn.name}" is defined twice`);
    seen.add(fn.name);
    const url = fn.endpoint?.url ?? fn.url;
    const definition: FunctionDefinition = {
      name: fn.name,
      description: fn.description ?? '',
      parameters: fn.parameters ?? { type: 'object', properties: {} },
      deferUntilEot: fn.defer_until_eot ?? false,
    };
    if (url !== undefined) {
      definition.endpoint = {
        url: checkUrl(url, `${field}[${i}].endpoint.url`, ['http:', 'https:']),
        method: (fn.endpoint?.method ?? fn.method ?? 'post').toUpperCase(),
        headers: headerMap(fn.endpoint?.headers ?? fn.headers),
      };
    }
    return definition;
  });
}

function prompt(text: string, warnings: WarningNotice[]): string {
  if (text.length <= MAX_PROMPT_CHARS) return text;
  warnings.push({
    code: 'PROMPT_TOO_LONG',
    description: `The prompt has ${text.length} characters; only the first ${MAX_PROMPT_CHARS} are used.`,
  });
  return text.slice(0, MAX_PROMPT_CHARS);
}

export function normalizeThink(raw: RawThinkSettings | RawThinkSettings[], field: string, maxFunctions = DEFAULT_CLIENT_LIMITS.maxFunctions): Normalized<ThinkSettings[]> {
  const warnings: WarningNotice[] = [];
  const list = Array.isArray(raw) ? raw : [raw];
  const value = list.map((think, i) => {
    const at = Array.isArray(raw) ? `${field}[${i}]` : field;
    const settings: ThinkSettings = {
      provider: think.provider,
      prompt: prompt(think.prompt ?? think.instructions ?? '', warnings),
      functions: normalizeFunctions(think.functions, `${at}.functions`, maxFunctions),
    };
    const ep = endpoint(think.endpoint, `${at}.endpoint`);
    if (ep !== undefined) settings.endpoint = ep;
    if (think.context_length !== undefined) settings.contextLength = think.context_length;
    return settings;
  });
  return { value, warnings };
}

export function normalizeSpeak(raw: RawSpeakSettings | RawSpeakSettings[], field: string): SpeakSettings[] {
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((speak, i) => {
    const settings: SpeakSettings = { provider: speak.provider };
    const ep = endpoint(speak.endpoint, Array.isArray(raw) ? `${field}[${i}].endpoint` : `${field}.endpoint`);
    if (ep !== undefined) settings.endpoint = ep;
    return settings;
  });
}

export function normalizeListen(raw: RawListenSettings): ListenSettings {
  const ep = endpoint(raw.endpoint, 'listen.endpoint');
  return ep === undefined ? { provider: raw.provider } : { provider: raw.provider, endpoint: ep };
}

function isFunctionsItem(raw: RawHistoryItem): raw is RawHistoryFunctions {
  return Array.isArray(raw['function_calls']);
}

function historyItem(raw: RawHistoryItem): HistoryItem {
  if (isFunctionsItem(raw)) {
    return {
      kind: 'functions',
      calls: raw.function_calls.map((c) => ({
        id: c.id,
        name: c.name,
        clientSide: c.client_side,
        arguments: c.arguments,
        response: c.response,
        ...(c.thought_signature === undefined ? {} : { thoughtSignature: c.thought_signature }),
      })),
    };
  }
  const text = raw;
  return { kind: 'text', role: text.role, content: text.content };
}

/** V1 `Settings` → AgentConfig, with every documented SDK quirk accepted (docs/protocol-decisions.md#settings-shapes-from-older-sdks). */
export function normalizeV1Settings(raw: V1Settings, limits: Pick<ClientLimits, 'maxFunctions' | 'maxInjectChars'> = DEFAULT_CLIENT_LIMITS): Normalized<AgentConfig> {
  if (typeof raw.agent === 'string') {
    throw new ProtocolError(
      'AGENT_ID_NOT_SUPPORTED',
      'agent must be an object: saved agent configurations (agent ids) are not supported by Parley',
    );
  }
  const agent = raw.agent;
  const language = typeof agent.language === 'object' ? agent.language.type : (agent.language ?? 'en');
  const think = normalizeThink(agent.think ?? { provider: { ...DEFAULT_THINK_PROVIDER } }, 'agent.think', limits.maxFunctions);
  const greeting = agent.greeting ?? raw.greeting;
  const config: AgentConfig = {
    dialect: 'v1',
    // The 2026 spec and SDK 5.x default the input to 24 kHz (docs/protocol-decisions.md#default-input-sample-rate).
    input: inputFormat(raw.audio, 24000),
    output: outputFormat(raw.audio),
    language,
    listen: agent.listen === undefined ? DEFAULT_LISTEN : normalizeListen(agent.listen),
    think: think.value,
    speak: agent.speak === undefined ? [DEFAULT_SPEAK] : normalizeSpeak(agent.speak, 'agent.speak'),
    context: (agent.context?.messages ?? []).map(historyItem),
    replay: false,
    historyEvents: raw.flags?.history ?? raw.settings?.flags?.history ?? true,
    experimental: raw.experimental ?? false,
    tags: raw.tags ?? [],
  };
  const warnings = think.warnings;
  if (greeting !== undefined && greeting.trim() !== '') {
    const cut = cutText(greeting, limits.maxInjectChars, 'The greeting');
    config.greeting = cut.text;
    if (cut.warning !== undefined) warnings.push(cut.warning);
  }
  return { value: config, warnings };
}

type EaThink = NonNullable<NonNullable<EaSettings['agent']>['think']>;

/** EA `custom` LLMs became V1's `open_ai` + endpoint (docs/protocol-decisions.md#early-access-custom-llm-and-voices). */
function eaThink(think: EaThink | undefined): RawThinkSettings {
  if (think === undefined) return { provider: { ...DEFAULT_THINK_PROVIDER } };
  const { type, url, key, headers } = think.provider;
  const providerType = type === 'custom' || type === 'openai' ? 'open_ai' : type;
  const provider = { type: providerType, ...(think.model === undefined ? {} : { model: think.model }) };
  const settings: RawThinkSettings = { provider, functions: think.functions, prompt: think.instructions };
  if (url !== undefined) {
    const map = headerMap(headers);
    if (key !== undefined) map['authorization'] = `Bearer ${key}`;
    settings.endpoint = { url, headers: map };
  }
  return settings;
}

type EaSpeak = NonNullable<NonNullable<EaSettings['agent']>['speak']>;

function eaSpeak(speak: EaSpeak | undefined): SpeakSettings {
  if (speak === undefined) return { provider: { type: 'deepgram', model: 'aura-asteria-en' } };
  if (typeof speak.provider === 'object') return { provider: speak.provider };
  if (typeof speak.provider === 'string') {
    return { provider: { type: speak.provider, ...(speak.voice_id === undefined ? {} : { voice_id: speak.voice_id }) } };
  }
  return { provider: { type: 'deepgram', model: speak.model ?? 'aura-asteria-en' } };
}

/** EA `SettingsConfiguration` → AgentConfig (docs/protocol-decisions.md#early-access-custom-llm-and-voices). */
export function normalizeEaSettings(raw: EaSettings, limits: Pick<ClientLimits, 'maxFunctions'> = DEFAULT_CLIENT_LIMITS): Normalized<AgentConfig> {
  const think = normalizeThink(eaThink(raw.agent?.think), 'agent.think', limits.maxFunctions);
  const listen = raw.agent?.listen;
  const config: AgentConfig = {
    dialect: 'ea',
    input: inputFormat(raw.audio, 16000),
    output: outputFormat(raw.audio),
    language: 'en',
    listen: {
      provider: {
        type: 'deepgram',
        model: listen?.model ?? 'nova-2',
        ...(listen?.keyterms === undefined ? {} : { keyterms: listen.keyterms }),
      },
    },
    think: think.value,
    speak: [eaSpeak(raw.agent?.speak)],
    context: (raw.context?.messages ?? []).map((m) => ({ kind: 'text', role: m.role, content: m.content })),
    replay: raw.context?.replay ?? false,
    historyEvents: true,
    experimental: false,
    tags: [],
  };
  return { value: config, warnings: think.warnings };
}
