import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '../../src/client/wav.js';
import { FAKE_KEY, startFakeServer } from '../client/support/fake-server.js';
import type { FakeServer } from '../client/support/fake-server.js';
import { buildPage, launchChromium, screenshotPath, serveDir } from './support/browser.js';
import { saveSettingsScript, snapshotHooks } from './support/browser.js';
import type { PageHooks } from './support/browser.js';

/** 1 s of quiet, 1 s of tone, 3 s of quiet: one utterance for the fake server's energy detector. */
function micWav(): Uint8Array {
  const rate = 48000;
  const pcm = Buffer.alloc(rate * 5 * 2);
  for (let i = rate; i < rate * 2; i++) pcm.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * 300 * i) / rate)), i * 2);
  return encodeWav(pcm, { sampleRate: rate });
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
  });
  after(async () => {
    await site.close();
    await page.remove();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('streams the microphone, shows both sides, plays the reply and charts its latency', async () => {
    const browser = await launchChromium(join(dir, 'mic.wav'));
    try {
      const tab = await browser.context.newPage();
      const saved = { key: FAKE_KEY, greeting: '', functions: '[]' };
      await tab.addInitScript(saveSettingsScript, saved);
      await tab.goto(`${site.url}?url=${encodeURIComponent(`${server.url}/v1/agent/converse`)}`);
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
      assert.ok((await tab.locator('#latency-chart rect.bar').count()) > 0, 'latency bars drawn');
      const settings = server.sessions.at(-1)?.received.find((r) => r.kind === 'json');
      assert.deepEqual(settings?.kind === 'json' ? settings.message['audio'] : undefined, {
        input: { encoding: 'linear16', sample_rate: 16000 },
        output: { encoding: 'linear16', sample_rate: 24000, container: 'none' },
      });
      assert.equal(server.sessions.at(-1)?.protocol, 'token');
      await tab.screenshot({ path: await screenshotPath('page-fake.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
