import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SherpaVad } from '../../../src/listen/vad/silero-vad.js';
import { acquireVad, idleVadCount, MAX_IDLE_VADS, releaseVad } from '../../../src/listen/vad/vad-cache.js';

const OPTIONS = { threshold: 0.5, minSpeechMs: 200, minSilenceMs: 700, maxSpeechMs: 25_000 };

function fakeVad(): SherpaVad & { resets: number } {
  return {
    resets: 0,
    acceptWaveform: () => undefined,
    isDetected: () => false,
    isEmpty: () => true,
    pop: () => undefined,
    reset() {
      this.resets++;
    },
  };
}

describe('idle VAD cache', () => {
  it('hands a released VAD, reset, to the next session with the same settings', () => {
    const vad = fakeVad();
    releaseVad('same', vad);
    assert.equal(acquireVad('same', OPTIONS), vad);
    assert.equal(vad.resets, 1);
  });

  it('keeps a bounded number over all settings: clients choosing many different ones cannot grow it', () => {
    const released = Array.from({ length: MAX_IDLE_VADS + 20 }, (_, i) => {
      const vad = fakeVad();
      releaseVad(`settings-${i}`, vad);
      return vad;
    });
    assert.equal(idleVadCount(), MAX_IDLE_VADS);
    // The newest are kept, the oldest went to the GC.
    assert.equal(acquireVad(`settings-${MAX_IDLE_VADS + 19}`, OPTIONS), released.at(-1));
    assert.equal(idleVadCount(), MAX_IDLE_VADS - 1);
  });
});
