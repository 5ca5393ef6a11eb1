import { randomUUID } from 'node:crypto';
import type { ProviderContext } from '../../core/provider-context.js';
import { ProviderError } from '../../core/errors.js';
import type { SpeakSettings } from '../../protocol/agent-config.js';
import { guarded } from '../../providers/guard.js';
import { serverKeyFor } from '../../providers/keys.js';
import { header, headersWithout, num, str, timeoutMs } from '../../providers/settings.js';
import { outboundGuard } from '../../providers/outbound.js';
import { wsMessages, wsText } from '../../providers/ws-stream.js';
import type { PcmChunk, SpeakProvider } from '../types.js';
import { Pcm16Assembler } from '../../audio/pcm16.js';

const SAMPLE_RATE = 24000;
const DEFAULT_VERSION = '2025-04-16';

/** Cartesia's TTS WebSocket; an https endpoint names the host, the path is the API's own. */
function socketUrl(url: string | undefined, version: string): string {
  const parsed = new URL(url ?? 'wss://api.cartesia.ai/tts/websocket');
  if (parsed.protocol === 'https:' || parsed.protocol === 'http:') {
    parsed.protocol = parsed.protocol === 'https:' ? 'wss:' : 'ws:';
    parsed.pathname = '/tts/websocket';
  }
  parsed.searchParams.set('cartesia_version', version);
  return parsed.toString();
}

export function createCartesiaSpeak(settings: SpeakSettings, context: ProviderContext): SpeakProvider {
  const { provider, endpoint } = settings;
  const modelId = str(provider, 'model_id') ?? provider.model ?? 'sonic-2';
  const version = str(provider, 'version') ?? DEFAULT_VERSION;
  const voice = typeof provider['voice'] === 'object' && provider['voice'] !== null ? provider['voice'] : { mode: 'id', id: str(provider, 'voice_id') };
  const language = str(provider, 'language');
  const timeout = timeoutMs(provider, context.env);
  const url = socketUrl(endpoint?.url, version);
  const key = header(endpoint, 'x-api-key') ?? serverKeyFor('cartesia', url, context.env) ?? '';
  const headers = { ...headersWithout(endpoint, ['x-api-key']), 'x-api-key': key, 'cartesia-version': version };

  async function* run(text: string, signal: AbortSignal): AsyncIterable<PcmChunk> {
    const contextId = randomUUID();
    const controls: Record<string, number> = {};
    const speed = num(provider, 'speed');
    if (speed !== undefined) controls['speed'] = speed;
    const volume = num(provider, 'volume');
    if (volume !== undefined) controls['volume'] = volume;
    const assembler = new Pcm16Assembler();
    const messages = wsMessages({
      kind: 'speak',
      provider: 'cartesia',
      url,
      headers,
      guard: outboundGuard(context.env),
      signal,
      secrets: [key],
      onOpen: (socket) =>
        socket.send(
          JSON.stringify({
            model_id: modelId,
            transcript: text,
            voice,
            output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: SAMPLE_RATE },
            context_id: contextId,
            continue: false,
            ...(language === undefined ? {} : { language }),
            ...(Object.keys(controls).length === 0 ? {} : { generation_config: controls }),
          }),
        ),
    });
    for await (const data of messages) {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(wsText(data)) as Record<string, unknown>;
      } catch {
        throw new ProviderError('speak', 'cartesia', 'cartesia: malformed message from the server');
      }
      if (message['type'] === 'error') {
        const status = typeof message['status_code'] === 'number' ? message['status_code'] : undefined;
        const reason = message['error'] ?? 'synthesis failed';
        const detail = typeof reason === 'string' ? reason : JSON.stringify(reason);
        throw new ProviderError('speak', 'cartesia', `cartesia: ${detail}`, status === undefined ? {} : { status });
      }
      if (message['type'] === 'chunk' && typeof message['data'] === 'string') {
        const samples = assembler.push(Buffer.from(message['data'], 'base64'));
        if (samples.length > 0) yield { samples, sampleRate: SAMPLE_RATE };
      }
      if (message['type'] === 'done' || message['done'] === true) return;
    }
    throw new ProviderError('speak', 'cartesia', 'cartesia: connection closed before the audio was complete');
  }

  return {
    label: `cartesia/${modelId}`,
    synthesize: (text, signal) =>
      guarded({ kind: 'speak', provider: 'cartesia', timeoutMs: timeout, secrets: [key], signal }, (inner) => run(text, inner)),
  };
}
