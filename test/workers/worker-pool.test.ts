import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  JobFailedError,
  PoolBusyError,
  PoolClosedError,
  WorkerCrashedError,
  WorkerPool,
  workerModuleUrl,
} from '../../src/workers/worker-pool.js';
import type { WorkerPoolOptions } from '../../src/workers/worker-pool.js';
import { LazyPool } from '../../src/workers/lazy-pool.js';

function testPool(options: Partial<WorkerPoolOptions> = {}): WorkerPool {
  return new WorkerPool({ name: 'test', modules: [workerModuleUrl(import.meta.url, './pool-test-worker')], ...options });
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

test('streamed results arrive complete and in emission order', async () => {
  const pool = testPool({ size: 2 });
  try {
    const jobs = [0, 1, 2, 3].map(() => pool.run<{ count: number }, never, number>('count', { count: 200 }));
    const results = await Promise.all(jobs.map(collect));
    for (const r of results) assert.deepEqual(r, Array.from({ length: 200 }, (_, i) => i));
  } finally {
    await pool.close();
  }
});

test('streaming input reaches the running job in order and ends with end()', async () => {
  const pool = testPool({ size: 1 });
  try {
    const job = pool.run<null, number, number>('running-sum', null);
    for (let i = 1; i <= 10; i++) job.send(i);
    job.end();
    assert.deepEqual(await collect(job), [1, 3, 6, 10, 15, 21, 28, 36, 45, 55]);
  } finally {
    await pool.close();
  }
});

test('a full queue rejects with PoolBusyError instead of growing', async () => {
  const pool = testPool({ size: 1, jobsPerWorker: 1, maxQueue: 2 });
  try {
    const running = pool.run('sleep', { ms: 200 });
    const queued = [pool.run('sleep', { ms: 1 }), pool.run('sleep', { ms: 1 })];
    assert.throws(() => pool.run('sleep', { ms: 1 }), PoolBusyError);
    assert.deepEqual(pool.stats(), { workers: 1, running: 1, queued: 2 });
    for (const job of [running, ...queued]) assert.deepEqual(await collect(job), ['slept']);
    assert.deepEqual(await collect(pool.run('sleep', { ms: 1 })), ['slept'], 'accepts again once drained');
  } finally {
    await pool.close();
  }
});

test('aborting a running job tells its worker to stop and frees the slot', async () => {
  const pool = testPool({ size: 1, jobsPerWorker: 1 });
  try {
    const flag = new SharedArrayBuffer(4);
    const controller = new AbortController();
    const job = pool.run<unknown, never, string>('until-cancelled', { flag }, { signal: controller.signal });
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const item of job) {
          seen.push(item);
          controller.abort();
        }
      })(),
      { name: 'AbortError' },
    );
    assert.deepEqual(seen, ['started']);
    assert.deepEqual(await pool.request('sleep', { ms: 1 }), 'slept', 'the slot is free again');
    assert.equal(Atomics.load(new Int32Array(flag), 0), 2, 'the handler saw the cancel');
  } finally {
    await pool.close();
  }
});

test('aborting a queued job removes it before it runs', async () => {
  const pool = testPool({ size: 1, jobsPerWorker: 1 });
  try {
    const first = pool.run('sleep', { ms: 100 });
    const flag = new SharedArrayBuffer(4);
    const controller = new AbortController();
    const queued = pool.run('until-cancelled', { flag }, { signal: controller.signal });
    controller.abort();
    await assert.rejects(collect(queued), { name: 'AbortError' });
    assert.equal(pool.stats().queued, 0);
    assert.deepEqual(await collect(first), ['slept']);
    assert.equal(Atomics.load(new Int32Array(flag), 0), 0, 'never started');
  } finally {
    await pool.close();
  }
});

test('breaking out of for-await cancels the job', async () => {
  const pool = testPool({ size: 1, jobsPerWorker: 1 });
  try {
    const flag = new SharedArrayBuffer(4);
    for await (const item of pool.run('until-cancelled', { flag })) {
      assert.equal(item, 'started');
      break;
    }
    assert.deepEqual(await pool.request('sleep', { ms: 1 }), 'slept');
    assert.equal(Atomics.load(new Int32Array(flag), 0), 2);
  } finally {
    await pool.close();
  }
});

test('a handler that throws fails only its job, with the worker error', async () => {
  const pool = testPool({ size: 1 });
  try {
    await assert.rejects(pool.request('throw', null), (err: unknown) => {
      assert.ok(err instanceof JobFailedError);
      assert.equal(err.remoteName, 'RangeError');
      assert.match(err.message, /handler failed on purpose/);
      return true;
    });
    assert.deepEqual(await pool.request('sleep', { ms: 1 }), 'slept');
    await assert.rejects(pool.request('no-such-kind', null), /no handler for job kind "no-such-kind"/);
  } finally {
    await pool.close();
  }
});

for (const isolation of ['thread', 'process'] as const) {
  test(`a crashed worker (${isolation}) fails its jobs and is replaced; other workers carry on`, async () => {
    const pool = testPool({ size: 2, jobsPerWorker: 4, isolation });
    try {
      const survivor = pool.run<null, number, number>('running-sum', null);
      survivor.send(5);
      const crashing = pool.run('crash', null);
      await assert.rejects(collect(crashing), WorkerCrashedError);
      survivor.send(7);
      survivor.end();
      assert.deepEqual(await collect(survivor), [5, 12]);
      assert.deepEqual(await pool.request('sleep', { ms: 1 }), 'slept', 'a replacement worker takes jobs');
    } finally {
      await pool.close();
    }
  });
}

test('close() fails unfinished jobs and refuses new ones', async () => {
  const pool = testPool({ size: 1, jobsPerWorker: 1 });
  const running = pool.run('sleep', { ms: 5000 });
  const queued = pool.run('sleep', { ms: 1 });
  await pool.close();
  await assert.rejects(collect(running), PoolClosedError);
  await assert.rejects(collect(queued), PoolClosedError);
  assert.throws(() => pool.run('sleep', { ms: 1 }), PoolClosedError);
});

test('race: close() while a cancelled handler is still busy waits for it to return before ending its thread', async () => {
  const pool = testPool({ size: 1 });
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const job = pool.run<{ flag: SharedArrayBuffer; busyMs: number }, never, string>('busy-after-cancel', { flag: flag.buffer, busyMs: 300 });
  const results = job[Symbol.asyncIterator]();
  assert.deepEqual(await results.next(), { done: false, value: 'started' });
  const closing = pool.close();
  await assert.rejects(results.next(), PoolClosedError, 'the caller learns at once');
  await closing;
  assert.equal(Atomics.load(flag, 0), 2, 'the handler returned before its thread was terminated');
});

test('a worker module that fails to load fails the pool instead of respawning', async () => {
  const pool = new WorkerPool({ name: 'broken', modules: [new URL('../engines/does-not-exist.ts', import.meta.url)] });
  try {
    await assert.rejects(pool.request('sleep', { ms: 1 }), /unable to load its worker modules/);
    assert.throws(() => pool.run('sleep', { ms: 1 }), /unable to load/);
  } finally {
    await pool.close();
  }
});

test('reserve() raises the running and queued bounds so that every reserved job gets a slot', async () => {
  const pool = testPool({ size: 2, jobsPerWorker: 1, maxQueue: 0 });
  try {
    const held = [pool.run('sleep', { ms: 300 }), pool.run('sleep', { ms: 300 })];
    assert.throws(() => pool.run('sleep', { ms: 1 }), PoolBusyError, 'two workers × one slot, no queue');
    pool.reserve({ running: 6, queued: 1 });
    const more = [0, 1, 2, 3].map(() => pool.run('sleep', { ms: 300 }));
    assert.deepEqual(pool.stats(), { workers: 2, running: 6, queued: 0 }, 'six at once over two workers');
    const waiting = pool.run('sleep', { ms: 1 });
    assert.equal(pool.stats().queued, 1);
    assert.throws(() => pool.run('sleep', { ms: 1 }), PoolBusyError, 'past the reserved queue');
    pool.reserve({ running: 1, queued: 0 });
    assert.throws(() => pool.run('sleep', { ms: 1 }), PoolBusyError);
    assert.deepEqual(pool.stats(), { workers: 2, running: 6, queued: 1 }, 'a smaller reservation lowers nothing');
    for (const job of [...held, ...more, waiting]) assert.deepEqual(await collect(job), ['slept']);
  } finally {
    await pool.close();
  }
});

test('a LazyPool applies its reservation to the running pool and to the next one after close()', async () => {
  const lazy = new LazyPool({ name: 'lazy', modules: [workerModuleUrl(import.meta.url, './pool-test-worker')], size: 1, jobsPerWorker: 1, maxQueue: 0 });
  try {
    lazy.reserve({ running: 2 });
    const first = lazy.get();
    const jobs = [first.run('sleep', { ms: 200 }), first.run('sleep', { ms: 200 })];
    assert.deepEqual(first.stats(), { workers: 1, running: 2, queued: 0 });
    lazy.reserve({ running: 3 });
    jobs.push(first.run('sleep', { ms: 200 }));
    for (const job of jobs) assert.deepEqual(await collect(job), ['slept']);
    await lazy.close();
    const second = lazy.get();
    assert.notEqual(second, first);
    const again = [0, 1, 2].map(() => second.run('sleep', { ms: 100 }));
    assert.throws(() => second.run('sleep', { ms: 1 }), PoolBusyError);
    for (const job of again) assert.deepEqual(await collect(job), ['slept']);
  } finally {
    await lazy.close();
  }
});
