// Every real recording with a known transcript that the fixtures hold (LibriVox ×5, JFK, cards ×5,
// goforward, and the TIDIGITS clip of the pocketsphinx test data, whose name spells its digits),
// heard as a caller might send it: a WER over one JFK segment is no figure to steer by.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { InputDecoder } from '../../src/audio/input-decoder.js';
import { concatPcm16 } from '../../src/audio/pcm16.js';
import { GOFORWARD_TRANSCRIPT, JFK_TRANSCRIPT, TESTDATA_DIR, cardsClips, fixturePath, librivoxClips, readPcm16 } from '../../test/support/fixtures.js';

const RATE = 16000;

/** One session's audio (PCM16 16 kHz) and what was said in it. */
export interface HeardSession {
  audio: Int16Array;
  transcript: string;
}

export interface Condition {
  name: string;
  sessions: HeardSession[];
}

interface Recording {
  samples: Int16Array;
  transcript: string;
}

async function recordings(): Promise<Recording[]> {
  const clips = [...librivoxClips(), { path: await fixturePath('jfk'), transcript: JFK_TRANSCRIPT }, ...cardsClips(), { path: await fixturePath('goforward'), transcript: GOFORWARD_TRANSCRIPT }];
  return [
    ...clips.map((clip) => ({ samples: readPcm16(clip.path).samples, transcript: clip.transcript })),
    { samples: readPcm16(join(TESTDATA_DIR, 'tidigits/dhd.2934z.raw')).samples, transcript: 'two nine three four zero' },
  ];
}

const silence = (ms: number): Int16Array => new Int16Array((ms * RATE) / 1000);

/** `audio` `db` quieter, under white hiss at `hissDbfs` (a fixed sequence: the same in every run). */
function quietOverHiss(audio: Int16Array, db: number, hissDbfs: number): Int16Array {
  const gain = 10 ** (-db / 20);
  const amplitude = 32768 * 10 ** (hissDbfs / 20) * Math.sqrt(12);
  let seed = 1;
  return audio.map((sample) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return Math.max(-32768, Math.min(32767, Math.round(sample * gain + (seed / 0x7fffffff - 0.5) * amplitude)));
  });
}

/** `audio` as a phone line carries it (sox to 8 kHz mu-law), decoded as the server decodes a call. */
function phoneLine(audio: Int16Array): Int16Array {
  const args = ['-V1', '-R', '-t', 'raw', '-r', String(RATE), '-e', 'signed', '-b', '16', '-c', '1', '-', '-t', 'raw', '-r', '8000', '-e', 'mu-law', '-c', '1', '-'];
  const mulaw = execFileSync('sox', args, { input: Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength), maxBuffer: 1 << 26 });
  const decoder = InputDecoder.create({ encoding: 'mulaw', sampleRate: 8000 }, RATE);
  const frames: Int16Array[] = [];
  for (let offset = 0; offset < mulaw.length; offset += 160) frames.push((decoder.push(mulaw.subarray(offset, offset + 160)) as Int16Array).slice());
  decoder.close();
  return concatPcm16(frames);
}

/**
 * The recordings, each in a session of its own after half a second of digital silence: as
 * recorded, as 8 kHz mu-law, 20 dB quieter under hiss at -65 dBFS (below the VAD's pre-gate);
 * and all of them in one session, a second of digital silence apart (later turns decoded from
 * the cepstral mean of earlier ones).
 */
export async function realSpeechConditions(): Promise<{ recordings: number; conditions: Condition[] }> {
  const all = await recordings();
  const alone = (line: (audio: Int16Array) => Int16Array): HeardSession[] =>
    all.map((r) => ({ audio: line(concatPcm16([silence(500), r.samples, silence(1500)])), transcript: r.transcript }));
  const conditions = [
    { name: 'as recorded', sessions: alone((audio) => audio) },
    { name: '8 kHz mu-law', sessions: alone(phoneLine) },
    { name: '-20 dB under hiss', sessions: alone((audio) => quietOverHiss(audio, 20, -65)) },
    {
      name: 'one session',
      sessions: [{ audio: concatPcm16([silence(500), ...all.flatMap((r) => [r.samples, silence(1000)])]), transcript: all.map((r) => r.transcript).join(' ') }],
    },
  ];
  return { recordings: all.length, conditions };
}
