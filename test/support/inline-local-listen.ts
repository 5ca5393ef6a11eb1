/**
 * The local listener (Silero VAD → turn detection → pocketsphinx, src/listen/pocketsphinx/) with its
 * pipeline in this thread instead of a worker, for the session harness: each frame is heard as it
 * is written, so what it reports lands at the same place in the audio on every run. Settings,
 * defaults and interim interval are the local listener's own; events reach the session a
 * microtask later, as they never arrive inside a write from a worker either.
 */
import { performance } from 'node:perf_hooks';
import { INTERIM_INTERVAL_MS } from '../../src/listen/pocketsphinx/pocketsphinx-listen.js';
import { TurnPipeline } from '../../src/listen/pocketsphinx/turn-pipeline.js';
import { resolveTurnSettings } from '../../src/listen/vad/turn-settings.js';
import type { ListenFactory } from '../../src/listen/types.js';

export const inlineLocalListen: ListenFactory = (settings, context) => ({
  label: 'local/pocketsphinx (in this thread)',
  open(events) {
    let closed = false;
    const turn = resolveTurnSettings(settings.provider, context.env);
    const pipeline = new TurnPipeline({ turn, interimIntervalMs: INTERIM_INTERVAL_MS }, (event) =>
      queueMicrotask(() => {
        if (closed) return;
        if (event.t === 'speechStarted') events.speechStarted();
        else if (event.t === 'interim') events.interim(event.text);
        // The endpointing silence after the speech has just been heard.
        else if (event.t === 'endOfTurn') events.endOfTurn(event.text, performance.now() - turn.endpointingMs);
      }),
    );
    return Promise.resolve({
      write: (samples) => pipeline.write(samples),
      forceEndTurn: () => pipeline.forceEndTurn(),
      close() {
        closed = true;
        pipeline.close();
      },
    });
  },
});
