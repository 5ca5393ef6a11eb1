// Entry of every pool worker: imports the worker modules named in its worker data (each registers
// its job handlers), then runs jobs as the pool asks. Several jobs may interleave in one worker.
// It runs as a worker thread or, for isolated pools, as a child process (worker-host.ts).
import { parentPort, workerData } from 'node:worker_threads';
import type { TransferListItem } from 'node:worker_threads';
import { AsyncQueue } from './async-queue.js';
import { WORKER_DATA_ENV } from './worker-host.js';
import type { WorkerData } from './worker-host.js';
import { jobHandlerFor } from './worker-runtime.js';
import { serializeError } from './worker-messages.js';
import type { FromWorker, ToWorker } from './worker-messages.js';

interface RunningJob {
  controller: AbortController;
  input: AsyncQueue<unknown>;
}

interface Port {
  post(this: void, message: FromWorker, transfer?: readonly TransferListItem[]): void;
  onMessage(listener: (message: ToWorker) => void): void;
  data: WorkerData;
}

function connect(): Port {
  const thread = parentPort;
  if (thread !== null) {
    return {
      post: (message, transfer) => thread.postMessage(message, transfer as TransferListItem[] | undefined),
      onMessage: (listener) => thread.on('message', listener),
      data: workerData as WorkerData,
    };
  }
  const send = process.send?.bind(process);
  const data = process.env[WORKER_DATA_ENV];
  if (send === undefined || data === undefined) throw new Error('worker-entry must run in a worker thread or a forked child');
  // The parent going away ends this process too.
  process.on('disconnect', () => process.exit(0));
  return {
    post: (message) => {
      if (process.connected) send(message);
    },
    onMessage: (listener) => process.on('message', (message) => listener(message as ToWorker)),
    data: JSON.parse(data) as WorkerData,
  };
}

const port = connect();
const { modules } = port.data;
const post = port.post;

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

port.onMessage((message) => {
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
