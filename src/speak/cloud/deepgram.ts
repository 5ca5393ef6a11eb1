import type { ProviderContext } from '../../core/provider-context.js';
import type { SpeakSettings } from '../../protocol/agent-config.js';
import { guarded } from '../../providers/guard.js';
import { serverKeyFor } from '../../providers/keys.js';
import { deepgramBase } from '../../providers/deepgram.js';
import { bearer, header, headersWithout, num, timeoutMs } from '../../providers/settings.js';
import type { SpeakProvider } from '../types.js';
import { outboundGuard } from '../../providers/outbound.js';
import { fetchPcm } from './http-pcm.js';

/** The rates Aura sends linear16 at; 24 kHz when the session's output is at none of them. */
const RATES = [8000, 16000, 24000, 32000, 48000];
const DEFAULT_RATE = 24000;
const DEFAULT_MODEL = 'aura-2-thalia-en';

/** Aura / Aura-2 over Deepgram's REST TTS: one streamed HTTP response of raw linear16 per sentence. */
export function createDeepgramSpeak(settings: SpeakSettings, context: ProviderContext): SpeakProvider {
  const { provider, endpoint } = settings;
  const model = provider.model ?? DEFAULT_MODEL;
  const timeout = timeoutMs(provider, context.env);
  // Audio asked at the session's own rate needs no conversion here (docs/protocol-decisions.md#speak-at-the-output-rate).
  const output = context.agent?.output.sampleRate;
  const rate = output !== undefined && RATES.includes(output) ? output : DEFAULT_RATE;
  const query = new URLSearchParams({ model, encoding: 'linear16', sample_rate: String(rate), container: 'none' });
  const speed = num(provider, 'speed');
  if (speed !== undefined) query.set('speed', String(speed));
  const url = `${deepgramBase(endpoint?.url, context.env)}/v1/speak?${query.toString()}`;
  const key = bearer(header(endpoint, 'authorization')) ?? serverKeyFor('deepgram', url, context.env) ?? '';

  return {
    label: `deepgram/${model}`,
    synthesize: (text, signal) =>
      guarded({ kind: 'speak', provider: 'deepgram', timeoutMs: timeout, secrets: [key], signal }, (inner) =>
        fetchPcm(
          outboundGuard(context.env),
          'deepgram',
          url,
          {
            method: 'POST',
            headers: { ...headersWithout(endpoint, ['authorization']), authorization: `Token ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ text }),
            signal: inner,
          },
          rate,
          [key],
        ),
      ),
  };
}
