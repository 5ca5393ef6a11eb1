// The turn pipeline in this thread (as in a worker): bounded decoders shared by its sessions, and
// Silero VADs reused between sessions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TurnPipeline } from '../../../src/listen/pocketsphinx/turn-pipeline.js';
import { MAX_DECODERS, MAX_GRAMMARS_PER_DECODER, PocketsphinxDecoder, decoderStats } from '../../../src/listen/pocketsphinx/decoder.js';
import { checkedText } from '../../../src/listen/pocketsphinx/check-decode.js';
import { DEFAULT_TURN_SETTINGS } from '../../../src/listen/vad/turn-settings.js';
import type { ListenJobEvent } from '../../../src/listen/pocketsphinx/listen-job.js';
import { CARDS_GRAMMAR, cardsClips, librivoxClips, readPcm16 } from '../../support/fixtures.js';
import type { Clip } from '../../support/fixtures.js';
import { wordErrors } from '../../support/wer.js';
import { concat, silence } from './pocketsphinx-listen-support.js';

const FRAME = 320;

function pipeline(grammar?: string): { pipeline: TurnPipeline; events: ListenJobEvent[] } {
  const events: ListenJobEvent[] = [];
  const payload = { turn: DEFAULT_TURN_SETTINGS, interimIntervalMs: 500, ...(grammar === undefined ? {} : { grammar }) };
  return { pipeline: new TurnPipeline(payload, (event) => events.push(event)), events };
}

const turns = (events: ListenJobEvent[]): string[] => events.flatMap((e) => (e.t === 'endOfTurn' ? [e.text] : []));

test('race: more sessions speaking at once than the thread has decoders are all heard live and all decoded, with no decoder loaded past the bound', () => {
  const grammar = readFileSync(CARDS_GRAMMAR, 'utf8');
  const clips = cardsClips();
  const sessions = Array.from({ length: MAX_DECODERS + 3 }, (_, i) => ({ ...pipeline(grammar), clip: clips[i % clips.length]! }));
  const audio = sessions.map((s) => concat([silence(300), readPcm16(s.clip.path).samples, silence(1200)]));
  // What each clip decodes to alone, live, with no wait for a decoder.
  const alone = audio.slice(0, clips.length).map((a) => {
    const one = pipeline(grammar);
    for (let i = 0; i < a.length; i += FRAME) one.pipeline.write(a.subarray(i, i + FRAME));
    one.pipeline.close();
    return turns(one.events);
  });
  // Frame by frame, every session at once, as live microphones: all speak together.
  const longest = Math.max(...audio.map((a) => a.length));
  for (let i = 0; i < longest; i += FRAME) sessions.forEach((s, n) => s.pipeline.write(audio[n]!.subarray(i, i + FRAME)));
  assert.equal(decoderStats().loaded, MAX_DECODERS, 'the bound, not one decoder per speaker');
  for (const [n, s] of sessions.entries()) {
    assert.equal(s.events[0]?.t, 'speechStarted', `session ${n} heard at once, decoder or not`);
    assert.deepEqual(turns(s.events), alone[n % clips.length], `session ${n}: the same words decoded live or caught up`);
  }
  for (const s of sessions) s.pipeline.close();
  assert.deepEqual(decoderStats(), { loaded: MAX_DECODERS, idle: MAX_DECODERS, waiting: 0 }, 'all back, none freed');
});

test('race: a session closed while waiting for a decoder withdraws its request and the next waiter is served', () => {
  const grammar = readFileSync(CARDS_GRAMMAR, 'utf8');
  const clip = cardsClips()[0]!;
  const speech = concat([silence(300), readPcm16(clip.path).samples]);
  const sessions = Array.from({ length: MAX_DECODERS + 2 }, () => pipeline(grammar));
  for (let i = 0; i < speech.length; i += FRAME) for (const s of sessions) s.pipeline.write(speech.subarray(i, i + FRAME));
  assert.equal(decoderStats().waiting, 2);
  const [gone, served] = sessions.slice(-2) as [ReturnType<typeof pipeline>, ReturnType<typeof pipeline>];
  gone.pipeline.close();
  assert.equal(decoderStats().waiting, 1);
  for (const s of sessions.slice(0, MAX_DECODERS)) s.pipeline.write(silence(1200));
  assert.deepEqual(turns(served.events), [], 'its speech goes on: decoded live now, not ended');
  served.pipeline.write(silence(1200));
  assert.deepEqual(turns(served.events), turns(sessions[0]!.events), 'the same clip as the first session, which was decoded live');
  assert.equal(turns(served.events).length, 1);
  assert.deepEqual(turns(gone.events), []);
  for (const s of sessions) s.pipeline.close();
  assert.equal(decoderStats().waiting, 0);
});

test('race: a session reusing the VAD of a session closed mid-speech (or of the warm-up) hears its first speech at the same window as with a new VAD', () => {
  const clip = readPcm16(cardsClips()[1]!.path).samples;
  const onsetFrame = (events: ListenJobEvent[][], write: (frame: Int16Array) => void): number => {
    for (let i = 0; i < clip.length; i += FRAME) {
      write(clip.subarray(i, i + FRAME));
      if (events[0]!.length > 0) return i;
    }
    return -1;
  };
  const fresh = pipeline();
  const expected = onsetFrame([fresh.events], (f) => fresh.pipeline.write(f));
  assert.ok(expected > 0, 'the clip starts with silence, then speech');
  // The warm-up's pattern (a moment of silence, closed), then a session closed in mid-word.
  const warm = pipeline();
  warm.pipeline.write(silence(100));
  warm.pipeline.close();
  const interrupted = pipeline();
  interrupted.pipeline.write(clip.subarray(0, expected + 8000));
  assert.equal(interrupted.events[0]?.t, 'speechStarted');
  interrupted.pipeline.close();
  for (let n = 0; n < 2; n++) {
    const reused = pipeline();
    assert.equal(onsetFrame([reused.events], (f) => reused.pipeline.write(f)), expected, `reuse ${n}`);
    reused.pipeline.close();
  }
  fresh.pipeline.close();
});

test('state carry-over: a clip gives the same transcript in a new session whatever other sessions of the thread decoded before', () => {
  const [probe, long] = [librivoxClips()[1]!, librivoxClips()[0]!];
  const hear = (clip: Clip): string[] => {
    const one = pipeline();
    const audio = concat([silence(300), readPcm16(clip.path).samples, silence(1200)]);
    for (let i = 0; i < audio.length; i += FRAME) one.pipeline.write(audio.subarray(i, i + FRAME));
    one.pipeline.close();
    return turns(one.events);
  };
  const first = hear(probe);
  assert.equal(first.length, 1);
  // Every decoder of the thread hears other speech first, in sessions of their own.
  for (let n = 0; n < MAX_DECODERS; n++) hear(long);
  assert.deepEqual(hear(probe), first);
  hear(long);
  assert.deepEqual(hear(probe), first);
});

test('with a grammar, speech outside it goes out for the check with its audio, and the check gives the open-vocabulary transcript', () => {
  const grammar = readFileSync(CARDS_GRAMMAR, 'utf8');
  const clip = librivoxClips()[1]!;
  const audio = concat([silence(300), readPcm16(clip.path).samples, silence(1200)]);
  const heard = (withGrammar: string | undefined): ListenJobEvent[] => {
    const one = pipeline(withGrammar);
    for (let i = 0; i < audio.length; i += FRAME) one.pipeline.write(audio.subarray(i, i + FRAME));
    one.pipeline.close();
    return one.events.filter((e) => e.t === 'endOfTurn');
  };
  const open = heard(undefined);
  assert.ok(open.every((e) => e.t === 'endOfTurn' && e.check === undefined), 'no check without a grammar');
  const checked = heard(grammar).map((e) => {
    assert.ok(e.t === 'endOfTurn' && e.check !== undefined, `"${e.t === 'endOfTurn' ? e.text : ''}" went out unchecked`);
    return checkedText(e.check);
  });
  assert.deepEqual(checked, turns(open));
  assert.ok(wordErrors(clip.transcript, checked.join(' ')).errors <= 4);
});

test('a decoder keeps a bounded number of grammar searches, however many different grammars sessions bring, and a freed one still decodes when it comes back', () => {
  const decoder = PocketsphinxDecoder.load();
  try {
    const cards = readFileSync(CARDS_GRAMMAR, 'utf8');
    const clip = readPcm16(cardsClips()[0]!.path).samples;
    const before = decoder.decodeWhole(cards, clip);
    for (let i = 0; i < MAX_GRAMMARS_PER_DECODER + 5; i++) decoder.addGrammar(`#JSGF V1.0; grammar g${i}; public <a> = hello ${["one", "two", "three", "four", "five"][i % 5]!} ${["six", "seven", "eight", "nine"][i % 4]!} | goodbye;`);
    assert.equal(decoder.grammarCount(), MAX_GRAMMARS_PER_DECODER);
    assert.equal(decoder.decodeWhole(cards, clip), before, 'the cards grammar, freed on the way, is added again');
  } finally {
    decoder.free();
  }
});
