/**
 * Server-side echo suppression (docs/protocol-decisions.md#echo-suppression), measured as the
 * issue asks: a client that plays the agent's voice and whose microphone hears it back at
 * -10 dB, 100 to 200 ms later. With suppression on, that echo alone never barges in, while a
 * real user speaking over the agent still does. The same session with suppression off is
 * interrupted by its own echo, which shows that the test measures something.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { startParley } from '../../src/server/start-parley.js';
import type { Parley } from '../../src/server/start-parley.js';
import { AgentSocket } from '../support/agent-socket.js';
import { JFK_TRANSCRIPT, fixturePath, readPcm16 } from '../support/fixtures.js';

const RATE = 16000;
const FRAME = 320;
/** -10 dB. */
const ECHO_GAIN = 10 ** (-10 / 20);
const GREETING =
  'Thank you for calling the Parley test line. This message is long on purpose, so that its own echo has every chance to ' +
  'interrupt it. Our offices are open from nine in the morning until five in the evening, Monday to Friday, and on ' +
  'Saturday mornings. Please have your account number ready when you speak to one of our agents.';

interface Call {
  /** Events in order, and when the first UserStartedSpeaking came (ms after the agent's first audio). */
  events: string[];
  bargeInAtMs: number | undefined;
  agentAudioMs: number;
}

/**
 * A client in real time: it plays the agent's audio as it arrives (20 ms at a time, like a sound
 * card), and its microphone picks up what it played `delayMs` later at -10 dB, plus the user's
 * own voice from `userAtMs` (after the agent's first audio) when given.
 */
async function call(parley: Parley, options: { echoSuppression: boolean; delayMs: number; user?: { samples: Int16Array; atMs: number } }): Promise<Call> {
  const socket = await AgentSocket.open(`${parley.server.url}/v1/agent/converse`);
  socket.send({
    type: 'Settings',
    audio: { input: { encoding: 'linear16', sample_rate: RATE, echo_suppression: options.echoSuppression }, output: { encoding: 'linear16', sample_rate: RATE } },
    agent: { listen: { provider: { type: 'pocketsphinx' } }, think: { provider: { type: 'rules' } }, speak: { provider: { type: 'flite' } }, greeting: GREETING },
  });
  await socket.waitFor('SettingsApplied');
  const playback: Int16Array[] = [];
  let played = 0;
  let received = 0;
  const delayFrames = Math.round(options.delayMs / 20);
  const speaker: Int16Array[] = [];
  let firstAudioTick: number | undefined;
  let agentAudioSamples = 0;
  const start = performance.now();
  for (let tick = 0; tick < 1500; tick++) {
    // Drift-free 20 ms ticks.
    const due = start + tick * 20;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    for (; received < socket.received.length; received++) {
      const item = socket.received[received];
      if (item?.kind !== 'audio') continue;
      const copy = new Uint8Array(item.bytes);
      playback.push(new Int16Array(copy.buffer, 0, copy.length >> 1));
    }
    // The speaker plays the next 20 ms of agent audio, or silence.
    const out = new Int16Array(FRAME);
    let filled = 0;
    while (filled < FRAME && playback.length > 0) {
      const head = playback[0] as Int16Array;
      const take = Math.min(FRAME - filled, head.length - played);
      out.set(head.subarray(played, played + take), filled);
      filled += take;
      played += take;
      if (played === head.length) {
        playback.shift();
        played = 0;
      }
    }
    if (filled > 0) {
      firstAudioTick ??= tick;
      agentAudioSamples += filled;
    }
    speaker.push(out);
    const echo = speaker.length > delayFrames ? (speaker[speaker.length - 1 - delayFrames] as Int16Array) : new Int16Array(FRAME);
    const mic = new Int16Array(FRAME);
    const userOffset = options.user === undefined || firstAudioTick === undefined ? -1 : (tick - firstAudioTick) * FRAME - (options.user.atMs * RATE) / 1000;
    for (let i = 0; i < FRAME; i++) {
      const voice = options.user !== undefined && userOffset >= 0 ? (options.user.samples[userOffset + i] ?? 0) : 0;
      mic[i] = Math.max(-32768, Math.min(32767, Math.round(ECHO_GAIN * (echo[i] as number) + voice)));
    }
    socket.sendAudio(new Uint8Array(mic.buffer));
    const types = socket.events().map((e) => e.type);
    if (types.includes('UserStartedSpeaking') || (types.includes('AgentAudioDone') && playback.length === 0)) break;
  }
  socket.close();
  const events = socket.events().map((e) => e.type);
  const bargeIn = socket.events().findIndex((e) => e.type === 'UserStartedSpeaking');
  return {
    events,
    bargeInAtMs: bargeIn < 0 || firstAudioTick === undefined ? undefined : performance.now() - start - firstAudioTick * 20,
    agentAudioMs: agentAudioSamples / (RATE / 1000),
  };
}

describe('echo suppression with real speech', () => {
  let parley: Parley;
  let jfk: Int16Array;
  before(async () => {
    parley = await startParley({ env: { PATH: process.env['PATH'] }, overrides: { port: 0, idleTimeoutMs: 60_000 }, logger: silentLogger() });
    const clip = readPcm16(await fixturePath('jfk'));
    assert.equal(clip.sampleRate, RATE);
    assert.ok(JFK_TRANSCRIPT.length > 0);
    jfk = clip.samples;
  });
  after(() => parley.close());

  for (const delayMs of [100, 200]) {
    it(`the agent's own voice fed back at -10 dB after ${delayMs} ms does not barge in when suppression is on`, async () => {
      const result = await call(parley, { echoSuppression: true, delayMs });
      assert.ok(!result.events.includes('UserStartedSpeaking'), `barged in ${result.bargeInAtMs?.toFixed(0)} ms into the agent's speech`);
      assert.ok(result.events.includes('AgentAudioDone'), `the greeting played to its end: ${result.events.join(', ')}`);
      assert.ok(result.agentAudioMs > 10_000, `the greeting is long enough to test (${result.agentAudioMs} ms)`);
    });
  }

  it('without suppression, the same echo (150 ms) barges in by itself', async () => {
    const result = await call(parley, { echoSuppression: false, delayMs: 150 });
    assert.ok(result.events.includes('UserStartedSpeaking'), `no barge-in: ${result.events.join(', ')}`);
    assert.ok(!result.events.includes('AgentAudioDone'));
  });

  it('with suppression on, a user speaking over the agent (and its echo) still barges in', async () => {
    const result = await call(parley, { echoSuppression: true, delayMs: 150, user: { samples: jfk, atMs: 4000 } });
    assert.ok(result.events.includes('UserStartedSpeaking'), `the user did not barge in: ${result.events.join(', ')}`);
    assert.ok(!result.events.includes('AgentAudioDone'), 'the agent stopped for the user');
    assert.ok(result.bargeInAtMs !== undefined && result.bargeInAtMs > 4000, `barge-in after the user began (${result.bargeInAtMs?.toFixed(0)} ms)`);
  });
});
