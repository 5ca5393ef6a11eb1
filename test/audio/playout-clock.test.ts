import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { PlayoutClock, audioMessageMs, type PlayoutClockOptions } from '../../src/audio/playout-clock.js';

/** 24 kHz linear16: 48 bytes per millisecond, 960-byte frames of 20 ms. */
const BYTES_PER_MS = 48;
const LEAD_MS = 200;

interface SentFrame {
  at: number;
  bytes: Uint8Array;
}

function audio(ms: number, fill = 1): Uint8Array {
  return new Uint8Array(ms * BYTES_PER_MS).fill(fill);
}

function newClock(overrides: Partial<PlayoutClockOptions> = {}): { clock: PlayoutClock; frames: SentFrame[] } {
  const frames: SentFrame[] = [];
  const clock = new PlayoutClock({
    leadMs: LEAD_MS,
    bytesPerMs: BYTES_PER_MS,
    send: (bytes) => frames.push({ at: Date.now(), bytes }),
    now: () => Date.now(),
    ...overrides,
  });
  return { clock, frames };
}

/** Fake times at which the current utterance's drained() resolved. */
function drainTimes(clock: PlayoutClock): number[] {
  const times: number[] = [];
  void clock.drained().then(() => times.push(Date.now()));
  return times;
}

/** Advances fake time one millisecond at a time, as real time would, calling `check` after each. */
function advance(ms: number, check: () => void = () => {}): void {
  for (let i = 0; i < ms; i++) {
    mock.timers.tick(1);
    check();
  }
}

function sentBytes(frames: readonly SentFrame[]): number {
  return frames.reduce((sum, f) => sum + f.bytes.length, 0);
}

describe('PlayoutClock', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }));
  afterEach(() => mock.timers.reset());

  it('sends 60 ms messages at the default lead, each due before the listener holds less than two thirds of the lead', () => {
    const messageMs = audioMessageMs(LEAD_MS);
    assert.equal(messageMs, 60);
    const { clock, frames } = newClock({ frameMs: messageMs });
    clock.enqueue(audio(1000));
    clock.endUtterance();
    advance(1200, () => {
      const buffered = clock.sentMs() - clock.playedMs();
      if (clock.sentMs() < 1000) assert.ok(buffered >= (2 * LEAD_MS) / 3 - 1e-9, `only ${buffered} ms buffered at ${Date.now()} ms`);
    });
    assert.equal(sentBytes(frames), 1000 * BYTES_PER_MS);
    assert.deepEqual(new Set(frames.slice(0, -1).map((f) => f.bytes.length)), new Set([messageMs * BYTES_PER_MS]));
    assert.ok(frames.length <= Math.ceil(1000 / messageMs));
  });

  it('never makes a message longer than a third of a short lead, nor shorter than 20 ms', () => {
    assert.equal(audioMessageMs(120), 40);
    assert.equal(audioMessageMs(30), 20);
    assert.equal(audioMessageMs(0), 20);
    assert.equal(audioMessageMs(1000), 60);
  });

  it('sends the first frame at once and never runs more than the lead ahead of real time', () => {
    const { clock, frames } = newClock();
    const input = new Uint8Array(2000 * BYTES_PER_MS).map((_, i) => i % 251);
    clock.enqueue(input);
    assert.ok(frames.length > 0 && frames[0]?.at === 0, 'first frame goes out immediately');
    advance(2500, () => {
      const ahead = clock.sentMs() - Date.now();
      assert.ok(ahead <= LEAD_MS + 1e-9, `sent ${clock.sentMs()} ms at ${Date.now()} ms`);
      if (sentBytes(frames) < input.length) assert.ok(ahead >= LEAD_MS - 20 - 1, `lead fell to ${ahead} ms`);
    });
    assert.equal(sentBytes(frames), input.length);
    assert.ok(frames.every((f) => f.bytes.length === 960), 'every frame is 20 ms');
    const joined = new Uint8Array(input.length);
    let offset = 0;
    for (const f of frames) {
      joined.set(f.bytes, offset);
      offset += f.bytes.length;
    }
    assert.deepEqual(joined, input);
  });

  it('playedMs follows real time during playback and stops at what was sent', () => {
    const { clock } = newClock();
    clock.enqueue(audio(1000));
    advance(500);
    assert.equal(clock.playedMs(), 500);
    assert.ok(clock.sentMs() > 600 && clock.sentMs() <= 700);
    advance(1000);
    assert.equal(clock.playedMs(), 1000);
  });

  it('an underrun gap does not count as heard: playout resumes where the audio stopped', () => {
    const { clock, frames } = newClock();
    clock.enqueue(audio(300));
    advance(1000);
    assert.equal(clock.playedMs(), 300, 'the listener heard 300 ms, then silence');
    assert.ok(clock.isSending(), 'the utterance is still open');
    const before = frames.length;
    clock.enqueue(audio(300));
    assert.equal(frames[before]?.at, 1000, 'audio after a gap goes out at once');
    advance(100);
    assert.equal(clock.playedMs(), 400);
    advance(100, () => assert.ok(clock.sentMs() - clock.playedMs() <= LEAD_MS + 1e-9));
    assert.equal(clock.playedMs(), 500);
  });

  it('interrupt drops unsent frames at once and returns the heard duration', () => {
    const { clock, frames } = newClock();
    clock.enqueue(audio(2000));
    advance(500);
    const sentBefore = frames.length;
    assert.equal(clock.interrupt(), 500);
    assert.equal(clock.isSending(), false);
    assert.equal(clock.playedMs(), 0);
    assert.equal(clock.sentMs(), 0);
    advance(1000);
    assert.equal(frames.length, sentBefore, 'nothing is sent after the interruption');
    clock.enqueue(audio(100));
    assert.equal(frames.at(-1)?.at, 1500, 'the next utterance starts at once');
    advance(50);
    assert.equal(clock.playedMs(), 50);
  });

  it('interrupt after the last frame was sent still reports only what was heard', async () => {
    const { clock } = newClock();
    clock.enqueue(audio(300));
    clock.endUtterance();
    advance(150);
    await clock.drained();
    assert.equal(clock.isSending(), false);
    assert.ok(clock.playedMs() < clock.sentMs(), 'the listener still has 150 ms to hear');
    assert.equal(clock.interrupt(), 150);
  });

  it('drained() resolves after the last frame of an ended utterance', async () => {
    const { clock, frames } = newClock();
    clock.enqueue(audio(1000));
    clock.endUtterance();
    const drained = drainTimes(clock);
    advance(799);
    await Promise.resolve();
    assert.deepEqual(drained, []);
    advance(1);
    await Promise.resolve();
    assert.deepEqual(drained, [800], 'the last frame leaves when it is the lead ahead');
    assert.equal(frames.at(-1)?.at, 800);
    assert.equal(clock.isSending(), false);
    assert.ok(clock.playedMs() < clock.sentMs(), 'the listener still hears the lead');
    advance(200);
    assert.equal(clock.playedMs(), 1000);
    assert.equal(clock.playedMs(), clock.sentMs());
  });

  it('an utterance fed in pieces is not done until endUtterance()', async () => {
    const { clock } = newClock();
    clock.enqueue(audio(100));
    const drained = drainTimes(clock);
    advance(300);
    await Promise.resolve();
    assert.deepEqual(drained, []);
    clock.enqueue(audio(100));
    advance(50);
    clock.endUtterance();
    advance(200);
    await Promise.resolve();
    assert.equal(drained.length, 1);
  });

  it('sends no empty frames for empty pieces', () => {
    const { clock, frames } = newClock();
    clock.enqueue(new Uint8Array(0));
    clock.enqueueRaw(new Uint8Array(0));
    clock.enqueue(audio(40));
    clock.enqueue(new Uint8Array(0));
    clock.endUtterance();
    advance(100);
    assert.deepEqual(frames.map((f) => f.bytes.length), [960, 960]);
  });

  it('a raw WAV header goes out first, as is, with zero duration', () => {
    const { clock, frames } = newClock();
    const header = new Uint8Array(44).fill(7);
    clock.enqueueRaw(header);
    clock.enqueue(audio(100));
    assert.equal(frames[0]?.bytes, header);
    assert.equal(clock.sentMs(), 100);
    assert.equal(sentBytes(frames), 44 + 100 * BYTES_PER_MS);
  });

  it('frames never split a sample, whatever the chunk sizes', () => {
    // 22.05 kHz linear16, 15 ms frames: 330.75 samples, rounded to 331 samples (662 bytes).
    const { clock, frames } = newClock({ bytesPerMs: 44.1, frameMs: 15 });
    for (const samples of [1000, 7, 333, 1, 5, 2222]) clock.enqueue(new Uint8Array(samples * 2));
    clock.endUtterance();
    advance(1000);
    assert.ok(frames.length > 5);
    assert.ok(frames.every((f) => f.bytes.length % 2 === 0));
    assert.ok(frames.slice(0, -1).every((f) => f.bytes.length === 662), frames.map((f) => f.bytes.length).join());
  });

  it('a short remainder waits for more audio only while the listener holds more than a whole message', () => {
    const messageMs = audioMessageMs(LEAD_MS);
    const { clock, frames } = newClock({ frameMs: messageMs });
    // Four whole messages and 20 ms over: the fourth waits until it fits the lead (at 40 ms).
    clock.enqueue(audio(260));
    advance(40);
    assert.deepEqual(frames.map((f) => f.bytes.length / BYTES_PER_MS), [60, 60, 60, 60]);
    // The listener runs out of the 240 ms sent at 240; the remainder goes out a message (60 ms) before.
    advance(139);
    assert.equal(frames.length, 4, 'the remainder waits for more audio');
    advance(1);
    assert.deepEqual(frames.map((f) => [f.at, f.bytes.length / BYTES_PER_MS]).at(-1), [180, 20]);
    clock.stop();
  });

  it("a reply's first chunk goes out whole when it is more than one message but less than two", () => {
    const { clock, frames } = newClock({ frameMs: audioMessageMs(LEAD_MS) });
    // The listener holds one message after the first: the 40 ms left goes out too, not held back.
    clock.enqueue(audio(100));
    assert.deepEqual(frames.map((f) => [f.at, f.bytes.length / BYTES_PER_MS]), [[0, 60], [0, 40]]);
    clock.stop();
  });

  it('audio arriving while a short remainder waits fills the message', () => {
    const { clock, frames } = newClock({ frameMs: audioMessageMs(LEAD_MS) });
    clock.enqueue(audio(260));
    advance(100);
    clock.enqueue(audio(100));
    advance(1);
    assert.deepEqual(frames.map((f) => f.bytes.length / BYTES_PER_MS), [60, 60, 60, 60, 60]);
    clock.stop();
  });

  it('a new utterance starts playing only after the listener has heard the previous one', async () => {
    const { clock } = newClock();
    clock.enqueue(audio(300));
    clock.endUtterance();
    advance(100);
    await clock.drained();
    clock.enqueue(audio(300));
    assert.ok(clock.sentMs() <= 100 + 1e-9, 'only the lead left over is sent');
    advance(100);
    assert.equal(clock.playedMs(), 0, 'the previous utterance is still playing');
    advance(150);
    assert.equal(clock.playedMs(), 50);
  });

  it('rejects audio after endUtterance and a new utterance while one is sending', () => {
    const { clock } = newClock();
    clock.enqueue(audio(500));
    assert.throws(() => clock.startUtterance(), /still sending/);
    clock.endUtterance();
    assert.throws(() => clock.enqueue(audio(10)), /after endUtterance/);
  });

  it('send() may interrupt the clock without more frames going out', () => {
    const frames: Uint8Array[] = [];
    const clock: PlayoutClock = new PlayoutClock({
      leadMs: LEAD_MS,
      bytesPerMs: BYTES_PER_MS,
      now: () => Date.now(),
      send: (f) => {
        frames.push(f);
        clock?.interrupt();
      },
    });
    clock.enqueue(audio(500));
    advance(100);
    assert.equal(frames.length, 1);
  });
});

describe('PlayoutClock with real timers', () => {
  it('stop() leaves no timer behind and ignores later audio', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const frames: Uint8Array[] = [];
    const clock = new PlayoutClock({ leadMs: 40, bytesPerMs: BYTES_PER_MS, send: (f) => frames.push(f) });
    clock.enqueue(audio(2000));
    assert.equal(timers(), before + 1, 'one timer paces the whole queue');
    clock.stop();
    assert.equal(timers(), before);
    const sent = frames.length;
    clock.enqueue(audio(100));
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(frames.length, sent);
    await clock.drained();
  });
});
