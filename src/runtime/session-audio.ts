import { EchoSuppressor } from '../audio/echo-suppressor.js';
import { InputDecoder } from '../audio/input-decoder.js';
import { OutputEncoder, prepareOutputRate } from '../audio/output-encoder.js';
import { PlayoutClock, audioMessageMs } from '../audio/playout-clock.js';
import { prepareResampler } from '../audio/resampler.js';
import { LISTEN_SAMPLE_RATE } from '../listen/types.js';
import type { SessionAudioFactory } from '../session/session.js';

/** Rates clients usually send and ask for; any other rate's filters are designed at its session's setup. */
const COMMON_CLIENT_RATES = [8000, 16000, 24000, 48000];

export interface SessionAudioOptions {
  /**
   * Echo suppression for sessions whose settings do not say (`audio.input.echo_suppression`):
   * PARLEY_ECHO_SUPPRESSION for the agent paths; a phone bridge passes true, or sets
   * `config.input.echoSuppression` (docs/protocol-decisions.md#echo-suppression).
   */
  echoSuppression?: boolean;
}

/** Builds each session's decoder (client format → 16 kHz PCM), echo suppressor, encoder and playout clock. */
export function sessionAudioFactory(playoutLeadMs: number, options: SessionAudioOptions = {}): SessionAudioFactory {
  // Designed now, at startup, so that not even the process's first session waits for a filter.
  for (const rate of COMMON_CLIENT_RATES) {
    prepareOutputRate(rate);
    prepareResampler(rate, LISTEN_SAMPLE_RATE);
  }
  // A format the protocol refuses throws in the executor: the caller gets a rejected promise.
  return (config, send, line) =>
    new Promise((resolve) => {
      const echo = config.input.echoSuppression ?? options.echoSuppression ?? false ? new EchoSuppressor(config.output, { leadMs: playoutLeadMs }) : undefined;
      const encoder = OutputEncoder.create(config.output, { keepPcm: echo !== undefined });
      const decoder = InputDecoder.create(config.input, LISTEN_SAMPLE_RATE, echo === undefined ? {} : { process: (samples) => echo.process(samples) });
      const clock = new PlayoutClock({
        leadMs: playoutLeadMs,
        frameMs: line?.messageMs ?? audioMessageMs(playoutLeadMs),
        bytesPerMs: encoder.bytesPerMs,
        send,
        ...(echo === undefined ? {} : { onPlayed: (frame) => echo.played(frame) }),
      });
      resolve({
        decode: (bytes) => decoder.push(bytes),
        encoder,
        clock,
        close() {
          clock.stop();
          decoder.close();
          encoder.close();
          echo?.close();
        },
      });
    });
}
