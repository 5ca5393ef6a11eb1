import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WAV_UNKNOWN_SIZE, parseWav, pcmToWav, readWavFile, wavHeader } from '../../src/audio/wav.js';
import { decodeMulaw, encodeMulaw } from '../../src/audio/g711.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-wav-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav';

function chunk(tag: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + body.length + (body.length % 2));
  out.set(Buffer.from(tag, 'latin1'));
  new DataView(out.buffer).setUint32(4, body.length, true);
  out.set(body, 8);
  return out;
}

function riff(...chunks: Uint8Array[]): Uint8Array {
  const body = Buffer.concat([Buffer.from('WAVE'), ...chunks]);
  return new Uint8Array(Buffer.concat([chunk('RIFF', body).subarray(0, 8), body]));
}

function fmtBody(code: number, channels: number, rate: number, bits: number): Uint8Array {
  const body = new Uint8Array(16);
  const view = new DataView(body.buffer);
  view.setUint16(0, code, true);
  view.setUint16(2, channels, true);
  view.setUint32(4, rate, true);
  view.setUint32(8, (rate * channels * bits) / 8, true);
  view.setUint16(12, (channels * bits) / 8, true);
  view.setUint16(14, bits, true);
  return body;
}

describe('wavHeader', () => {
  it('writes a 44-byte PCM header with the sizes', () => {
    const header = wavHeader({ sampleRate: 24000, encoding: 'linear16', dataBytes: 4800 });
    const view = new DataView(header.buffer);
    assert.equal(header.length, 44);
    assert.equal(Buffer.from(header.subarray(0, 4)).toString('latin1'), 'RIFF');
    assert.equal(view.getUint32(4, true), 36 + 4800);
    assert.equal(view.getUint16(20, true), 1);
    assert.equal(view.getUint32(24, true), 24000);
    assert.equal(view.getUint32(28, true), 48000);
    assert.equal(view.getUint16(34, true), 16);
    assert.equal(view.getUint32(40, true), 4800);
  });

  it('marks a stream of unknown length with the maximum sizes', () => {
    const view = new DataView(wavHeader({ sampleRate: 8000, encoding: 'mulaw' }).buffer);
    assert.equal(view.getUint32(4, true), WAV_UNKNOWN_SIZE);
    assert.equal(view.getUint32(view.byteLength - 4, true), WAV_UNKNOWN_SIZE);
  });

  for (const [encoding, code] of [['linear16', 1], ['mulaw', 7], ['alaw', 6]] as const) {
    it(`round-trips through parseWav for ${encoding} (format ${code})`, () => {
      const data = Uint8Array.from({ length: 160 }, (_, i) => i);
      const file = Buffer.concat([wavHeader({ sampleRate: 16000, encoding, dataBytes: data.length }), data]);
      assert.equal(new DataView(file.buffer, file.byteOffset).getUint16(20, true), code);
      const parsed = parseWav(file);
      assert.deepEqual({ ...parsed, data: [...parsed.data] }, { encoding, sampleRate: 16000, channels: 1, data: [...data] });
    });
  }

  it('produces headers sox reads', () => {
    for (const [encoding, soxName] of [['linear16', 'Signed Integer PCM'], ['mulaw', 'u-law'], ['alaw', 'A-law']] as const) {
      const path = join(dir, `${encoding}.wav`);
      writeFileSync(path, Buffer.concat([wavHeader({ sampleRate: 8000, encoding, dataBytes: 800 }), new Uint8Array(800)]));
      const info = execFileSync('sox', ['--i', path]).toString();
      assert.match(info, /Sample Rate\s+: 8000/);
      assert.match(info, new RegExp(`Sample Encoding: .*${soxName}`));
      assert.match(info, /Duration\s+: 00:00:00\.(10|05)/);
    }
  });
});

describe('parseWav', () => {
  it('skips LIST and odd-sized chunks before the audio', () => {
    const file = riff(chunk('LIST', new Uint8Array(7).fill(65)), chunk('fmt ', fmtBody(1, 1, 22050, 16)), chunk('data', Uint8Array.of(1, 0, 2, 0)));
    const parsed = parseWav(file);
    assert.equal(parsed.sampleRate, 22050);
    assert.deepEqual([...parsed.data], [1, 0, 2, 0]);
  });

  it('reads a data size past the end (a stream) as "to the end", dropping a partial sample', () => {
    const file = Buffer.concat([wavHeader({ sampleRate: 16000, encoding: 'linear16' }), Uint8Array.of(1, 2, 3, 4, 5)]);
    assert.deepEqual([...parseWav(file).data], [1, 2, 3, 4]);
  });

  it('understands WAVE_FORMAT_EXTENSIBLE', () => {
    const body = new Uint8Array(40);
    body.set(fmtBody(0xfffe, 2, 48000, 16));
    new DataView(body.buffer).setUint16(24, 1, true);
    const parsed = parseWav(riff(chunk('fmt ', body), chunk('data', new Uint8Array(8))));
    assert.equal(parsed.encoding, 'linear16');
    assert.equal(parsed.channels, 2);
  });

  it('rejects what it cannot decode', () => {
    assert.throws(() => parseWav(new Uint8Array(44)), /RIFF/);
    assert.throws(() => parseWav(riff(chunk('fmt ', fmtBody(1, 1, 16000, 24)), chunk('data', new Uint8Array(6)))), /24 bits/);
    assert.throws(() => parseWav(riff(chunk('fmt ', fmtBody(1, 1, 16000, 16)))), /no data chunk/);
  });
});

describe('readWavFile', () => {
  it('averages a stereo file to mono', async () => {
    const path = join(dir, 'stereo.wav');
    const pcm = Int16Array.of(1000, 3000, -4000, -2000);
    writeFileSync(path, riff(chunk('fmt ', fmtBody(1, 2, 16000, 16)), chunk('data', new Uint8Array(pcm.buffer))));
    const { samples, sampleRate } = await readWavFile(path);
    assert.equal(sampleRate, 16000);
    assert.deepEqual([...samples], [2000, -3000]);
  });

  it('decodes a mu-law file', async () => {
    const path = join(dir, 'mulaw.wav');
    const codes = encodeMulaw(Int16Array.of(0, 1000, -1000, 20000));
    writeFileSync(path, Buffer.concat([wavHeader({ sampleRate: 8000, encoding: 'mulaw', dataBytes: 4 }), codes]));
    assert.deepEqual((await readWavFile(path)).samples, decodeMulaw(codes));
  });

  it('reads real speech', async () => {
    const { samples, sampleRate } = await readWavFile(LIBRIVOX);
    assert.equal(sampleRate, 16000);
    assert.equal(samples.length, 113600);
    assert.ok(samples.some((s) => Math.abs(s) > 5000), 'the file holds speech, not silence');
  });

  it('reads back what pcmToWav wrote', async () => {
    const path = join(dir, 'roundtrip.wav');
    const pcm = Int16Array.from({ length: 999 }, (_, i) => (i * 37) % 65536 - 32768);
    writeFileSync(path, pcmToWav(pcm, 44100));
    const back = await readWavFile(path);
    assert.equal(back.sampleRate, 44100);
    assert.deepEqual(back.samples, pcm);
  });
});
