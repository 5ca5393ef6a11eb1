/**
 * The browser page end to end: headless Chromium with a fake microphone that says one sentence,
 * served by a real Parley with its embedded local engines. A spoken turn and a typed turn must
 * each show both sides, one latency bar and played audio; a server that wants a key and a server
 * that is down must each be explained, leave the page ready to start again and the microphone off.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { pcmToWav } from '../../src/audio/wav.js';
import { synthesizeWithFlite } from '../../src/speak/flite/flite-synth.js';
import { startParley } from '../../src/server/start-parley.js';
import type { Parley } from '../../src/server/start-parley.js';
import { buildPage, launchChromium, recordMicTracks, saveSettingsScript, screenshotPath, snapshotHooks } from './support/browser.js';
import type { PageHooks } from './support/browser.js';

const QUESTION = 'what is the weather in paris';
const TYPED = 'what is the weather in london';
const WEATHER = 'sunny and twenty degrees';
const FUNCTIONS = JSON.stringify([
  {
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
    mock: WEATHER,
  },
]);

/** 1.5 s of quiet, the question, 5 s of quiet, at 16 kHz. */
function micWav(): Uint8Array {
  const speech = synthesizeWithFlite(QUESTION, 'slt');
  const samples = new Int16Array(speech.sampleRate * 1.5 + speech.samples.length + speech.sampleRate * 5);
  samples.set(speech.samples, speech.sampleRate * 1.5);
  return pcmToWav(samples, speech.sampleRate);
}

/** Waits until the page shows `turns` answered turns with their bars and is listening again. */
async function answered(tab: Page, turns: number): Promise<void> {
  await tab.waitForFunction(
    (n) => {
      const hooks = (globalThis as unknown as { __parley: PageHooks }).__parley;
      return hooks.latencies.length >= n && hooks.state === 'listening';
    },
    turns,
    { timeout: 60_000 },
  );
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const { port } = probe.address() as AddressInfo;
  await new Promise((done) => probe.close(done));
  return port;
}

describe('browser page against the real server with local engines', () => {
  let page: Awaited<ReturnType<typeof buildPage>>;
  let parley: Parley;
  let dir: string;
  before(async () => {
    page = await buildPage();
    parley = await startParley({
      env: { PARLEY_LOG_LEVEL: 'error' },
      overrides: { port: 0, host: '127.0.0.1', apiKeys: [], webDir: page.dir },
    });
    dir = await mkdtemp(join(tmpdir(), 'parley-web-real-'));
    await writeFile(join(dir, 'mic.wav'), micWav());
  });
  after(async () => {
    await parley.close();
    await page.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers a spoken and a typed turn, each with both sides, one latency bar and played audio', async () => {
    const browser = await launchChromium(join(dir, 'mic.wav'));
    try {
      const tab = await browser.context.newPage();
      const problems: string[] = [];
      tab.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      tab.on('pageerror', (error) => problems.push(error.message));
      await tab.setViewportSize({ width: 1280, height: 800 });
      await tab.addInitScript(saveSettingsScript, { greeting: '', functions: FUNCTIONS });
      await tab.goto(parley.server.url.replace('ws://', 'http://'));
      // The lists come from this server's discovery endpoints: its local engines, no cloud without keys.
      await tab.locator('#think-providers option[value="rules"]').waitFor({ state: 'attached' });
      const thinkProviders = await tab.locator('#think-providers option').evaluateAll((nodes): string[] =>
        (nodes as unknown as { getAttribute(name: string): string | null }[]).map((n) => n.getAttribute('value') ?? ''),
      );
      assert.ok(thinkProviders.includes('rules'), thinkProviders.join(','));
      assert.ok(!thinkProviders.includes('open_ai'), 'no key for open_ai on this server');

      await tab.getByRole('button', { name: 'Start' }).click();
      await answered(tab, 1);
      const spoken = await tab.evaluate(snapshotHooks);
      const audioAfterSpoken = spoken.samplesPlayed;
      assert.ok(audioAfterSpoken > 0, 'the spoken turn was played');
      await tab.getByLabel('Type a message').fill(TYPED);
      await tab.getByLabel('Type a message').press('Enter');
      await answered(tab, 2);
      const hooks = await tab.evaluate(snapshotHooks);

      const rows = hooks.transcript.map((r) => `${r.kind}: ${r.text}`);
      // What pocketsphinx makes of the fake microphone varies with the machine's load; the typed turn is exact.
      const users = hooks.transcript.filter((r) => r.kind === 'user').map((r) => r.text);
      assert.equal(users.length, 2, rows.join('\n'));
      assert.ok((users[0] ?? '').split(' ').length >= 3, `the spoken turn's words:\n${rows.join('\n')}`);
      assert.equal(users[1], TYPED);
      const replies = hooks.transcript.filter((r) => r.kind === 'assistant');
      assert.equal(replies.length, 2, `one agent row per turn:\n${rows.join('\n')}`);
      assert.ok((replies[0]?.text ?? '').length > 0, rows.join('\n'));
      const typed = replies[1];
      assert.ok(typed, rows.join('\n'));
      assert.ok(typed.text.includes(WEATHER), rows.join('\n'));
      assert.equal(typed.calls.length, 1, 'the function call is inline in the agent row');
      assert.equal(typed.calls[0]?.name, 'get_weather');
      assert.equal(typed.calls[0]?.result, WEATHER);
      assert.equal(hooks.latencies.length, 2, 'one latency bar per turn');
      assert.equal(await tab.locator('#latency-chart g.turn-bar').count(), 2);
      assert.ok(hooks.samplesPlayed > audioAfterSpoken, 'the typed turn was played too');
      assert.equal(await tab.locator('#transcript li.user').count(), 2);

      const log = tab.getByRole('region', { name: 'Event log' });
      for (const type of ['Welcome', 'SettingsApplied', 'ConversationText', 'AgentAudioDone', 'InjectUserMessage']) {
        assert.ok((await log.locator('.type', { hasText: type }).count()) > 0, `${type} in the event log`);
      }
      assert.ok(hooks.log.some((e) => e.dir === 'out' && e.type === 'Settings'), 'sent Settings logged');
      assert.ok(hooks.log.some((e) => e.dir === 'in' && e.type === 'Audio' && (e.frames ?? 0) > 1), 'audio summarized');
      await tab.getByLabel('Filter by type').fill('AgentAudioDone');
      assert.equal(await log.locator('#events li:not([hidden])').count(), 2);
      await tab.getByLabel('Filter by type').fill('');

      // Keyboard: the settings open with Enter, and the lists are there to pick from.
      await tab.locator('#settings-panel summary').focus();
      await tab.keyboard.press('Enter');
      assert.equal(await tab.locator('#settings-panel').getAttribute('open'), '');
      await tab.screenshot({ path: await screenshotPath('page-1280x800.png'), fullPage: true });
      await tab.setViewportSize({ width: 390, height: 844 });
      const width = await tab.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
      assert.ok(width <= 390, `no sideways scrolling at 390 px (${width})`);
      const conversation = await tab.locator('section.conversation').boundingBox();
      assert.ok(conversation && conversation.height > 200, 'the conversation keeps its height on a phone');
      await tab.screenshot({ path: await screenshotPath('page-390x844.png'), fullPage: true });

      await tab.getByRole('button', { name: 'Stop' }).click();
      await tab.getByRole('button', { name: 'Start' }).waitFor();
      assert.deepEqual(problems, [], 'no console errors');
    } finally {
      await browser.close();
    }
  });

  it('a server that is down: the page says it cannot reach it, offers Start again and releases the microphone', async () => {
    const browser = await launchChromium(join(dir, 'mic.wav'));
    try {
      const tab = await browser.context.newPage();
      const down = `ws://127.0.0.1:${await freePort()}/v1/agent/converse`;
      await tab.addInitScript(recordMicTracks);
      await tab.addInitScript(saveSettingsScript, { url: down, greeting: '' });
      await tab.goto(parley.server.url.replace('ws://', 'http://'));
      await tab.getByRole('button', { name: 'Start' }).click();
      await tab.locator('#transcript li.error', { hasText: `Can't reach ${down}` }).waitFor({ timeout: 15_000 });
      await tab.getByRole('button', { name: 'Start' }).waitFor();
      await tab.waitForFunction(() => {
        const tracks = (globalThis as unknown as { __micTracks: { readyState: string }[] }).__micTracks;
        return tracks.length > 0 && tracks.every((t) => t.readyState === 'ended');
      });
      assert.equal((await tab.evaluate(snapshotHooks)).state, 'idle');
    } finally {
      await browser.close();
    }
  });
});

describe('browser page against a server that needs a key', () => {
  let page: Awaited<ReturnType<typeof buildPage>>;
  let parley: Parley;
  let dir: string;
  before(async () => {
    page = await buildPage();
    parley = await startParley({
      env: { PARLEY_LOG_LEVEL: 'error', PARLEY_API_KEYS: 'page-test-key' },
      overrides: { port: 0, host: '127.0.0.1', webDir: page.dir },
    });
    dir = await mkdtemp(join(tmpdir(), 'parley-web-key-'));
    await writeFile(join(dir, 'mic.wav'), micWav());
  });
  after(async () => {
    await parley.close();
    await page.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it('without a key the page asks for one and offers Start again', async () => {
    const browser = await launchChromium(join(dir, 'mic.wav'));
    try {
      const tab = await browser.context.newPage();
      await tab.addInitScript(recordMicTracks);
      await tab.addInitScript(saveSettingsScript, { greeting: '' });
      await tab.goto(parley.server.url.replace('ws://', 'http://'));
      await tab.getByRole('button', { name: 'Start' }).click();
      await tab.locator('#transcript li.error', { hasText: 'This server needs an API key: enter it in Settings.' }).waitFor({ timeout: 15_000 });
      await tab.getByRole('button', { name: 'Start' }).waitFor();
      await tab.waitForFunction(() => {
        const tracks = (globalThis as unknown as { __micTracks: { readyState: string }[] }).__micTracks;
        return tracks.length > 0 && tracks.every((t) => t.readyState === 'ended');
      });
      assert.ok(!(await tab.locator('#transcript').innerText()).includes('SOCKET_ERROR'));

      // With the key the same page connects.
      await tab.locator('#settings-panel summary').click();
      await tab.locator('input[name="key"]').fill('page-test-key');
      await tab.getByRole('button', { name: 'Save' }).click();
      await tab.locator('#save-status', { hasText: 'Saved' }).waitFor();
      await tab.getByRole('button', { name: 'Start' }).click();
      await tab.waitForFunction(() => (globalThis as unknown as { __parley: PageHooks }).__parley.eventsByType['SettingsApplied'] === 1);
    } finally {
      await browser.close();
    }
  });
});
