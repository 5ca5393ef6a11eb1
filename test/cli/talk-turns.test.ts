/**
 * `parley talk` against a real Parley server (scripted providers): a turn without a reply is
 * reported and the next input still goes; the exit status says a turn went unanswered; files
 * only with --out; refusals said in words.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '../../src/client/wav.js';
import type { RunningServer } from '../../src/server/index.js';
import { startTestServer } from '../support/test-server.js';

const CLI = join(import.meta.dirname, 'support', 'talk-cli.ts');
/** By address, so that the CLI also loads from a working directory outside the repository. */
const TSX = import.meta.resolve('tsx');

function run(args: string[], cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', TSX, CLI, 'talk', ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(cwd === undefined ? {} : { cwd }) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `ms` of tone (the scripted listener hears one utterance) or of silence (it hears nothing). */
function wav(ms: number, loud: boolean): Uint8Array {
  const samples = Math.round(16 * ms);
  const pcm = Buffer.alloc(samples * 2);
  if (loud) for (let i = 0; i < samples; i++) pcm.writeInt16LE(Math.round(6000 * Math.sin((2 * Math.PI * 300 * i) / 16000)), i * 2);
  return encodeWav(pcm, { sampleRate: 16000 });
}

const scriptedSettings = (transcripts: string[], greeting?: string): string =>
  JSON.stringify({
    type: 'Settings',
    agent: {
      listen: { provider: { type: 'scripted', transcripts } },
      think: { provider: { type: 'scripted' } },
      speak: { provider: { type: 'scripted' } },
      ...(greeting === undefined ? {} : { greeting }),
    },
  });

describe('parley talk turn by turn', () => {
  let server: RunningServer;
  let dir: string;
  before(async () => {
    server = await startTestServer({ idleTimeoutMs: 60_000 });
    dir = await mkdtemp(join(tmpdir(), 'parley-talk-turns-'));
    await writeFile(join(dir, 'tone.wav'), wav(600, true));
    await writeFile(join(dir, 'quiet.wav'), wav(600, false));
    await writeFile(join(dir, 'unheard.json'), scriptedSettings(['', 'second words'], 'Welcome.'));
    await writeFile(join(dir, 'heard.json'), scriptedSettings(['first words']));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a turn without words prints (no reply), the next input is answered, and the exit status is 1', async () => {
    const out = join(dir, 'unheard');
    const tone = join(dir, 'tone.wav');
    const { code, stdout, stderr } = await run([tone, tone, '--url', server.url, '--settings', join(dir, 'unheard.json'), '--out', out, '--fast']);
    assert.deepEqual(stdout.trim().split('\n'), ['agent: Welcome.', '(no reply)', 'user: second words', 'agent: You said: second words.']);
    assert.match(stderr, /no reply to tone\.wav: the server recognized no words in it/);
    assert.match(stderr, /parley talk: 1 of 2 inputs got no reply/);
    assert.equal(code, 1);
    assert.deepEqual((await readdir(out)).sort(), ['greeting.wav', 'reply-2.wav'], 'the greeting has its own name; reply-N answers input N');
  });

  it('an input nothing answers times out as (no reply) and the batch goes on', async () => {
    const args = [join(dir, 'quiet.wav'), join(dir, 'tone.wav'), '--url', server.url, '--settings', join(dir, 'heard.json'), '--fast', '--timeout', '1500'];
    const { code, stdout, stderr } = await run(args);
    assert.deepEqual(stdout.trim().split('\n'), ['(no reply)', 'user: first words', 'agent: You said: first words.']);
    assert.match(stderr, /no reply to quiet\.wav: nothing came back in time/);
    assert.equal(code, 1);
  });

  it('--json reports audio once per utterance; without --out nothing is written', async () => {
    const cwd = join(dir, 'cwd');
    await rm(cwd, { recursive: true, force: true });
    await mkdir(cwd);
    const tone = join(dir, 'tone.wav');
    const { code, stdout, stderr } = await run([tone, tone, '--url', server.url, '--settings', join(dir, 'unheard.json'), '--fast', '--json'], cwd);
    assert.equal(code, 1, stderr);
    const events = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const audio = events.filter((e) => e['type'] === 'Audio');
    assert.deepEqual(audio.map((a) => a['utterance']), ['greeting', 'reply-2']);
    assert.ok(audio.every((a) => typeof a['bytes'] === 'number' && a['bytes'] > 0 && typeof a['duration_ms'] === 'number' && a['file'] === undefined));
    assert.deepEqual(events.filter((e) => e['type'] === 'NoReply'), [{ type: 'NoReply', input: 1, name: 'tone.wav', reason: 'no_speech_recognized' }]);
    assert.ok(events.some((e) => e['type'] === 'Warning' && e['code'] === 'NO_SPEECH_RECOGNIZED'));
    assert.deepEqual(await readdir(cwd), []);
  });
});

describe('parley talk says why it could not connect', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-talk-refused-'));
    await writeFile(join(dir, 'tone.wav'), wav(300, true));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('HTTP 401: the key', async () => {
    const server = await startTestServer({ apiKeys: ['right-key'] });
    const { code, stderr } = await run([join(dir, 'tone.wav'), '--url', server.url, '--key', 'wrong-key']);
    await server.close();
    assert.equal(code, 1);
    assert.match(stderr, /refused the key \(HTTP 401\): give the right one with --key or PARLEY_API_KEY/);
  });

  it('HTTP 503: full or shutting down', async () => {
    const server = await startTestServer({ maxSessions: 0 });
    const { code, stderr } = await run([join(dir, 'tone.wav'), '--url', server.url]);
    await server.close();
    assert.equal(code, 1);
    assert.match(stderr, /is full or shutting down \(HTTP 503\)/);
  });

  it('connection refused: nothing listening', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const { code, stderr } = await run([join(dir, 'tone.wav'), '--url', `ws://127.0.0.1:${port}`]);
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`nothing is listening at ws://127\\.0\\.0\\.1:${port} \\(connection refused\\)`));
  });
});
