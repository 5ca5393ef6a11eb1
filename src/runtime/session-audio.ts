import { InputDecoder } from '../audio/input-decoder.js';
import { OutputEncoder, prepareOutputRate } from '../audio/output-encoder.js';
import { PlayoutClock } from '../audio/playout-clock.js';
import { prepareResampler } from '../audio/resampler.js';
import { LISTEN_SAMPLE_RATE } from '../listen/types.js';
import type { SessionAudioFactory } from '../session/session.js';

/** Rates clients usually send and ask for; any other rate's filters are designed at its session's setup. */
const COMMON_CLIENT_RATES = [8000, 16000, 24000, 48000];

/** Builds each session's decoder (client format → 16 kHz PCM), encoder and playout clock. */
export function sessionAudioFactory(playoutLeadMs: number): SessionAudioFactory {
  // Designed now, at startup, so that not even the process's first session waits for a filter.
  for (const rate of COMMON_CLIENT_RATES) {
    prepareOutputRate(rate);
    prepareResampler(rate, LISTEN_SAMPLE_RATE);
  }
  // A format the protocol refuses throws in the executor: the caller gets a rejected promise.
  return (config, send) =>
    new Promise((resolve) => {
      const encoder = OutputEncoder.create(config.output);
      const decoder = InputDecoder.create(config.input, LISTEN_SAMPLE_RATE);
      const clock = new PlayoutClock({ leadMs: playoutLeadMs, bytesPerMs: encoder.bytesPerMs, send });
      resolve({
        decode: (bytes) => decoder.push(bytes),
        encoder,
        clock,
        close() {
          clock.stop();
          decoder.close();
          encoder.close();
        },
      });
    });
}
