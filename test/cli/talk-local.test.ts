/**
 * `parley talk` round trip on the real in-process server with the embedded local engines:
 * spoken questions in, the agent's replies out as WAV, and the local speech recognizer hears
 * in those WAVs the words the command printed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pcmToWav, readWavFile } from '../../src/audio/wav.js';
import { resampleBuffer } from '../../src/audio/resampler.js';
import { silentLogger } from '../../src/core/logger.js';
import { closeClassicPools } from '../../src/runtime/classic-pools.js';
import { synthesizeWithFlite } from '../../src/speak/flite/flite-synth.js';
import { createLocalListen } from '../../src/listen/pocketsphinx/pocketsphinx-listen.js';
import { wordErrors } from '../support/wer.js';
import { concat, listenTo, silence } from '../listen/pocketsphinx/pocketsphinx-listen-support.js';

const MAIN = resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const QUESTIONS = ['hello there', 'what is your name'];

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const env = { ...process.env, PARLEY_API_KEYS: '', PARLEY_LOG_LEVEL: 'error' };
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'talk', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** Agent lines grouped by the user turn they answer. */
function turns(stdout: string): { user: string; agent: string }[] {
  const out: { user: string; agent: string }[] = [];
  for (const line of stdout.trim().split('\n')) {
    if (line.startsWith('user: ')) out.push({ user: line.slice(6), agent: '' });
    else if (line.startsWith('agent: ') && out.length > 0) {
      const last = out[out.length - 1];
      if (last) last.agent = `${last.agent} ${line.slice(7)}`.trim();
    }
  }
  return out;
}

describe('parley talk with the in-process server and local engines', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-talk-local-'));
    for (const [i, question] of QUESTIONS.entries()) {
      const speech = synthesizeWithFlite(question, 'slt');
      await writeFile(join(dir, `q${i + 1}.wav`), pcmToWav(speech.samples, speech.sampleRate));
    }
  });
  after(async () => {
    await closeClassicPools();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers each spoken question; the reply WAVs say what was printed', async () => {
    const out = join(dir, 'out');
    const inputs = QUESTIONS.map((_, i) => join(dir, `q${i + 1}.wav`));
    const { code, stdout, stderr } = await run([...inputs, '--out', out, '--fast']);
    assert.equal(code, 0, stderr);
    const conversation = turns(stdout);
    assert.equal(conversation.length, QUESTIONS.length, stdout);
    for (const [i, turn] of conversation.entries()) {
      assert.ok(wordErrors(QUESTIONS[i] ?? '', turn.user).errors <= 1, `heard "${turn.user}"`);
      assert.notEqual(turn.agent, '', `no agent line after "${turn.user}"`);
    }
    assert.deepEqual((await readdir(out)).sort(), ['reply-1.wav', 'reply-2.wav']);

    const recognizer = createLocalListen({ provider: { type: 'local' } }, { env: {}, logger: silentLogger(), warn: () => {} });
    let errors = 0;
    let words = 0;
    for (const [i, turn] of conversation.entries()) {
      const reply = await readWavFile(join(out, `reply-${i + 1}.wav`));
      const samples = await resampleBuffer(reply.samples, reply.sampleRate, 16000);
      const heard = await listenTo(recognizer, concat([silence(500), samples, silence(1500)]));
      const counted = wordErrors(turn.agent, heard.turns.join(' '));
      errors += counted.errors;
      words += counted.words;
    }
    assert.ok(errors / words <= 0.35, `word error rate ${((100 * errors) / words).toFixed(0)} % over ${words} words`);
  });
});
