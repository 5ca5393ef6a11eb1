// Loads and frees pocketsphinx decoders in several threads at once, as a server's listen and
// grammar-check threads do while it warms up (decoder-threads.test.ts runs it in its own process).
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { PocketsphinxDecoder } from '../../../src/listen/pocketsphinx/decoder.js';

const THREADS = 8;
const ROUNDS = 6;

if (isMainThread) {
  const bootstrap = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(import.meta.url)}); });`;
  for (let i = 0; i < THREADS; i++) new Worker(bootstrap, { eval: true, workerData: i });
} else {
  for (let round = 0; round < ROUNDS; round++) {
    const decoder = (workerData as number) % 2 === 0 ? PocketsphinxDecoder.load() : PocketsphinxDecoder.loadPhoneLoop();
    decoder.free();
  }
}
