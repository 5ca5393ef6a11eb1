import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlayoutClock } from '../../src/audio/playout-clock.js';
import { MARK_GRACE_MS, MarkClock } from '../../src/telephony/mark-clock.js';

/**
 * A MarkClock over a real PlayoutClock on a manual clock, sending 8 kHz G.711 (8 bytes per ms);
 * its lead is long enough that every frame goes out at once.
 */
function line(): { clock: MarkClock; sent: string[]; setNow: (ms: number) => void } {
  let now = 0;
  const sent: string[] = [];
  const holder: { mark?: MarkClock } = {};
  const inner = new PlayoutClock({
    leadMs: 60_000,
    bytesPerMs: 8,
    now: () => now,
    send: (frame) => {
      sent.push(`media ${frame.length}`);
      holder.mark?.sent(frame);
    },
  });
  const mark = new MarkClock(inner, 8, { mark: (name) => sent.push(`mark ${name}`), clear: () => sent.push('clear') }, () => now);
  holder.mark = mark;
  return {
    clock: mark,
    sent,
    setNow: (ms) => (now = ms),
  };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('MarkClock', () => {
  it('sends a mark after every 100 ms of audio and one after the utterance\'s last frame', async () => {
    const { clock, sent } = line();
    clock.startUtterance();
    clock.enqueue(new Uint8Array(8 * 250));
    clock.endUtterance();
    await flush();
    const marks = sent.filter((s) => s.startsWith('mark'));
    assert.deepEqual(marks, ['mark parley-2-800', 'mark parley-2-1600', 'mark parley-2-2000-end']);
    assert.equal(sent.at(-1), 'mark parley-2-2000-end', 'the end mark follows the last frame');
  });

  it('counts as heard what the latest echoed mark covers, and only that', () => {
    const { clock } = line();
    clock.startUtterance();
    clock.enqueue(new Uint8Array(8 * 400));
    assert.equal(clock.playedMs(), 0, 'nothing is heard before the line says so');
    clock.acknowledge('parley-2-800');
    assert.equal(clock.playedMs(), 100);
    clock.acknowledge('parley-2-1600');
    clock.acknowledge('parley-2-800');
    assert.equal(clock.playedMs(), 200, 'a mark echoed out of order does not take hearing back');
    clock.acknowledge('parley-2-99999999');
    assert.equal(clock.playedMs(), 400, 'never more than was sent');
    clock.acknowledge('someone-else');
    assert.equal(clock.playedMs(), 400);
  });

  it('an utterance interrupted before it drained sends clear and no end mark', async () => {
    const { clock, sent } = line();
    clock.startUtterance();
    clock.enqueue(new Uint8Array(8 * 500));
    clock.endUtterance();
    clock.acknowledge('parley-2-800');
    assert.equal(clock.interrupt(), 100);
    await flush();
    assert.equal(sent.at(-1), 'clear');
    assert.ok(!sent.some((s) => s.endsWith('-end')));
  });

  it('marks of an interrupted utterance that the line returns after clear count for nothing in the next', () => {
    const { clock } = line();
    clock.startUtterance();
    clock.enqueue(new Uint8Array(8 * 300));
    clock.interrupt();
    clock.startUtterance();
    clock.enqueue(new Uint8Array(8 * 300));
    // The line returns the cleared utterance's marks (numbered 2) while the next one (4) plays.
    clock.acknowledge('parley-2-1600');
    clock.acknowledge('parley-2-2400');
    assert.equal(clock.playedMs(), 0);
  });

  it('a line that never echoes marks is trusted on time once MARK_GRACE_MS has passed', () => {
    const { clock, setNow } = line();
    clock.startUtterance();
    clock.enqueue(new Uint8Array(8 * 300));
    assert.equal(clock.playedMs(), 0);
    setNow(MARK_GRACE_MS + 320);
    assert.equal(clock.playedMs(), 300);
  });
});
