// Drives a ListenProvider with recorded audio the way a session does, and records what it reports.
import type { ListenProvider } from '../../../src/listen/types.js';
import { concatPcm16 } from '../../../src/audio/pcm16.js';

export type HeardEvent = { t: 'speechStarted' } | { t: 'interim'; text: string } | { t: 'endOfTurn'; text: string };

export interface Heard {
  events: HeardEvent[];
  turns: string[];
}

const FRAME = 320;

export function silence(ms: number): Int16Array {
  return new Int16Array((ms * 16000) / 1000);
}

/** The parts one after another (the tests only read the result). */
export const concat = concatPcm16;

/**
 * Writes `audio` (which must hold speech) in 20 ms frames as fast as the stream takes them, then
 * waits until a turn was heard, every started utterance has ended and nothing more arrives for
 * `settleMs`.
 */
export async function listenTo(provider: ListenProvider, audio: Int16Array, settleMs = 600): Promise<Heard> {
  const events: HeardEvent[] = [];
  let lastEventAt = Date.now();
  let failure: Error | undefined;
  const stream = await provider.open({
    speechStarted: () => events.push({ t: 'speechStarted' }),
    interim: (text) => events.push({ t: 'interim', text }),
    endOfTurn: (text) => events.push({ t: 'endOfTurn', text }),
    failed: (error) => {
      failure = error;
    },
  });
  try {
    for (let i = 0; i < audio.length; i += FRAME) {
      stream.write(audio.subarray(i, i + FRAME));
    }
    const started = (): number => events.filter((e) => e.t === 'speechStarted').length;
    const ended = (): number => events.filter((e) => e.t === 'endOfTurn').length;
    let seen = 0;
    for (;;) {
      if (failure !== undefined) throw failure;
      if (events.length !== seen) {
        seen = events.length;
        lastEventAt = Date.now();
      }
      if (started() > 0 && started() === ended() && Date.now() - lastEventAt >= settleMs) break;
      if (Date.now() - lastEventAt > 60000) throw new Error('the listen stream went quiet without ending a turn');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    stream.close();
  }
  return { events, turns: events.flatMap((e) => (e.t === 'endOfTurn' ? [e.text] : [])) };
}
