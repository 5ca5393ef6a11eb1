// A short real utterance after silence is heard, wherever it falls against the VAD's windows: a
// missed onset is a turn never answered (src/listen/vad/turn-settings.ts, min_speech_ms).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { InputDecoder } from '../../../src/audio/input-decoder.js';
import { TurnPipeline } from '../../../src/listen/pocketsphinx/turn-pipeline.js';
import type { ListenJobEvent } from '../../../src/listen/pocketsphinx/listen-job.js';
import { DEFAULT_TURN_SETTINGS } from '../../../src/listen/vad/turn-settings.js';
import { readFileSync } from 'node:fs';
import { CARDS_GRAMMAR, cardsClips } from '../../support/fixtures.js';

/** 20 ms of 8 kHz mu-law. */
const FRAME_BYTES = 160;
const MULAW_SILENCE = 0xff;

/** A clip as a phone line carries it: 8 kHz mu-law (sox). */
function phoneLine(path: string): Buffer {
  return execFileSync('sox', ['-V1', path, '-t', 'raw', '-r', '8000', '-e', 'mu-law', '-c', '1', '-']);
}

/** What the local pipeline, with its default turn settings, reports for `leadFrames` × 20 ms of digital silence, the clip, and 1.5 s of silence, decoded as the server decodes a phone call. */
function heard(mulaw: Buffer, leadFrames: number, grammar: string): ListenJobEvent[] {
  const decoder = InputDecoder.create({ encoding: 'mulaw', sampleRate: 8000 }, 16000);
  const bytes = new Uint8Array(leadFrames * FRAME_BYTES + mulaw.length + 12_000).fill(MULAW_SILENCE);
  bytes.set(mulaw, leadFrames * FRAME_BYTES);
  const events: ListenJobEvent[] = [];
  const pipeline = new TurnPipeline({ turn: DEFAULT_TURN_SETTINGS, interimIntervalMs: 500, grammar }, (event) => events.push(event));
  try {
    for (let offset = 0; offset < bytes.length; offset += FRAME_BYTES) pipeline.write(decoder.push(bytes.subarray(offset, offset + FRAME_BYTES)) as Int16Array);
  } finally {
    pipeline.close();
    decoder.close();
  }
  return events;
}

test('a short real utterance after silence is heard at every placement against the VAD windows (8 kHz mu-law, default min_speech_ms)', () => {
  // "ten of clubs" and "seven of clubs": the clips whose onsets the VAD missed at 200 ms.
  const clips = cardsClips().filter((clip) => clip.id === '001' || clip.id === '003');
  assert.equal(clips.length, 2);
  // The cards grammar decodes in a fraction of the open model's time; the onset is the VAD's alone.
  const grammar = readFileSync(CARDS_GRAMMAR, 'utf8');
  const missed: string[] = [];
  for (const clip of clips) {
    const mulaw = phoneLine(clip.path);
    for (let lead = 0; lead < 40; lead += 3) {
      const events = heard(mulaw, lead, grammar);
      const turns = events.filter((e): e is Extract<ListenJobEvent, { t: 'endOfTurn' }> => e.t === 'endOfTurn');
      if (events[0]?.t !== 'speechStarted' || turns.length !== 1 || turns[0]?.text === '') missed.push(`${clip.id} after ${lead * 20} ms: ${events.map((e) => e.t).join(',') || 'nothing'}`);
    }
  }
  assert.deepEqual(missed, []);
});
