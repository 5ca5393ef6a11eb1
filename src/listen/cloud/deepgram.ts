import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { ProviderContext } from '../../core/provider-context.js';
import type { ListenSettings } from '../../protocol/agent-config.js';
import { serverKeyFor } from '../../providers/keys.js';
import { bearer, header, headersWithout, num, str, strList, timeoutMs } from '../../providers/settings.js';
import { outboundGuard } from '../../providers/outbound.js';
import { readRefusal, wsFailure, wsText } from '../../providers/ws-stream.js';
import { deepgramBase } from '../../providers/deepgram.js';
import { LISTEN_SAMPLE_RATE } from '../types.js';
import { AudioArrivals } from '../audio-arrivals.js';
import type { ListenProvider, ListenStream } from '../types.js';

/** Deepgram closes an idle live socket after ~10 s; a KeepAlive every few seconds holds it. */
const KEEPALIVE_MS = 4000;

interface Transcript {
  type?: string;
  is_final?: boolean;
  speech_final?: boolean;
  /** Nova: where the result's audio starts and how long it is, in seconds of the stream. */
  start?: number;
  duration?: number;
  channel?: { alternatives?: { transcript?: string; words?: { end?: number }[] }[] };
  /** Nova's UtteranceEnd: the end of the last word, in seconds of the stream. */
  last_word_end?: number;
  /** Flux's TurnInfo: its words (with their times) and the audio it covers. */
  words?: { end?: number }[];
  audio_window_end?: number;
  event?: string;
  transcript?: string;
  description?: string;
}

/**
 * Nova (`/v1/listen`) or Flux (`/v2/listen`, `version: "v2"`) over Deepgram's live WebSocket. The
 * host is `endpoint.url` when the settings carry one (library use), else DEEPGRAM_BASE_URL or
 * Deepgram's own.
 */
export function createDeepgramListen(settings: ListenSettings, context: ProviderContext): ListenProvider {
  const { provider, endpoint } = settings;
  const flux = str(provider, 'version') === 'v2';
  const model = provider.model ?? (flux ? 'flux-general-en' : 'nova-3');
  const query = new URLSearchParams({ model, encoding: 'linear16', sample_rate: String(LISTEN_SAMPLE_RATE) });
  if (flux) {
    for (const field of ['eot_threshold', 'eager_eot_threshold', 'eot_timeout_ms']) {
      const value = num(provider, field);
      if (value !== undefined) query.set(field, String(value));
    }
    for (const hint of strList(provider, 'language_hints')) query.append('language_hint', hint);
  } else {
    query.set('channels', '1');
    query.set('interim_results', 'true');
    query.set('vad_events', 'true');
    query.set('utterance_end_ms', '1000');
    query.set('endpointing', String(num(provider, 'endpointing') ?? 300));
    query.set('language', str(provider, 'language') ?? 'en-US');
    if (provider['smart_format'] === true) query.set('smart_format', 'true');
  }
  for (const term of strList(provider, 'keyterms')) query.append('keyterm', term);
  const url = `${deepgramBase(endpoint?.url, context.env).replace(/^http/, 'ws')}/${flux ? 'v2' : 'v1'}/listen?${query.toString()}`;
  const key = bearer(header(endpoint, 'authorization')) ?? serverKeyFor('deepgram', url, context.env) ?? '';
  const headers = { ...headersWithout(endpoint, ['authorization']), authorization: `Token ${key}` };
  const timeout = timeoutMs(provider, context.env);
  const fail = (what: string, status?: number) => wsFailure('listen', 'deepgram', what, [key], status);

  return {
    label: `deepgram/${model}`,
    open: (events) =>
      new Promise<ListenStream>((resolve, reject) => {
        const socket = new WebSocket(url, { headers, handshakeTimeout: timeout, ...outboundGuard(context.env).socketOptions(url) });
        let opened = false;
        let closed = false;
        let keepAlive: NodeJS.Timeout | undefined;
        let lastWrite = Date.now();
        const finals: string[] = [];
        let speaking = false;
        const arrivals = new AudioArrivals();
        /** Where the words heard so far in this turn end, in seconds of the stream. */
        let spokenTo: number | undefined;
        const heardTo = (seconds: number | undefined): void => {
          if (seconds !== undefined && Number.isFinite(seconds) && seconds > 0) spokenTo = Math.max(spokenTo ?? 0, seconds);
        };

        const stop = (): void => {
          closed = true;
          clearInterval(keepAlive);
          socket.removeAllListeners('message');
        };
        const failed = (error: ReturnType<typeof fail>): void => {
          if (closed) return;
          stop();
          if (opened) events.failed(error);
          else reject(error);
          socket.terminate();
        };
        const startSpeech = (): void => {
          if (speaking) return;
          speaking = true;
          events.speechStarted();
        };
        const endTurn = (text: string): void => {
          // Unknown word times: the turn is taken to end now, when the transcript came.
          const speechEndedAt = spokenTo === undefined ? performance.now() : arrivals.timeOf(spokenTo * LISTEN_SAMPLE_RATE);
          speaking = false;
          finals.length = 0;
          spokenTo = undefined;
          events.endOfTurn(text, speechEndedAt);
        };

        socket.on('unexpected-response', (_req, res) => {
          readRefusal(res, (body) => failed(fail(`connection refused with HTTP ${res.statusCode ?? 0}: ${body}`, res.statusCode)));
        });
        socket.on('error', (err) => failed(fail(`connection failed: ${err.message}`)));
        socket.on('close', (code, reason) => {
          if (!closed) failed(fail(`connection closed with code ${code}${reason.length > 0 ? `: ${reason.toString()}` : ''}`));
        });
        socket.on('message', (data, isBinary) => {
          if (isBinary || closed) return;
          let message: Transcript;
          try {
            message = JSON.parse(wsText(data)) as Transcript;
          } catch {
            failed(fail('malformed message from the server'));
            return;
          }
          if (flux) onFlux(message);
          else onNova(message);
        });

        function onNova(message: Transcript): void {
          if (message.type === 'SpeechStarted') startSpeech();
          else if (message.type === 'Results') {
            const alternative = message.channel?.alternatives?.[0];
            const text = alternative?.transcript?.trim() ?? '';
            if (text !== '') {
              startSpeech();
              heardTo(alternative?.words?.at(-1)?.end ?? (message.start ?? 0) + (message.duration ?? 0));
            }
            if (message.is_final === true) {
              if (text !== '') finals.push(text);
              if (message.speech_final === true && finals.length > 0) endTurn(finals.join(' '));
            } else if (text !== '') {
              events.interim([...finals, text].join(' '));
            }
          } else if (message.type === 'UtteranceEnd') {
            heardTo(message.last_word_end);
            // A SpeechStarted that no word followed (a cough, a door) still ends, with no text:
            // else the session would think the user is speaking until the next final.
            if (finals.length > 0 || speaking) endTurn(finals.join(' '));
          } else if (message.type === 'Error') {
            failed(fail(message.description ?? 'error from the server'));
          }
        }

        function onFlux(message: Transcript): void {
          if (message.type === 'TurnInfo') {
            const text = message.transcript?.trim() ?? '';
            if (text !== '') heardTo(message.words?.at(-1)?.end ?? message.audio_window_end);
            switch (message.event) {
              case 'StartOfTurn':
                startSpeech();
                break;
              case 'Update':
              case 'EagerEndOfTurn':
              case 'TurnResumed':
                startSpeech();
                if (text !== '') events.interim(text);
                break;
              case 'EndOfTurn':
                endTurn(text);
                break;
              default:
                break;
            }
          } else if (message.type === 'Error') {
            failed(fail(message.description ?? 'error from the server'));
          }
        }

        socket.on('open', () => {
          opened = true;
          keepAlive = setInterval(() => {
            if (Date.now() - lastWrite >= KEEPALIVE_MS) socket.send(JSON.stringify({ type: 'KeepAlive' }));
          }, KEEPALIVE_MS);
          resolve({
            write(samples) {
              if (closed || socket.readyState !== WebSocket.OPEN) return;
              lastWrite = Date.now();
              arrivals.wrote(samples.length);
              socket.send(Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
            },
            forceEndTurn() {
              // Only Flux owns turn-taking on the server side and can be asked to close the turn.
              if (!flux || closed) return false;
              socket.send(JSON.stringify({ type: 'Finalize' }));
              return true;
            },
            close() {
              if (closed) return;
              stop();
              if (socket.readyState === WebSocket.OPEN) {
                socket.send(JSON.stringify({ type: 'CloseStream' }));
                socket.close(1000);
              } else socket.terminate();
            },
          });
        });
      }),
  };
}
