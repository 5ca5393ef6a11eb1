/**
 * A complete Parley (embedded engines) in a child process of a benchmark, so that its memory and
 * CPU are the server's alone. Run with --expose-gc; speaks over IPC:
 *   → { t: 'listening', url }                       once the server accepts sessions
 *   ← 'measure' → { t: 'measure', memory, cpu, sessions, loop }   memory after a full GC, cpu since
 *                                                  start, event-loop lateness since the last measure
 *   ← 'rss' → { t: 'rss', rss }                     RSS now, no collection first
 *   ← 'stop'                                        closes the server and exits
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { silentLogger } from '../../src/core/logger.js';
import { startParley } from '../../src/server/start-parley.js';
import { LOOP_RESOLUTION_MS, loopLatenessMs } from './loop-lateness.js';

export interface ServerMeasure {
  t: 'measure';
  memory: NodeJS.MemoryUsage;
  /** CPU ms of the whole process (event loop and engine threads) since it started. */
  cpuMs: number;
  sessions: number;
  /** Event-loop lateness since the previous measure (ms, loopLatenessMs). */
  loop: { p99Ms: number; maxMs: number };
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

// BENCH_HEAP_PROF=file: a sampling heap profile of what survived a young collection but died in an
// old one (objects that live long enough to cost full GCs), written there when the server stops.
const heapProfile = process.env['BENCH_HEAP_PROF'];
const inspector = heapProfile === undefined ? undefined : new Session();
if (inspector !== undefined) {
  inspector.connect();
  inspector.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true });
}
const writeHeapProfile = (): Promise<void> =>
  new Promise((resolve) => {
    if (inspector === undefined || heapProfile === undefined) return resolve();
    inspector.post('HeapProfiler.stopSampling', (err, result) => {
      if (err === null) writeFileSync(heapProfile, JSON.stringify(result.profile));
      resolve();
    });
  });

const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
loop.enable();
const parley = await startParley({ env: process.env, overrides: { port: 0, idleTimeoutMs: 120_000 }, logger: silentLogger() });
// The engines warm up after the server listens (/healthz answers 503 until then): the figures start once they have.
while ((await fetch(`${parley.server.url.replace(/^ws/, 'http')}/healthz`).catch(() => undefined))?.status !== 200) await new Promise((r) => setTimeout(r, 100));
process.send?.({ t: 'listening', url: parley.server.url });

process.on('message', (message) => {
  if (message === 'stop') {
    // A close that hangs is a finding to report, not a reason for the benchmark to wait forever.
    setTimeout(() => {
      console.error('the Parley process did not close within 10 s of its stop');
      process.exit(1);
    }, 10_000).unref();
    void writeHeapProfile()
      .then(() => parley.close())
      .then(() => process.exit(0));
    return;
  }
  if (message === 'rss') {
    process.send?.({ t: 'rss', rss: process.memoryUsage.rss() });
    return;
  }
  if (message !== 'measure') return;
  void (async () => {
    const delay = { p99Ms: loopLatenessMs(loop.percentile(99)), maxMs: loopLatenessMs(loop.max) };
    // Twice, with a pause: finalizers (WASM memories, native engine objects) run after the first.
    gc();
    await new Promise((r) => setTimeout(r, 500));
    gc();
    // The collections above are the benchmark's own pauses: the next period starts after them.
    loop.reset();
    const cpu = process.cpuUsage();
    const reply: ServerMeasure = { t: 'measure', memory: process.memoryUsage(), cpuMs: (cpu.user + cpu.system) / 1000, sessions: parley.server.sessionCount(), loop: delay };
    process.send?.(reply);
  })();
});
