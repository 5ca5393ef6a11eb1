/**
 * The page's files as the server serves them: `/favicon.ico`, which browsers and tools ask for
 * whatever the page links, answers with the page's SVG icon; a path with a malformed escape is a
 * plain 404, not a failed handler with a stack in the log.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { sessionAudioFactory } from '../../src/runtime/session-audio.js';
import { loadServerConfig } from '../../src/server/config.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { emptyProviders } from '../../src/session/provider-registry.js';

const ICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>';

describe('static files of the page', () => {
  let dir: string;
  let server: RunningServer;
  let base: string;
  const lines: { level: number; msg?: string }[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-static-'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>t</title>');
    await writeFile(join(dir, 'favicon.svg'), ICON);
    const config = { ...loadServerConfig({}), port: 0, host: '127.0.0.1', apiKeys: [], webDir: dir };
    server = await startServer({
      config,
      providers: emptyProviders(),
      createAudio: sessionAudioFactory(config.playoutLeadMs),
      logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg?: string }) }),
      env: {},
    });
    base = server.url.replace('ws://', 'http://');
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers /favicon.ico with the SVG icon', async () => {
    const response = await fetch(`${base}/favicon.ico`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'image/svg+xml');
    assert.equal(await response.text(), ICON);
    assert.equal((await fetch(`${base}/favicon.svg`)).headers.get('content-type'), 'image/svg+xml');
  });

  it('a malformed escape in the path is a 404 and logs no error', async () => {
    for (const path of ['/%E0', '/%', '/assets/%ZZ.js']) {
      const response = await fetch(`${base}${path}`);
      assert.equal(response.status, 404, path);
      await response.text();
    }
    assert.deepEqual(lines.filter((line) => line.level >= 50), []);
    assert.equal((await fetch(`${base}/`)).status, 200);
  });
});
