import type { SpeechCreateParams } from 'openai/resources/audio/speech';
import type { ProviderContext } from '../../core/provider-context.js';
import type { SpeakSettings } from '../../protocol/agent-config.js';
import { guarded } from '../../providers/guard.js';
import { operatorBaseUrl } from '../../providers/keys.js';
import { openAiClient } from '../../providers/openai-client.js';
import { num, str, timeoutMs } from '../../providers/settings.js';
import type { PcmChunk, SpeakProvider } from '../types.js';
import { Pcm16Assembler } from '../../audio/pcm16.js';
import { trimTrailingSlashes } from '../../core/url-path.js';

/** `response_format: 'pcm'` is raw PCM16 at this fixed rate. */
const SAMPLE_RATE = 24000;
const DEFAULT_BASE = 'https://api.openai.com/v1';

/** `endpoint.url` is the full `/audio/speech` URL; the client wants the part before it. */
function baseUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${trimTrailingSlashes(parsed.pathname).replace(/\/audio\/speech$/, '')}`;
}

export function createOpenAiSpeak(settings: SpeakSettings, context: ProviderContext): SpeakProvider {
  const { provider, endpoint } = settings;
  const base = endpoint === undefined ? (operatorBaseUrl('open_ai', context.env) ?? DEFAULT_BASE) : baseUrl(endpoint.url);
  const { client, apiKey } = openAiClient({ type: 'open_ai', baseURL: base, endpoint, env: context.env });
  const model = provider.model ?? 'tts-1';
  const timeout = timeoutMs(provider, context.env);

  async function* run(text: string, signal: AbortSignal): AsyncIterable<PcmChunk> {
    const params: SpeechCreateParams = { model, voice: str(provider, 'voice') ?? 'alloy', input: text, response_format: 'pcm' };
    const speed = num(provider, 'speed');
    if (speed !== undefined) params.speed = speed;
    const instructions = str(provider, 'instructions');
    if (instructions !== undefined) params.instructions = instructions;
    const response = await client.audio.speech.create(params, { signal });
    if (response.body === null) return;
    const assembler = new Pcm16Assembler();
    // A fetch body streams bytes; undici types it as ReadableStream<any>.
    for await (const bytes of response.body as ReadableStream<Uint8Array>) {
      const samples = assembler.push(bytes);
      if (samples.length > 0) yield { samples, sampleRate: SAMPLE_RATE };
    }
  }

  return {
    label: `open_ai/${model}`,
    synthesize: (text, signal) =>
      guarded({ kind: 'speak', provider: 'open_ai', timeoutMs: timeout, secrets: [apiKey], signal }, (inner) => run(text, inner)),
  };
}
