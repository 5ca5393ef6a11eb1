// Worker module: runs one TurnPipeline per 'listen.local' job.
import { registerJobHandler } from '../../workers/worker-runtime.js';
import { TurnPipeline } from './turn-pipeline.js';
import { LISTEN_JOB_KIND } from './listen-job.js';
import type { ListenJobEvent, ListenJobInput, ListenJobPayload } from './listen-job.js';

registerJobHandler<ListenJobPayload, ListenJobInput, ListenJobEvent>(LISTEN_JOB_KIND, async (payload, job) => {
  // An utterance to check moves to the main thread rather than being copied.
  const pipeline = new TurnPipeline(payload, (event) => job.emit(event, event.t === 'endOfTurn' && event.check !== undefined ? [event.check.audio.buffer] : []));
  try {
    job.emit({ t: 'ready' });
    for await (const input of job.input) {
      if (job.signal.aborted) break;
      if (input instanceof Int16Array) pipeline.write(input);
      else pipeline.forceEndTurn();
    }
  } finally {
    pipeline.close();
  }
});
