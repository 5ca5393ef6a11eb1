// Entry of every pool worker: imports the worker modules named in workerData (each registers its
// job handlers), then runs jobs as the pool asks. Several jobs may interleave in one worker.
import { parentPort, workerData } from 'node:worker_threads';
import type { TransferListItem } from 'node:worker_threads';
import { AsyncQueue } from './async-queue.js';
import { jobHandlerFor } from './worker-runtime.js';
import { serializeError } from './worker-messages.js';
import type { FromWorker, ToWorker } from './worker-messages.js';

interface RunningJob {
  controller: AbortController;
  input: AsyncQueue<unknown>;
}

const port = parentPort;
if (port === null) throw new Error('worker-entry must run in a worker thread');
const { modules } = workerData as { modules: string[] };

const post = (message: FromWorker, transfer?: readonly TransferListItem[]): void =>
  port.postMessage(message, transfer as TransferListItem[] | undefined);

const jobs = new Map<number, RunningJob>();

const ready = (async () => {
  for (const url of modules) await import(url);
})();
ready.then(
  () => post({ t: 'ready' }),
  (err: unknown) => post({ t: 'fatal', error: serializeError(err) }),
);

async function start(id: number, kind: string, payload: unknown): Promise<void> {
  const job: RunningJob = { controller: new AbortController(), input: new AsyncQueue() };
  jobs.set(id, job);
  const { signal } = job.controller;
  try {
    await ready;
    const handler = jobHandlerFor(kind);
    if (handler === undefined) throw new Error(`no handler for job kind "${kind}"`);
    await handler(payload, {
      signal,
      input: job.input,
      emit: (data, transfer) => {
        if (!signal.aborted) post({ t: 'result', id, data }, transfer);
      },
    });
    post({ t: 'done', id });
  } catch (err) {
    post({ t: 'error', id, error: serializeError(err) });
  } finally {
    jobs.delete(id);
  }
}

port.on('message', (message: ToWorker) => {
  switch (message.t) {
    case 'start':
      void start(message.id, message.kind, message.payload);
      break;
    case 'input':
      jobs.get(message.id)?.input.push(message.data);
      break;
    case 'end':
      jobs.get(message.id)?.input.end();
      break;
    case 'cancel': {
      const job = jobs.get(message.id);
      job?.controller.abort();
      job?.input.end();
      break;
    }
  }
});
