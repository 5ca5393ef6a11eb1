// Loads and frees pocketsphinx decoders in several threads at once, as a server's listen and
// grammar-check threads do while it warms up (decoder-threads.test.ts runs it in its own process).
import { isMainThread, threadId } from 'node:worker_threads';
import { PocketsphinxDecoder } from '../../../src/listen/pocketsphinx/decoder.js';
import { startWorkerHost } from '../../../src/workers/worker-host.js';

const THREADS = 8;
const ROUNDS = 6;
/** When every thread starts loading (threads share the process's env): their loads overlap from the first. */
const START_AT = 'PARLEY_TEST_LOADS_START_AT';

if (isMainThread) {
  // Starting a thread under tsx takes a while; past this every thread is up.
  process.env[START_AT] = String(Date.now() + 3000);
  for (let i = 0; i < THREADS; i++) {
    // The project's own thread host, as the engine pools start theirs.
    startWorkerHost('thread', new URL(import.meta.url), { modules: [] }).onError((err) => {
      console.error(err);
      process.exitCode = 1;
    });
  }
} else {
  const wait = Number(process.env[START_AT]) - Date.now();
  if (wait > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait);
  for (let round = 0; round < ROUNDS; round++) {
    const decoder = threadId % 2 === 0 ? PocketsphinxDecoder.load() : PocketsphinxDecoder.loadPhoneLoop();
    decoder.free();
  }
}
