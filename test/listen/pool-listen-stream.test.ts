// A pool listen stream reports its turns in order even when one waits for a check on another
// thread (pocketsphinx's grammar check, check-decode.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPoolListen } from '../../src/listen/pool-listen-stream.js';
import { silentLogger } from '../../src/core/logger.js';
import { AsyncQueue } from '../../src/workers/async-queue.js';
import type { GrammarCheck, ListenJobEvent, ListenJobInput } from '../../src/listen/pocketsphinx/listen-job.js';
import type { PoolJob } from '../../src/workers/worker-pool.js';

/** A listen job whose events the test pushes. */
function scriptedJob(): { job: PoolJob<ListenJobInput, ListenJobEvent>; push: (event: ListenJobEvent) => void } {
  const queue = new AsyncQueue<ListenJobEvent>();
  const job: PoolJob<ListenJobInput, ListenJobEvent> = {
    send: () => undefined,
    end: () => undefined,
    cancel: () => queue.end(),
    [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
  };
  return { job, push: (event) => queue.push(event) };
}

function deferred(): { promise: Promise<string>; resolve(text: string): void; reject(err: Error): void } {
  let resolve!: (text: string) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A grammar's reading of "five five" awaiting its check. */
const fiveFive = (): GrammarCheck => ({ text: 'five five', grammar: '', audio: new Int16Array(160) });

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function open(settle: (check: GrammarCheck) => Promise<string>): Promise<{ seen: string[]; push(event: ListenJobEvent): void; close(): void }> {
  const seen: string[] = [];
  const { job, push } = scriptedJob();
  push({ t: 'ready' });
  const stream = await openPoolListen(
    'scripted',
    () => job,
    {
      speechStarted: () => seen.push('speechStarted'),
      interim: (text) => seen.push(`interim:${text}`),
      endOfTurn: (text) => seen.push(`turn:${text}`),
      failed: (err) => seen.push(`failed:${err.message}`),
    },
    silentLogger(),
    (check) => settle(check),
  );
  return { seen, push, close: () => stream.close() };
}

test('race: a turn waiting for its check holds back the later turns of its session, not its speech onsets', async () => {
  const check = deferred();
  const session = await open(() => check.promise);
  session.push({ t: 'endOfTurn', text: 'five five', speechEndSample: 0, check: fiveFive() });
  session.push({ t: 'speechStarted' });
  session.push({ t: 'endOfTurn', text: 'ten of clubs', speechEndSample: 0 });
  await tick();
  assert.deepEqual(session.seen, ['speechStarted'], 'the onset is not held back; the second turn is');
  check.resolve('i have lived');
  await tick();
  assert.deepEqual(session.seen, ['speechStarted', 'turn:i have lived', 'turn:ten of clubs']);
  session.close();
});

test('race: a failed check reports the turn with no words, in its place, and the stream goes on', async () => {
  const check = deferred();
  const session = await open(() => check.promise);
  session.push({ t: 'endOfTurn', text: 'five five', speechEndSample: 0, check: fiveFive() });
  session.push({ t: 'endOfTurn', text: 'ten of clubs', speechEndSample: 0 });
  check.reject(new Error('engine pool "classic-listen-check" is busy'));
  await tick();
  await tick();
  assert.deepEqual(session.seen, ['turn:', 'turn:ten of clubs'], 'never the unchecked grammar reading');
  session.close();
});

test('race: a session closed while its turn is being checked reports nothing after the close', async () => {
  const check = deferred();
  const session = await open(() => check.promise);
  session.push({ t: 'endOfTurn', text: 'five five', speechEndSample: 0, check: fiveFive() });
  await tick();
  session.close();
  check.resolve('five five');
  await tick();
  assert.deepEqual(session.seen, []);
});
