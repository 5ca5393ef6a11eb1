import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '../../src/client/wav.js';
import { FAKE_KEY, startFakeServer } from '../client/support/fake-server.js';
import type { FakeServer } from '../client/support/fake-server.js';

const CLI = join(import.meta.dirname, 'support', 'talk-cli.ts');

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'talk', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A WAV of `ms` of loud tone at `rate`, which the fake server hears as one utterance. */
function toneWav(ms: number, rate: number): Uint8Array {
  const samples = Math.round((rate * ms) / 1000);
  const pcm = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) pcm.writeInt16LE(Math.round(6000 * Math.sin((2 * Math.PI * 300 * i) / rate)), i * 2);
  return encodeWav(pcm, { sampleRate: rate });
}

describe('parley talk', () => {
  let server: FakeServer;
  let dir: string;
  before(async () => {
    server = await startFakeServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-talk-'));
    await writeFile(join(dir, 'one.wav'), toneWav(800, 16000));
    await writeFile(join(dir, 'two.wav'), toneWav(600, 8000));
    await writeFile(join(dir, 'settings.json'), JSON.stringify({ type: 'Settings', agent: { greeting: 'Welcome aboard.' } }));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('--help lists every flag', async () => {
    const { code, stdout } = await run(['--help']);
    assert.equal(code, 0);
    for (const flag of ['--out', '--url', '--key', '--settings', '--fast', '--json', '--output-rate', '--silence', '--timeout']) {
      assert.ok(stdout.includes(flag), `${flag} missing from:\n${stdout}`);
    }
  });

  it('plays each input, prints the conversation and saves one WAV per reply', async () => {
    const out = join(dir, 'plain');
    const inputs = [join(dir, 'one.wav'), join(dir, 'two.wav')];
    const { code, stdout, stderr } = await run([...inputs, '--url', server.url, '--key', FAKE_KEY, '--out', out, '--fast']);
    assert.equal(code, 0, stderr);
    assert.deepEqual(stdout.trim().split('\n'), [
      'user: I heard 0.8 seconds',
      'agent: Reply number 1.',
      'user: I heard 0.6 seconds',
      'agent: Reply number 2.',
    ]);
    assert.match(stderr, /streaming input 1\/2 one\.wav/);
    assert.deepEqual((await readdir(out)).sort(), ['reply-1.wav', 'reply-2.wav']);
    const wav = await readFile(join(out, 'reply-1.wav'));
    assert.equal(wav.toString('ascii', 8, 12), 'WAVE');
    assert.equal(wav.readUInt32LE(24), 16000);
    assert.ok(wav.length > 44 + 16000 * 2 * 0.25, 'reply holds the agent audio');
  });

  it('waits for the greeting first and prints every event as JSON with --json', async () => {
    const out = join(dir, 'json');
    const settings = join(dir, 'settings.json');
    const args = [join(dir, 'one.wav'), '--url', server.url, '--key', FAKE_KEY, '--out', out, '--fast', '--json', '--settings', settings];
    const { code, stdout, stderr } = await run([...args, '--output-rate', '24000']);
    assert.equal(code, 0, stderr);
    const events = stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; role?: string; content?: string });
    const types = new Set(events.map((e) => e.type));
    for (const type of ['Open', 'Welcome', 'SettingsApplied', 'ConversationText', 'Audio', 'AgentAudioDone']) {
      assert.ok(types.has(type), `${type} missing`);
    }
    const texts = events.filter((e) => e.type === 'ConversationText').map((e) => `${e.role}: ${e.content}`);
    assert.deepEqual(texts, ['assistant: Welcome aboard.', 'user: I heard 0.8 seconds', 'assistant: Reply number 1.']);
    assert.deepEqual((await readdir(out)).sort(), ['greeting.wav', 'reply-1.wav']);
    assert.equal((await readFile(join(out, 'reply-1.wav'))).readUInt32LE(24), 24000);
    const audio = events.filter((e) => e.type === 'Audio') as unknown as { utterance: string; bytes: number; file: string }[];
    assert.deepEqual(audio.map((a) => [a.utterance, a.file]), [['greeting', join(out, 'greeting.wav')], ['reply-1', join(out, 'reply-1.wav')]], 'one Audio line per utterance');
    assert.ok(audio.every((a) => a.bytes > 0));
    const sent = server.sessions.at(-1)?.received.find((r) => r.kind === 'json');
    assert.deepEqual(sent?.kind === 'json' ? sent.message['audio'] : undefined, {
      input: { encoding: 'linear16', sample_rate: 16000 },
      output: { encoding: 'linear16', sample_rate: 24000, container: 'none' },
    });
  });

  it('fails with a message when the server refuses the key', async () => {
    const { code, stderr } = await run([join(dir, 'one.wav'), '--url', server.url, '--key', 'nope', '--out', join(dir, 'refused')]);
    assert.equal(code, 1);
    assert.match(stderr, /parley talk: the server at .* refused the key \(HTTP 401\)/);
  });
});
