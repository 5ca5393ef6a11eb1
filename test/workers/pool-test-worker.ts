// Job handlers the worker-pool tests run.
import { registerJobHandler, yieldToEvents } from '../../src/workers/worker-runtime.js';

registerJobHandler<{ count: number }, never, number>('count', async (payload, job) => {
  for (let i = 0; i < payload.count; i++) {
    job.emit(i);
    if (i % 7 === 0) await yieldToEvents();
  }
});

registerJobHandler<null, number, number>('running-sum', async (_payload, job) => {
  let sum = 0;
  for await (const value of job.input) {
    sum += value;
    job.emit(sum);
  }
});

/** Spins until cancelled, then records in the shared flag that it saw the cancel. */
registerJobHandler<{ flag: SharedArrayBuffer }, never, string>('until-cancelled', async (payload, job) => {
  const flag = new Int32Array(payload.flag);
  Atomics.store(flag, 0, 1);
  job.emit('started');
  while (!job.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 5));
  Atomics.store(flag, 0, 2);
});

registerJobHandler<{ ms: number }, never, string>('sleep', async (payload, job) => {
  await new Promise((resolve) => setTimeout(resolve, payload.ms));
  job.emit('slept');
});

registerJobHandler('throw', () => {
  throw new RangeError('handler failed on purpose');
});

registerJobHandler('crash', async () => {
  await yieldToEvents();
  process.exit(3);
});

/** Once cancelled, stays busy (as native code creating an engine would) before it returns. */
registerJobHandler<{ flag: SharedArrayBuffer; busyMs: number }, never, string>('busy-after-cancel', async (payload, job) => {
  const flag = new Int32Array(payload.flag);
  job.emit('started');
  while (!job.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 5));
  const until = Date.now() + payload.busyMs;
  while (Date.now() < until);
  Atomics.store(flag, 0, 2);
});
