/**
 * The browser page end to end: headless Chromium with a fake microphone that says one sentence,
 * served by a real Parley with its embedded local engines. The page must show what the user said
 * and the agent's answer (via a client-side function the page answers from its settings), and
 * play the answer through Web Audio.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pcmToWav } from '../../src/audio/wav.js';
import { synthesizeWithFlite } from '../../src/speak/flite/flite-synth.js';
import { startParley } from '../../src/server/start-parley.js';
import type { Parley } from '../../src/server/start-parley.js';
import { buildPage, launchChromium, saveSettingsScript, screenshotPath, snapshotHooks } from './support/browser.js';
import type { PageHooks } from './support/browser.js';

const QUESTION = 'what is the weather in paris';
const WEATHER = 'sunny and twenty degrees';

/** 1.5 s of quiet, the question, 5 s of quiet, at 16 kHz. */
function micWav(): Uint8Array {
  const speech = synthesizeWithFlite(QUESTION, 'slt');
  const samples = new Int16Array(speech.sampleRate * 1.5 + speech.samples.length + speech.sampleRate * 5);
  samples.set(speech.samples, speech.sampleRate * 1.5);
  return pcmToWav(samples, speech.sampleRate);
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

  it('shows the transcript and the function-backed answer, and plays the answer', async () => {
    const browser = await launchChromium(join(dir, 'mic.wav'));
    try {
      const tab = await browser.context.newPage();
      const functions = [
        {
          name: 'get_weather',
          description: 'Current weather in a city',
          parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
          mock: WEATHER,
        },
      ];
      await tab.addInitScript(saveSettingsScript, { greeting: '', functions: JSON.stringify(functions) });
      await tab.goto(parley.server.url.replace('ws://', 'http://'));
      await tab.click('#session');
      await tab.waitForFunction(
        () => {
          const hooks = (globalThis as unknown as { __parley: PageHooks }).__parley;
          return hooks.transcript.some((l) => l.kind === 'assistant') && hooks.samplesPlayed > 0 && hooks.state === 'listening';
        },
        undefined,
        { timeout: 60_000 },
      );
      const hooks = await tab.evaluate(snapshotHooks);
      const lines = hooks.transcript.map((l) => `${l.kind}: ${l.text}`);
      assert.ok(lines.includes(`user: ${QUESTION}`), lines.join('\n'));
      assert.ok(lines.some((l) => l.startsWith('function: get_weather(')), lines.join('\n'));
      assert.ok(lines.includes(`result: get_weather → ${WEATHER}`), lines.join('\n'));
      assert.ok(lines.some((l) => l.startsWith('assistant: ') && l.includes(WEATHER)), lines.join('\n'));
      assert.ok(hooks.samplesPlayed > 0, 'agent audio went through the Web Audio graph');
      assert.ok((hooks.eventsByType['Audio'] ?? 0) > 0);
      assert.ok(hooks.latencies.length > 0, 'a latency figure per turn');
      assert.equal(await tab.locator('#transcript li.assistant').count() > 0, true);
      await tab.screenshot({ path: await screenshotPath('page.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
