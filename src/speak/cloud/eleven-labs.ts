import type { ProviderContext } from '../../core/provider-context.js';
import { ProviderError } from '../../core/errors.js';
import type { SpeakSettings } from '../../protocol/agent-config.js';
import { guarded } from '../../providers/guard.js';
import { serverKeyFor } from '../../providers/keys.js';
import { header, headersWithout, str, timeoutMs } from '../../providers/settings.js';
import { outboundGuard } from '../../providers/outbound.js';
import { wsMessages, wsText } from '../../providers/ws-stream.js';
import type { PcmChunk, SpeakProvider } from '../types.js';
import { fetchPcm } from './http-pcm.js';
import { Pcm16Assembler } from '../../audio/pcm16.js';

const SAMPLE_RATE = 24000;
const OUTPUT_FORMAT = `pcm_${SAMPLE_RATE}`;
const DEFAULT_VOICE = '21m00Tcm4TlvDq8ikWAM';

/**
 * ElevenLabs: `endpoint.url` carries the voice id (Deepgram's ElevenLabs settings). An https URL is the HTTP
 * streaming API; a wss URL is the stream-input WebSocket API.
 */
export function createElevenLabsSpeak(settings: SpeakSettings, context: ProviderContext): SpeakProvider {
  const { provider, endpoint } = settings;
  const modelId = str(provider, 'model_id') ?? provider.model ?? 'eleven_turbo_v2_5';
  const language = str(provider, 'language') ?? str(provider, 'language_code');
  const timeout = timeoutMs(provider, context.env);
  const url = new URL(endpoint?.url ?? `https://api.elevenlabs.io/v1/text-to-speech/${str(provider, 'voice_id') ?? DEFAULT_VOICE}/stream`);
  const key = header(endpoint, 'xi-api-key') ?? serverKeyFor('eleven_labs', url.toString(), context.env) ?? '';
  const extraHeaders = headersWithout(endpoint, ['xi-api-key']);
  const secrets = [key];

  function overHttp(text: string, signal: AbortSignal): AsyncIterable<PcmChunk> {
    const target = new URL(url);
    target.searchParams.set('output_format', OUTPUT_FORMAT);
    return fetchPcm(
      outboundGuard(context.env),
      'eleven_labs',
      target.toString(),
      {
        method: 'POST',
        headers: { ...extraHeaders, 'xi-api-key': key, 'content-type': 'application/json' },
        body: JSON.stringify({ text, model_id: modelId, ...(language === undefined ? {} : { language_code: language }) }),
        signal,
      },
      SAMPLE_RATE,
      secrets,
    );
  }

  async function* overWebSocket(text: string, signal: AbortSignal): AsyncIterable<PcmChunk> {
    const target = new URL(url);
    target.searchParams.set('model_id', modelId);
    target.searchParams.set('output_format', OUTPUT_FORMAT);
    if (language !== undefined) target.searchParams.set('language_code', language);
    const assembler = new Pcm16Assembler();
    const messages = wsMessages({
      kind: 'speak',
      provider: 'eleven_labs',
      url: target.toString(),
      headers: { ...extraHeaders, 'xi-api-key': key },
      guard: outboundGuard(context.env),
      signal,
      secrets,
      onOpen: (socket) => {
        // Open the context, send the sentence and flush it, then an empty text ends the stream.
        socket.send(JSON.stringify({ text: ' ' }));
        socket.send(JSON.stringify({ text: `${text} `, flush: true }));
        socket.send(JSON.stringify({ text: '' }));
      },
    });
    for await (const data of messages) {
      const message = parseMessage(wsText(data));
      if (message === undefined) throw new ProviderError('speak', 'eleven_labs', 'eleven_labs: malformed message from the server');
      const failure = message['error'] ?? message['message'];
      if (typeof failure === 'string' && message['audio'] === undefined) {
        throw new ProviderError('speak', 'eleven_labs', `eleven_labs: ${failure}`);
      }
      const audio = message['audio'];
      if (typeof audio === 'string' && audio !== '') {
        const samples = assembler.push(Buffer.from(audio, 'base64'));
        if (samples.length > 0) yield { samples, sampleRate: SAMPLE_RATE };
      }
      if (message['isFinal'] === true) return;
    }
  }

  const viaWebSocket = url.protocol === 'wss:' || url.protocol === 'ws:';
  return {
    label: `eleven_labs/${modelId}`,
    synthesize: (text, signal) =>
      guarded({ kind: 'speak', provider: 'eleven_labs', timeoutMs: timeout, secrets, signal }, (inner) =>
        viaWebSocket ? overWebSocket(text, inner) : overHttp(text, inner),
      ),
  };
}

function parseMessage(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
