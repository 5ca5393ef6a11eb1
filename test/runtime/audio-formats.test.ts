/**
 * Every encoding Parley added beyond PCM and G.711, through a real server session with the local
 * engines (docs/protocol-decisions.md#compressed-audio): real speech encoded by ffmpeg (an
 * independent encoder) goes in as linear32, flac, ogg-opus and raw opus packets and comes back as
 * transcripts; the agent's opus, mp3 and flac come out and ffmpeg decodes them to the duration of
 * the same speech in linear16.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { startParley } from '../../src/server/start-parley.js';
import type { Parley } from '../../src/server/start-parley.js';
import { AgentSocket } from '../support/agent-socket.js';
import { CARD_RULES, cardsClips } from '../support/fixtures.js';
import type { Clip } from '../support/fixtures.js';
import { wordErrors } from '../support/wer.js';

const GREETING = 'Welcome back. Your table is ready, and the cards are shuffled.';

function ffmpeg(args: string[]): Buffer {
  return execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { maxBuffer: 64 * 1024 * 1024 });
}

/** The packets of an Ogg file after its two Opus header packets (test-side framing, independent of libogg). */
function oggOpusPackets(file: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let current: Buffer[] = [];
  for (let offset = 0; offset < file.length; ) {
    assert.equal(file.toString('latin1', offset, offset + 4), 'OggS');
    const segments = file[offset + 26] as number;
    let body = offset + 27 + segments;
    for (let i = 0; i < segments; i++) {
      const lace = file[offset + 27 + i] as number;
      current.push(file.subarray(body, body + lace));
      body += lace;
      if (lace < 255) {
        packets.push(Buffer.concat(current));
        current = [];
      }
    }
    offset = body;
  }
  return packets.slice(2);
}

async function open(parley: Parley, audio: Record<string, unknown>, greeting?: string): Promise<AgentSocket> {
  const socket = await AgentSocket.open(`${parley.server.url}/v1/agent/converse`);
  socket.send({
    type: 'Settings',
    audio,
    agent: {
      listen: { provider: { type: 'pocketsphinx' } },
      think: { provider: { type: 'rules', rules: CARD_RULES } },
      speak: { provider: { type: 'flite' } },
      ...(greeting === undefined ? {} : { greeting }),
    },
  });
  await socket.waitFor('SettingsApplied');
  return socket;
}

/** Sends messages a few at a time, faster than real time, and waits for the agent's answer. */
async function sendAndHear(socket: AgentSocket, messages: readonly Uint8Array[]): Promise<string> {
  for (let i = 0; i < messages.length; i++) {
    socket.sendAudio(messages[i] as Uint8Array);
    if (i % 5 === 4) await new Promise((resolve) => setTimeout(resolve, 30));
  }
  const reply = await socket.waitFor('ConversationText', (e) => e.role === 'assistant', 60_000);
  assert.ok(reply !== undefined);
  return socket
    .events('ConversationText')
    .filter((e) => e.role === 'user')
    .map((e) => String(e.content))
    .join(' ');
}

function chunks(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) out.push(bytes.subarray(offset, offset + size));
  return out;
}

describe('audio formats through a real session', () => {
  let parley: Parley;
  let dir: string;
  let clip: Clip;
  before(async () => {
    parley = await startParley({ env: { PATH: process.env['PATH'] }, overrides: { port: 0, idleTimeoutMs: 60_000 }, logger: silentLogger() });
    dir = mkdtempSync(join(tmpdir(), 'parley-formats-'));
    clip = cardsClips()[0] as Clip;
  });
  after(async () => {
    await parley.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The clip with 1.2 s of silence after it (the end of the turn), as a 16 kHz WAV for ffmpeg. */
  function speechWav(): string {
    const path = join(dir, 'speech.wav');
    ffmpeg(['-i', clip.path, '-af', 'apad=pad_dur=1.2', '-ar', '16000', '-ac', '1', path]);
    return path;
  }

  const inputs: { name: string; audio: Record<string, unknown>; messages: () => Buffer[] }[] = [
    {
      name: 'linear32 (32-bit float) at 24 kHz',
      audio: { input: { encoding: 'linear32', sample_rate: 24000 } },
      messages: () => chunks(ffmpeg(['-i', speechWav(), '-f', 'f32le', '-ar', '24000', '-']), 1921),
    },
    {
      name: 'flac at 16 kHz, cut at arbitrary bytes',
      audio: { input: { encoding: 'flac', sample_rate: 16000 } },
      messages: () => chunks(ffmpeg(['-i', speechWav(), '-c:a', 'flac', '-f', 'flac', '-']), 777),
    },
    {
      name: 'ogg-opus from 48 kHz, cut at arbitrary bytes',
      audio: { input: { encoding: 'ogg-opus', sample_rate: 48000 } },
      messages: () => chunks(ffmpeg(['-i', speechWav(), '-c:a', 'libopus', '-b:a', '24k', '-ar', '48000', '-f', 'ogg', '-']), 501),
    },
    {
      name: 'opus, one raw packet per message',
      audio: { input: { encoding: 'opus', sample_rate: 48000 } },
      messages: () => oggOpusPackets(ffmpeg(['-i', speechWav(), '-c:a', 'libopus', '-b:a', '24k', '-frame_duration', '20', '-f', 'ogg', '-'])),
    },
  ];

  for (const input of inputs) {
    it(`hears real speech sent as ${input.name}`, async () => {
      const socket = await open(parley, { ...input.audio, output: { encoding: 'linear16', sample_rate: 16000 } });
      const heard = await sendAndHear(socket, input.messages());
      const { errors, words } = wordErrors(clip.transcript, heard);
      // The same clip as linear16 is heard word for word (test/runtime/real-speech.test.ts).
      assert.ok(errors <= 1, `heard "${heard}" for "${clip.transcript}" (${errors} of ${words} words wrong)`);
      socket.close();
    });
  }

  /** The greeting's audio (all binary frames until AgentAudioDone), and when its first and last frames came. */
  async function greeting(output: Record<string, unknown>): Promise<{ bytes: Buffer; spreadMs: number }> {
    const socket = await open(parley, { input: { encoding: 'linear16', sample_rate: 16000 }, output }, GREETING);
    const times: number[] = [];
    const parts: Buffer[] = [];
    socket.ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) return;
      times.push(performance.now());
      parts.push(Buffer.from(data));
    });
    await socket.waitFor('AgentAudioDone', () => true, 30_000);
    socket.close();
    return { bytes: Buffer.concat(parts), spreadMs: (times.at(-1) ?? 0) - (times[0] ?? 0) };
  }

  function decodedMs(bytes: Buffer, extension: string): number {
    const path = join(dir, `agent.${extension}`);
    writeFileSync(path, bytes);
    return ffmpeg(['-i', path, '-f', 's16le', '-ac', '1', '-ar', '16000', '-']).length / 32;
  }

  it('sends opus (Ogg, 48 kHz), mp3 (22.05 kHz) and flac that ffmpeg decodes to the speech\'s duration, paced by duration', async () => {
    const reference = await greeting({ encoding: 'linear16', sample_rate: 16000, container: 'none' });
    const speechMs = reference.bytes.length / 32;
    assert.ok(speechMs > 2000, `the greeting lasts ${speechMs} ms`);
    const outputs: { output: Record<string, unknown>; extension: string; probe: RegExp; toleranceMs: number }[] = [
      { output: { encoding: 'opus', container: 'ogg' }, extension: 'ogg', probe: /Audio: opus, 48000 Hz, mono/, toleranceMs: 30 },
      { output: { encoding: 'mp3', bitrate: 32000 }, extension: 'mp3', probe: /Audio: mp3.*22050 Hz, mono.*32 kb\/s/, toleranceMs: 90 },
      { output: { encoding: 'flac', sample_rate: 22050 }, extension: 'flac', probe: /Audio: flac, 22050 Hz, mono/, toleranceMs: 5 },
    ];
    for (const { output, extension, probe, toleranceMs } of outputs) {
      const { bytes, spreadMs } = await greeting(output);
      const ms = decodedMs(bytes, extension);
      assert.ok(Math.abs(ms - speechMs) <= toleranceMs, `${extension}: decoded ${ms} ms, the speech lasts ${speechMs} ms`);
      const info = spawnSync('ffprobe', ['-hide_banner', join(dir, `agent.${extension}`)], { encoding: 'utf8' }).stderr;
      assert.match(info, probe);
      // Sent at real time: everything but the playout lead (200 ms) is spread over the speech (±10 %).
      assert.ok(Math.abs(spreadMs - (speechMs - 200)) <= 0.1 * speechMs, `${extension}: frames spread over ${spreadMs.toFixed(0)} ms for ${speechMs} ms of speech`);
    }
  });
});
