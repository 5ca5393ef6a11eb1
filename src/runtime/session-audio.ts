import { InputDecoder } from '../audio/input-decoder.js';
import { OutputEncoder } from '../audio/output-encoder.js';
import { PlayoutClock } from '../audio/playout-clock.js';
import { LISTEN_SAMPLE_RATE } from '../listen/types.js';
import type { SessionAudioFactory } from '../session/session.js';

/** Builds each session's decoder (client format → 16 kHz PCM), encoder and playout clock. */
export function sessionAudioFactory(playoutLeadMs: number): SessionAudioFactory {
  return async (config, send) => {
    // The encoder first: it checks its format synchronously, before a decoder exists to leak.
    const encoder = OutputEncoder.create(config.output);
    const decoder = await InputDecoder.create(config.input, LISTEN_SAMPLE_RATE);
    const clock = new PlayoutClock({ leadMs: playoutLeadMs, bytesPerMs: encoder.bytesPerMs, send });
    return {
      decode: (bytes) => decoder.push(bytes),
      encoder,
      clock,
      close() {
        clock.stop();
        decoder.close();
        encoder.close();
      },
    };
  };
}
