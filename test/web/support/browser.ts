/**
 * Browser test plumbing: builds the page with Vite into a temporary folder, serves it, and
 * launches Debian's Chromium headless with a fake microphone that plays a WAV file once.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext } from 'playwright-core';
import { build } from 'vite';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const ARTIFACTS = join(ROOT, 'test-artifacts');

export async function buildPage(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-web-'));
  await build({
    configFile: join(ROOT, 'web', 'vite.config.ts'),
    build: { outDir: dir, emptyOutDir: true },
    logLevel: 'silent',
  });
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
};

/** A plain static server for the built page (the fake agent server serves no files). */
export async function serveDir(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const http = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = normalize(join(dir, path === '/' ? 'index.html' : path));
    if (!file.startsWith(dir)) return void res.writeHead(403).end();
    stat(file).then(
      () => {
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
        createReadStream(file).pipe(res);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((done) => http.listen(0, '127.0.0.1', done));
  const { port } = http.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((done) => http.close(() => done())) };
}

/**
 * `loop`: the fake microphone repeats the file instead of going quiet after it. `micAllowed:
 * false`: the page is refused the microphone, as when a user blocks it (headless Chromium
 * denies a permission nobody answers).
 */
export async function launchChromium(micWav: string, loop = false, { micAllowed = true } = {}): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'parley-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
      ...(micAllowed ? ['--use-fake-ui-for-media-stream'] : []),
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${micWav}${loop ? '' : '%noloop'}`,
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshotPath(name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

/** The page's test hooks (window.__parley), as plain data. */
export interface PageHooks {
  events: number;
  eventsByType: Record<string, number>;
  framesSent: number;
  bytesReceived: number;
  samplesScheduled: number;
  samplesPlayed: number;
  flushes: number;
  state: string;
  /** Every state the page showed, in order. */
  states: string[];
  /** Every InterimTranscript the page was sent. */
  interims: string[];
  transcript: { kind: string; text: string; at: string; iso: string; live: boolean; calls: { name: string; arguments: string; result?: string }[] }[];
  latencies: { turn: number; totalMs: number; sttMs?: number; thinkMs?: number; ttsMs?: number }[];
  log: { dir: 'in' | 'out'; type: string; json: string; frames?: number }[];
}

/** Runs in the page: copies the live hooks (getters included) into plain data. */
export function snapshotHooks(): PageHooks {
  const h = (globalThis as unknown as { __parley: PageHooks }).__parley;
  return {
    events: h.events,
    eventsByType: { ...h.eventsByType },
    framesSent: h.framesSent,
    bytesReceived: h.bytesReceived,
    samplesScheduled: h.samplesScheduled,
    samplesPlayed: h.samplesPlayed,
    flushes: h.flushes,
    state: h.state,
    states: [...h.states],
    interims: [...h.interims],
    transcript: h.transcript.map((row) => ({ ...row, calls: row.calls.map((call) => ({ ...call })) })),
    latencies: h.latencies.map((turn) => ({ ...turn })),
    log: h.log.map((entry) => ({ ...entry })),
  };
}

/** Runs in the page before its scripts: keeps every microphone track it opens in `__micTracks`. */
export function recordMicTracks(): void {
  const scope = globalThis as unknown as {
    __micTracks: { readyState: string }[];
    navigator: { mediaDevices: { getUserMedia(c: unknown): Promise<{ getTracks(): { readyState: string }[] }> } };
  };
  scope.__micTracks = [];
  const devices = scope.navigator.mediaDevices;
  const original = devices.getUserMedia.bind(devices);
  devices.getUserMedia = async (constraints) => {
    const stream = await original(constraints);
    scope.__micTracks.push(...stream.getTracks());
    return stream;
  };
}

/** Runs in the page before its scripts: what the settings panel would have saved. */
export function saveSettingsScript(settings: Record<string, string>): void {
  const storage = (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage;
  storage.setItem('parley.settings', JSON.stringify(settings));
}
