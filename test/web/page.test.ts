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

/** Quiet, then each phrase after its lead-in of quiet (seconds), then 5 s of quiet, at 16 kHz. */
function micWav(...phrases: [lead: number, text: string][]): Uint8Array {
  const rate = 16000;
  const parts = phrases.map(([lead, text]) => ({ lead: Math.round(lead * rate), speech: synthesizeWithFlite(text, 'slt') }));
  const samples = new Int16Array(parts.reduce((n, p) => n + p.lead + p.speech.samples.length, 0) + rate * 5);
  let at = 0;
  for (const { lead, speech } of parts) {
    assert.equal(speech.sampleRate, rate);
    samples.set(speech.samples, at + lead);
    at += lead + speech.samples.length;
  }
  return pcmToWav(samples, rate);
}

/** Runs in the page before its scripts: every text the conversation's live row showed, in order. */
function recordLiveRows(): void {
  const scope = globalThis as unknown as {
    __liveTexts: string[];
    MutationObserver: new (callback: () => void) => { observe(node: unknown, options: Record<string, boolean>): void };
    document: { querySelector(selector: string): { textContent: string | null } | null };
  };
  scope.__liveTexts = [];
  new scope.MutationObserver(() => {
    const text = scope.document.querySelector('#transcript li.live .text')?.textContent;
    if (text && scope.__liveTexts.at(-1) !== text) scope.__liveTexts.push(text);
  }).observe(scope.document, { childList: true, subtree: true, characterData: true });
}

/** Whether `want` appears in `seen` in this order (other entries may come between). */
function inOrder(seen: readonly string[], want: readonly string[]): boolean {
  let i = 0;
  for (const entry of seen) if (entry === want[i]) i += 1;
  return i === want.length;
}

/** Console errors, less the lines the browser itself prints for a refused connection or request. */
function consoleProblems(tab: Page): string[] {
  const problems: string[] = [];
  tab.on('console', (message) => {
    const text = message.text();
    if (message.type() !== 'error') return;
    if (/^WebSocket connection to .* failed|^Failed to load resource/.test(text)) return;
    problems.push(text);
  });
  tab.on('pageerror', (error) => problems.push(error.message));
  return problems;
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
    await writeFile(join(dir, 'mic.wav'), micWav([1.5, QUESTION]));
    // The second question comes while the agent reads the long forecast out: a barge-in.
    await writeFile(join(dir, 'barge-in.wav'), micWav([1.5, QUESTION], [3.5, TYPED]));
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
      await tab.addInitScript(recordLiveRows);
      const site = parley.server.url.replace('ws://', 'http://');
      await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: site });
      await tab.goto(site);
      // Keyboard first: Tab reaches Start, with a visible focus ring.
      await tab.keyboard.press('Tab');
      const focus = await tab.evaluate(() => {
        const active = (globalThis as unknown as { document: { activeElement: { id: string; matches(s: string): boolean } } }).document.activeElement;
        const style = (globalThis as unknown as { getComputedStyle(e: unknown): { outlineStyle: string; outlineWidth: string } }).getComputedStyle(active);
        return { id: active.id, visible: active.matches(':focus-visible'), outline: `${style.outlineStyle} ${style.outlineWidth}` };
      });
      assert.deepEqual(focus, { id: 'session', visible: true, outline: 'solid 3px' });
      // The lists come from this server's discovery endpoints: its local engines, no cloud without keys.
      await tab.locator('#think-providers option[value="rules"]').waitFor({ state: 'attached' });
      const thinkProviders = await tab.locator('#think-providers option').evaluateAll((nodes): string[] =>
        (nodes as unknown as { getAttribute(name: string): string | null }[]).map((n) => n.getAttribute('value') ?? ''),
      );
      assert.ok(thinkProviders.includes('rules'), thinkProviders.join(','));
      assert.ok(!thinkProviders.includes('open_ai'), 'no key for open_ai on this server');

      await tab.keyboard.press('Enter');
      await tab.getByRole('button', { name: 'Stop' }).waitFor();
      await answered(tab, 1);
      const spoken = await tab.evaluate(snapshotHooks);
      const audioAfterSpoken = spoken.samplesPlayed;
      assert.ok(audioAfterSpoken > 0, 'the spoken turn was played');
      // While the user spoke the page showed the words heard so far, then the final text.
      assert.ok(spoken.interims.length > 0, 'interim transcripts came');
      const liveTexts = await tab.evaluate(() => (globalThis as unknown as { __liveTexts: string[] }).__liveTexts);
      assert.ok(liveTexts.some((text) => text !== 'speaking…' && text.endsWith(' …')), `the live row showed interim words: ${JSON.stringify(liveTexts)}`);
      assert.ok(
        inOrder(spoken.states, ['connecting', 'listening', 'user-speaking', 'thinking', 'speaking', 'listening']),
        `agent states in order: ${spoken.states.join(' → ')}`,
      );
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
      // The spoken turn's bar runs from the end of speech: endpointing and transcription, thinking
      // and synthesis one after another, adding up to the total; the typed turn has no transcription.
      const [heard, typedBar] = hooks.latencies;
      assert.ok(heard?.sttMs !== undefined && heard.sttMs > 0 && heard.thinkMs !== undefined && heard.ttsMs !== undefined, JSON.stringify(heard));
      assert.ok(Math.abs(heard.sttMs + heard.thinkMs + heard.ttsMs - heard.totalMs) < 4, JSON.stringify(heard));
      assert.equal(typedBar?.sttMs, undefined, JSON.stringify(typedBar));
      assert.equal(await tab.locator('#latency-chart g.turn-bar[data-turn="1"] rect.bar.stt').count(), 1);
      assert.equal(await tab.locator('#latency-chart rect.bar.stt').count(), 1);
      assert.ok(hooks.samplesPlayed > audioAfterSpoken, 'the typed turn was played too');
      assert.equal(await tab.locator('#transcript li.user').count(), 2);
      // Every row carries its time, as text and as a machine-readable date.
      const times = await tab.locator('#transcript li time').evaluateAll((nodes) =>
        (nodes as unknown as { dateTime: string; textContent: string }[]).map((n) => ({ iso: n.dateTime, text: n.textContent })),
      );
      assert.equal(times.length, hooks.transcript.length);
      for (const time of times) {
        assert.ok(Math.abs(Date.parse(time.iso) - Date.now()) < 600_000, time.iso);
        assert.match(time.text, /\d{1,2}:\d{2}:\d{2}/);
      }

      const log = tab.getByRole('region', { name: 'Event log' });
      for (const type of ['Welcome', 'SettingsApplied', 'ConversationText', 'AgentAudioDone', 'InjectUserMessage']) {
        assert.ok((await log.locator('.type', { hasText: type }).count()) > 0, `${type} in the event log`);
      }
      assert.ok(hooks.log.some((e) => e.dir === 'out' && e.type === 'Settings'), 'sent Settings logged');
      assert.ok(hooks.log.some((e) => e.dir === 'in' && e.type === 'Audio' && (e.frames ?? 0) > 1), 'audio summarized');
      await tab.getByLabel('Filter by type').fill('AgentAudioDone');
      assert.equal(await log.locator('#events li:not([hidden])').count(), 2);
      await log.getByRole('button', { name: 'Copy' }).click();
      await log.getByText('Copied 2 events.').waitFor();
      const copied = await tab.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText());
      const lines = copied.split('\n');
      assert.equal(lines.length, 2, copied);
      for (const line of lines) assert.deepEqual(JSON.parse(line.slice(line.indexOf('{'))), { type: 'AgentAudioDone' });
      await tab.getByLabel('Filter by type').fill('');
      const icon = await fetch(`${site}/favicon.ico`);
      assert.equal(icon.status, 200);
      assert.equal(icon.headers.get('content-type'), 'image/svg+xml');

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
      await tab.setViewportSize({ width: 360, height: 740 });
      const narrow = await tab.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
      assert.ok(narrow <= 360, `no sideways scrolling at 360 px (${narrow})`);

      await tab.getByRole('button', { name: 'Stop' }).click();
      await tab.getByRole('button', { name: 'Start' }).waitFor();
      assert.deepEqual(problems, [], 'no console errors');
    } finally {
      await browser.close();
    }
  });

  it('a barge-in adds no latency bar: the interrupted reply is cut short and only the answered turn gets one', async () => {
    const browser = await launchChromium(join(dir, 'barge-in.wav'));
    try {
      const tab = await browser.context.newPage();
      const problems = consoleProblems(tab);
      // A forecast long enough to be talking still when the second question comes.
      const forecast = 'sunny and twenty degrees with a light breeze from the west, clear skies all afternoon, a few clouds in the evening and rain expected early tomorrow morning';
      const functions = JSON.stringify([{ ...(JSON.parse(FUNCTIONS) as Record<string, unknown>[])[0], mock: forecast }]);
      await tab.addInitScript(saveSettingsScript, { greeting: '', functions });
      await tab.goto(parley.server.url.replace('ws://', 'http://'));
      await tab.getByRole('button', { name: 'Start' }).click();
      await tab.waitForFunction(
        () => {
          const hooks = (globalThis as unknown as { __parley: PageHooks }).__parley;
          return hooks.transcript.filter((r) => r.kind === 'assistant').length >= 2 && hooks.state === 'listening' && (hooks.eventsByType['LatencyReport'] ?? 0) >= 2;
        },
        undefined,
        { timeout: 60_000 },
      );
      const hooks = await tab.evaluate(snapshotHooks);
      const rows = hooks.transcript.map((r) => `${r.kind}: ${r.text}`).join('\n');
      assert.equal(hooks.eventsByType['UserStartedSpeaking'], 2, rows);
      assert.deepEqual(
        hooks.transcript.map((r) => r.kind),
        ['notice', 'user', 'assistant', 'notice', 'user', 'assistant'],
        `the rules engine's prompt notice, then question, cut-off reply, "interrupted", question, reply:\n${rows}`,
      );
      assert.equal(hooks.transcript[3]?.text, 'interrupted', rows);
      assert.ok((hooks.transcript[5]?.text ?? '').includes('tomorrow morning'), `the second reply was spoken out:\n${rows}`);
      assert.equal(hooks.eventsByType['AgentAudioDone'], 1, 'only the second reply played to its end');
      assert.equal(hooks.latencies.length, 1, 'one bar: the interrupted reply has none');
      assert.equal(await tab.locator('#latency-chart g.turn-bar').count(), 1);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  });

  it('a server that is down: the page says it cannot reach it, offers Start again and releases the microphone', async () => {
    const browser = await launchChromium(join(dir, 'mic.wav'));
    try {
      const tab = await browser.context.newPage();
      const problems = consoleProblems(tab);
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
      assert.deepEqual(problems, [], 'no console errors but the browser\'s own for the refused connection');
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
    await writeFile(join(dir, 'mic.wav'), micWav([1.5, QUESTION]));
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
      const problems = consoleProblems(tab);
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
      assert.deepEqual(problems, [], 'no console errors but the browser\'s own for the refused upgrade');
    } finally {
      await browser.close();
    }
  });
});
