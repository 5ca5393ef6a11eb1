import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '../../src/client/wav.js';
import { FAKE_KEY, startFakeServer } from '../client/support/fake-server.js';
import type { FakeServer, FakeSession } from '../client/support/fake-server.js';
import { buildPage, launchChromium, recordMicTracks, screenshotPath, serveDir } from './support/browser.js';
import { saveSettingsScript, snapshotHooks } from './support/browser.js';
import type { PageHooks } from './support/browser.js';
import type { Page } from 'playwright-core';

/** A steady tone the whole time: only press-to-talk decides what the server hears. */
function toneWav(): Uint8Array {
  const rate = 48000;
  const pcm = Buffer.alloc(rate * 2 * 2);
  for (let i = 0; i < pcm.length / 2; i++) pcm.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * 300 * i) / rate)), i * 2);
  return encodeWav(pcm, { sampleRate: rate });
}

/** 1 s of quiet, 1 s of tone, 3 s of quiet: one utterance for the fake server's energy detector. */
function micWav(): Uint8Array {
  const rate = 48000;
  const pcm = Buffer.alloc(rate * 5 * 2);
  for (let i = rate; i < rate * 2; i++) pcm.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * 300 * i) / rate)), i * 2);
  return encodeWav(pcm, { sampleRate: rate });
}

/** Three seconds of agent audio: a 24 kHz linear16 tone. */
const AGENT_TONE = (() => {
  const tone = Buffer.alloc(24000 * 2 * 3);
  for (let i = 0; i < tone.length / 2; i++) tone.writeInt16LE(Math.round(5000 * Math.sin(i / 5)), i * 2);
  return tone;
})();

/** Sends `pcm` as the agent's audio, in 20 ms messages. */
function sendAgentAudio(session: FakeSession, pcm: Buffer): void {
  for (let offset = 0; offset < pcm.length; offset += 960) session.socket.send(pcm.subarray(offset, offset + 960));
}

/** Sends the three seconds of agent audio and waits until the page has scheduled all of it. */
async function playAgentTone(tab: Page, session: FakeSession): Promise<void> {
  const before = (await tab.evaluate(snapshotHooks)).samplesScheduled;
  sendAgentAudio(session, AGENT_TONE);
  await tab.waitForFunction(
    (expected) => (globalThis as unknown as { __parley: PageHooks }).__parley.samplesScheduled >= expected,
    before + AGENT_TONE.length / 2,
  );
}

describe('browser page against the fake agent server', () => {
  let server: FakeServer;
  let page: Awaited<ReturnType<typeof buildPage>>;
  let site: Awaited<ReturnType<typeof serveDir>>;
  let dir: string;
  before(async () => {
    server = await startFakeServer();
    page = await buildPage();
    site = await serveDir(page.dir);
    dir = await mkdtemp(join(tmpdir(), 'parley-web-test-'));
    await writeFile(join(dir, 'mic.wav'), micWav());
    await writeFile(join(dir, 'tone.wav'), toneWav());
    // Nothing for the fake agent to hear: the test alone says what the server sends.
    await writeFile(join(dir, 'quiet.wav'), encodeWav(Buffer.alloc(48000 * 2), { sampleRate: 48000 }));
  });
  after(async () => {
    await site.close();
    await page.remove();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Runs `use` on the page, opened on the fake server's agent URL in a Chromium whose microphone
   * loops `wav` (a file of the test folder), with the fake key saved unless `saved` is false; the
   * browser is closed after.
   */
  async function withPage(
    wav: string,
    use: (tab: Page) => Promise<void>,
    options: { loop?: boolean; micAllowed?: boolean; saved?: boolean; trackMic?: boolean } = {},
  ): Promise<void> {
    const browser = await launchChromium(join(dir, wav), options.loop ?? true, { micAllowed: options.micAllowed ?? true });
    try {
      const tab = await browser.context.newPage();
      if (options.trackMic === true) await tab.addInitScript(recordMicTracks);
      if (options.saved !== false) await tab.addInitScript(saveSettingsScript, { key: FAKE_KEY, greeting: '', functions: '[]' });
      await tab.goto(`${site.url}?url=${encodeURIComponent(`${server.url}/v1/agent/converse`)}`);
      await use(tab);
    } finally {
      await browser.close();
    }
  }

  /** Presses Start: the fake server's session, once the page has its SettingsApplied unless `applied` is false. */
  async function start(tab: Page, applied = true): Promise<FakeSession> {
    const next = server.nextSession();
    await tab.getByRole('button', { name: 'Start' }).click();
    const session = await next;
    if (applied) await tab.waitForFunction(() => (globalThis as unknown as { __parley: PageHooks }).__parley.eventsByType['SettingsApplied'] === 1);
    return session;
  }

  it('streams the microphone, shows both sides, plays the reply and charts its latency', async () => {
    await withPage('mic.wav', async (tab) => {
      await tab.click('#session');
      await tab.waitForFunction(() => {
        const hooks = (globalThis as unknown as { __parley: PageHooks }).__parley;
        return hooks.transcript.some((l) => l.kind === 'assistant') && hooks.samplesPlayed > 0;
      }, undefined, { timeout: 30_000 });
      const hooks = await tab.evaluate(snapshotHooks);
      assert.match(hooks.transcript.find((l) => l.kind === 'user')?.text ?? '', /^I heard \d/);
      assert.equal(hooks.transcript.find((l) => l.kind === 'assistant')?.text, 'Reply number 1.');
      assert.ok(hooks.framesSent > 50, `frames sent: ${hooks.framesSent}`);
      assert.ok(hooks.samplesPlayed > 0);
      assert.equal((await tab.locator('#transcript li.user').count()) > 0, true);
      assert.equal(await tab.locator('#latency-chart g.turn-bar').count(), 1, 'one latency bar for the one turn');
      assert.ok((await tab.locator('#latency-chart g.turn-bar rect.bar').count()) > 0, 'its segments drawn');
      const settings = server.sessions.at(-1)?.received.find((r) => r.kind === 'json');
      assert.deepEqual(settings?.kind === 'json' ? settings.message['audio'] : undefined, {
        input: { encoding: 'linear16', sample_rate: 16000 },
        output: { encoding: 'linear16', sample_rate: 24000, container: 'none' },
      });
      assert.equal(server.sessions.at(-1)?.protocol, 'token');
      await tab.screenshot({ path: await screenshotPath('page-fake.png'), fullPage: true });

      // Barge-in: 3 s of agent audio queued, then UserStartedSpeaking drops what was not played;
      // the interrupted reply's LatencyReport (Parley sends one) adds no bar.
      const session = server.sessions.at(-1);
      assert.ok(session);
      const before = await tab.evaluate(snapshotHooks);
      session.send({ type: 'AgentStartedSpeaking', total_latency: 0.3, tts_latency: 0.1, ttt_latency: 0.2 });
      await playAgentTone(tab, session);
      session.send({ type: 'UserStartedSpeaking' });
      session.send({ type: 'LatencyReport', total_latency: 0.3, tts_latency: 0.1, ttt_text_latency: 0.2 });
      await tab.waitForFunction(() => (globalThis as unknown as { __parley: PageHooks }).__parley.flushes > 0);
      await tab.waitForFunction(() => (globalThis as unknown as { __parley: PageHooks }).__parley.eventsByType['LatencyReport'] === 2);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const flushed = await tab.evaluate(snapshotHooks);
      assert.equal(flushed.flushes, 1);
      assert.ok(flushed.samplesPlayed - before.samplesPlayed < 24000 * 2, 'the queued audio was not all played');
      assert.equal(flushed.state, 'user-speaking');
      assert.equal(await tab.locator('#agent-state').innerText(), 'you are speaking');
      assert.equal(flushed.latencies.length, 1, 'a barge-in adds no latency bar');
      assert.equal(await tab.locator('#latency-chart g.turn-bar').count(), 1);
    }, { loop: false });
  });

  it('press-to-talk sends silence until the button is held', async () => {
    await withPage('tone.wav', async (tab) => {
      await tab.check('input[value="push-to-talk"]');
      const next = server.nextSession();
      await tab.click('#session');
      const session = await next;
      await tab.waitForFunction(() => (globalThis as unknown as { __parley: PageHooks }).__parley.framesSent > 50);
      const quiet = session.received.filter((r) => r.kind === 'binary');
      assert.ok(quiet.every((r) => r.kind === 'binary' && r.bytes.every((b) => b === 0)), 'released: only silence');
      await tab.locator('#ptt').dispatchEvent('pointerdown');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await tab.locator('#ptt').dispatchEvent('pointerup');
      await tab.waitForFunction(
        () => (globalThis as unknown as { __parley: PageHooks }).__parley.transcript.some((l) => l.kind === 'assistant'),
        undefined,
        { timeout: 20_000 },
      );
      const hooks = await tab.evaluate(snapshotHooks);
      assert.match(hooks.transcript.find((l) => l.kind === 'user')?.text ?? '', /^I heard \d/);

      // From the keyboard: holding Space (focus outside a text field) opens the microphone too.
      const voiced = (): number => session.received.filter((r) => r.kind === 'binary' && r.bytes.some((b) => b !== 0)).length;
      const before = voiced();
      await tab.locator('#ptt').focus();
      await tab.keyboard.down('Space');
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(await tab.locator('#ptt').getAttribute('aria-pressed'), 'true');
      await tab.keyboard.up('Space');
      assert.equal(await tab.locator('#ptt').getAttribute('aria-pressed'), 'false');
      assert.ok(voiced() > before, 'the held Space sent the microphone');
    });
  });

  it("shows the server's Error verbatim when it ends the session, and is ready to start again", async () => {
    await withPage('tone.wav', async (tab) => {
      const session = await start(tab);
      const description = 'Every LLM of the think chain failed: <upstream said no>';
      session.send({ type: 'Error', code: 'FAILED_TO_THINK', description });
      session.socket.close(1000);
      await tab.locator('#transcript li.error', { hasText: description }).waitFor();
      await tab.locator('#transcript li.notice', { hasText: 'The server ended the session' }).waitFor();
      await tab.getByRole('button', { name: 'Start' }).waitFor();
      await tab.waitForFunction(() => {
        const tracks = (globalThis as unknown as { __micTracks: { readyState: string }[] }).__micTracks;
        return tracks.length > 0 && tracks.every((t) => t.readyState === 'ended');
      });
      assert.ok(await tab.getByLabel('Type a message').isDisabled(), 'nothing to type into without a session');
    }, { trackMic: true });
  });

  it('shows the words heard so far in a live row, then one row per turn with the agent sentences joined', async () => {
    await withPage('quiet.wav', async (tab) => {
      const session = await start(tab);
      assert.equal(new URL(session.request.url ?? '/', 'http://x').searchParams.get('interim_transcripts'), 'true', 'the page asks for interim transcripts');
      session.send({ type: 'UserStartedSpeaking' });
      session.send({ type: 'InterimTranscript', role: 'user', content: 'what is' });
      const live = tab.locator('#transcript li.user.live');
      await live.getByText('what is …').waitFor();
      assert.equal(await tab.locator('#agent-state').innerText(), 'you are speaking');
      session.send({ type: 'InterimTranscript', role: 'user', content: 'what is the time' });
      await live.getByText('what is the time …').waitFor();
      await tab.setViewportSize({ width: 1280, height: 800 });
      await tab.screenshot({ path: await screenshotPath('page-interim-1280x800.png') });
      session.send({ type: 'ConversationText', role: 'user', content: 'what is the time in tokyo' });
      await tab.locator('#agent-state', { hasText: 'thinking' }).waitFor();
      session.send({ type: 'ConversationText', role: 'assistant', content: 'It is noon.' });
      session.send({ type: 'ConversationText', role: 'assistant', content: 'Have a nice lunch.' });
      await tab.locator('#transcript li.assistant', { hasText: 'It is noon. Have a nice lunch.' }).waitFor();
      const hooks = await tab.evaluate(snapshotHooks);
      assert.deepEqual(
        hooks.transcript.map((r) => [r.kind, r.text, r.live]),
        [
          ['user', 'what is the time in tokyo', false],
          ['assistant', 'It is noon. Have a nice lunch.', false],
        ],
      );
      assert.deepEqual(hooks.interims, ['what is', 'what is the time']);
      assert.equal(await live.count(), 0);
      assert.ok(hooks.log.some((e) => e.dir === 'in' && e.type === 'InterimTranscript'), 'logged under its own type');
    });
  });

  it("race: an interrupted reply's LatencyReport that comes after the next reply started adds no bar, and the next reply gets its own", async () => {
    await withPage('quiet.wav', async (tab) => {
      const session = await start(tab);
      const hooks = (): Promise<PageHooks> => tab.evaluate(snapshotHooks);
      session.send({ type: 'ConversationText', role: 'user', content: 'first question' });
      session.send({ type: 'AgentStartedSpeaking', total_latency: 0.9, tts_latency: 0.1, ttt_latency: 0.2 });
      await playAgentTone(tab, session);
      session.send({ type: 'UserStartedSpeaking' });
      session.send({ type: 'ConversationText', role: 'user', content: 'second question' });
      session.send({ type: 'AgentStartedSpeaking', total_latency: 0.4, tts_latency: 0.1, ttt_latency: 0.2 });
      // The first reply's report, late: after the second reply has started.
      session.send({ type: 'LatencyReport', total_latency: 0.9, stt_latency: 0.5, ttt_text_latency: 0.3, tts_latency: 0.1 });
      sendAgentAudio(session, AGENT_TONE.subarray(0, 9600));
      session.send({ type: 'AgentAudioDone' });
      session.send({ type: 'LatencyReport', total_latency: 0.4, stt_latency: 0.25, ttt_text_latency: 0.1, tts_latency: 0.05 });
      await tab.waitForFunction(() => (globalThis as unknown as { __parley: PageHooks }).__parley.eventsByType['LatencyReport'] === 2);
      await tab.waitForFunction(() => (globalThis as unknown as { __parley: PageHooks }).__parley.state === 'listening');
      const after = await hooks();
      assert.deepEqual(after.latencies, [{ turn: 1, totalMs: 400, sttMs: 250, thinkMs: 100, ttsMs: 50 }]);
      assert.equal(await tab.locator('#latency-chart g.turn-bar').count(), 1);
      assert.deepEqual(after.transcript.map((r) => r.kind), ['user', 'notice', 'user'], 'question, "interrupted", question');
    });
  });

  it('typing while the agent speaks cuts its audio off, as the server does', async () => {
    await withPage('quiet.wav', async (tab) => {
      const session = await start(tab);
      session.send({ type: 'AgentStartedSpeaking', total_latency: 0.3, tts_latency: 0.1, ttt_latency: 0.2 });
      await playAgentTone(tab, session);
      await tab.locator('#agent-state', { hasText: 'speaking' }).waitFor();
      await tab.getByLabel('Type a message').fill('stop there');
      await tab.getByRole('button', { name: 'Send' }).click();
      await tab.locator('#transcript li.assistant', { hasText: 'Reply number 1.' }).waitFor();
      const hooks = await tab.evaluate(snapshotHooks);
      assert.equal(hooks.flushes, 1, 'the queued audio was dropped');
      assert.ok(hooks.samplesPlayed < 24000 * 2, `not all 3 s played: ${hooks.samplesPlayed}`);
      assert.deepEqual(hooks.transcript.map((r) => [r.kind, r.text]), [
        ['notice', 'interrupted'],
        ['user', 'stop there'],
        ['assistant', 'Reply number 1.'],
      ]);
    });
  });

  it('the microphone refused: the page says so, ends the session and is ready to start again', async () => {
    await withPage('tone.wav', async (tab) => {
      const session = await start(tab, false);
      await tab.locator('#transcript li.error', { hasText: 'The microphone could not be opened' }).waitFor();
      assert.match(await tab.locator('#transcript li.error').innerText(), /Allow it for this page and press Start again/);
      await tab.getByRole('button', { name: 'Start' }).waitFor();
      assert.equal((await tab.evaluate(snapshotHooks)).state, 'idle');
      // The session opened for it is closed, not left running without a microphone.
      await new Promise<void>((resolve) => (session.socket.readyState === session.socket.CLOSED ? resolve() : session.socket.once('close', () => resolve())));
    }, { micAllowed: false });
  });

  it('the network lost mid-session: the page says so, releases the microphone and is ready to start again', async () => {
    await withPage('tone.wav', async (tab) => {
      const agent = `${server.url}/v1/agent/converse`;
      const session = await start(tab, false);
      await tab.waitForFunction(() => (globalThis as unknown as { __parley: PageHooks }).__parley.framesSent > 10);
      session.socket.terminate();
      await tab.locator('#transcript li.error', { hasText: `The connection to ${agent} was lost (close 1006)` }).waitFor();
      await tab.getByRole('button', { name: 'Start' }).waitFor();
      await tab.waitForFunction(() => {
        const tracks = (globalThis as unknown as { __micTracks: { readyState: string }[] }).__micTracks;
        return tracks.length > 0 && tracks.every((t) => t.readyState === 'ended');
      });
      // And it starts again.
      const again = server.nextSession();
      await tab.getByRole('button', { name: 'Start' }).click();
      await again;
      await tab.waitForFunction(() => (globalThis as unknown as { __parley: PageHooks }).__parley.eventsByType['SettingsApplied'] === 2);
    }, { trackMic: true });
  });

  it('Save confirms; a JSON error shows beside the functions field and nothing starts', async () => {
    await withPage('tone.wav', async (tab) => {
      await tab.locator('#settings-panel summary').click();
      await tab.locator('textarea[name="functions"]').fill('[{"name": "f",]');
      await tab.getByRole('button', { name: 'Save' }).click();
      await tab.locator('#functions-error').waitFor();
      assert.match(await tab.locator('#functions-error').innerText(), /^Functions: /);
      assert.equal(await tab.locator('textarea[name="functions"]').getAttribute('aria-invalid'), 'true');
      assert.equal(await tab.locator('#save-status').innerText(), '');
      await tab.getByRole('button', { name: 'Start' }).click();
      assert.equal(await tab.getByRole('button', { name: 'Start' }).count(), 1, 'no session with broken settings');
      await tab.locator('textarea[name="functions"]').fill('[]');
      await tab.getByRole('button', { name: 'Save' }).click();
      await tab.locator('#save-status', { hasText: 'Saved' }).waitFor();
      assert.ok(await tab.locator('#functions-error').isHidden());
    }, { saved: false });
  });
});
