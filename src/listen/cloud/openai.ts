import { toFile } from 'openai';
import type { ProviderContext } from '../../core/provider-context.js';
import type { ListenSettings } from '../../protocol/agent-config.js';
import { toProviderError } from '../../providers/errors.js';
import { operatorBaseUrl } from '../../providers/keys.js';
import { openAiClient } from '../../providers/openai-client.js';
import { str, timeoutMs } from '../../providers/settings.js';
import { Watchdog } from '../../providers/watchdog.js';
import { LISTEN_SAMPLE_RATE } from '../types.js';
import type { ListenEvents, ListenProvider, ListenStream } from '../types.js';
import { EnergyTurnDetector } from './energy-turn-detector.js';
import { AudioArrivals } from '../audio-arrivals.js';
import type { TurnDetectorFactory } from './turn-detector.js';
import { pcmToWav } from '../../audio/wav.js';
import { trimTrailingSlashes } from '../../core/url-path.js';

/** Audio kept from before the detector fired, so the first syllable is not clipped. */
const PREROLL_SAMPLES = (LISTEN_SAMPLE_RATE * 300) / 1000;
/** The utterance buffer is kept for the next turn up to this size (8 s); a longer one is let go. */
const KEPT_BUFFER_SAMPLES = LISTEN_SAMPLE_RATE * 8;

/**
 * OpenAI transcription (whisper-1, gpt-4o(-mini)-transcribe, or any OpenAI-compatible server
 * such as faster-whisper): a turn detector finds the utterance, which is uploaded as WAV at its end.
 * The base URL is `endpoint.url` (the full `/audio/transcriptions` URL) or env OPENAI_BASE_URL.
 */
export function createOpenAiListen(detector: TurnDetectorFactory = (events) => new EnergyTurnDetector(events)) {
  return (settings: ListenSettings, context: ProviderContext): ListenProvider => {
    const { provider, endpoint } = settings;
    const baseURL =
      endpoint === undefined
        ? (operatorBaseUrl('open_ai', context.env) ?? 'https://api.openai.com/v1')
        : trimTrailingSlashes(endpoint.url).replace(/\/audio\/transcriptions$/, '');
    const { client, apiKey } = openAiClient({ type: 'open_ai', baseURL, endpoint, env: context.env });
    const model = provider.model ?? 'gpt-4o-mini-transcribe';
    const language = str(provider, 'language')?.split('-')[0];
    const timeout = timeoutMs(provider, context.env);

    return {
      label: `open_ai/${model}`,
      open: async (events: ListenEvents): Promise<ListenStream> => {
        const closer = new AbortController();
        let closed = false;
        let speaking = false;
        // The utterance so far, in one buffer kept from turn to turn and grown by doubling: no
        // allocation per frame (at a few hundred sessions, frames kept for seconds cost full GCs).
        let utterance = new Int16Array(0);
        let utteranceLength = 0;
        const keep = (samples: Int16Array): void => {
          if (utteranceLength + samples.length > utterance.length) {
            const grown = new Int16Array(Math.max(2 * utterance.length, utteranceLength + samples.length, LISTEN_SAMPLE_RATE));
            grown.set(utterance.subarray(0, utteranceLength));
            utterance = grown;
          }
          utterance.set(samples, utteranceLength);
          utteranceLength += samples.length;
        };
        // The last PREROLL_SAMPLES heard before speech, in a ring: no allocation per frame while quiet.
        const preroll = new Int16Array(PREROLL_SAMPLES);
        let prerollEnd = 0;
        let prerollFilled = 0;
        const remember = (samples: Int16Array): void => {
          const tail = samples.length > preroll.length ? samples.subarray(samples.length - preroll.length) : samples;
          const first = Math.min(tail.length, preroll.length - prerollEnd);
          preroll.set(tail.subarray(0, first), prerollEnd);
          preroll.set(tail.subarray(first), 0);
          prerollEnd = (prerollEnd + tail.length) % preroll.length;
          prerollFilled = Math.min(preroll.length, prerollFilled + tail.length);
        };
        /** Starts the utterance with the remembered preroll, oldest first. */
        const startWithPreroll = (): void => {
          utteranceLength = 0;
          const start = (prerollEnd - prerollFilled + preroll.length) % preroll.length;
          const first = Math.min(prerollFilled, preroll.length - start);
          keep(preroll.subarray(start, start + first));
          keep(preroll.subarray(0, prerollFilled - first));
          prerollFilled = 0;
        };
        // Transcriptions finish in order, so turns reach the session in the order they were spoken.
        let queue: Promise<void> = Promise.resolve();

        const transcribe = async (wav: Uint8Array): Promise<string> => {
          const watchdog = new Watchdog(timeout, closer.signal);
          try {
            const file = await toFile(wav, 'utterance.wav', { type: 'audio/wav' });
            const result = await client.audio.transcriptions.create(
              { file, model, ...(language === undefined ? {} : { language }) },
              { signal: watchdog.signal },
            );
            watchdog.complete();
            return result.text.trim();
          } catch (err) {
            throw toProviderError(err, {
              kind: 'listen',
              provider: 'open_ai',
              secrets: [apiKey],
              ...(watchdog.timedOut ? { timeoutMs: timeout } : {}),
            });
          } finally {
            watchdog.dispose();
          }
        };

        const arrivals = new AudioArrivals();

        const finish = (afterSamples: number): void => {
          const speechEndedAt = arrivals.timeOf(arrivals.written - afterSamples);
          speaking = false;
          // Copied out now: the buffer takes the next utterance while this one is transcribed.
          const wav = pcmToWav(utterance.subarray(0, utteranceLength), LISTEN_SAMPLE_RATE);
          utteranceLength = 0;
          if (utterance.length > KEPT_BUFFER_SAMPLES) utterance = new Int16Array(0);
          queue = queue.then(async () => {
            try {
              const text = await transcribe(wav);
              if (!closed) events.endOfTurn(text, speechEndedAt);
            } catch (err) {
              if (closed) return;
              closed = true;
              events.failed(err as ReturnType<typeof toProviderError>);
            }
          });
        };

        const turns = await detector({
          speechStart: () => {
            if (closed) return;
            speaking = true;
            startWithPreroll();
            events.speechStarted();
          },
          speechEnd: (afterSamples) => {
            if (!closed && speaking) finish(afterSamples);
          },
        });

        return {
          write(samples) {
            if (closed) return;
            arrivals.wrote(samples.length);
            if (speaking) keep(samples);
            else remember(samples);
            turns.write(samples);
          },
          forceEndTurn() {
            return !closed && turns.forceEnd();
          },
          close() {
            if (closed) return;
            closed = true;
            turns.close();
            closer.abort();
          },
        };
      },
    };
  };
}
