/**
 * Remote providers with fixed delays, in a process of their own for the load benchmark (so their
 * cost never shows in the server's figures). One HTTP server speaks three vendors' wire formats:
 *   POST /v1/audio/transcriptions   OpenAI transcription: {"text"} after TRANSCRIBE_MS
 *   POST /v1/chat/completions       OpenAI chat, streamed: first token after FIRST_TOKEN_MS
 *   POST /v1/speak                  Deepgram speak: PCM16 at the asked sample_rate (24 kHz by default),
 *                                   first audio after FIRST_AUDIO_MS, then 100 ms of audio every 20 ms
 *                                   (five times real time)
 * Reports { t: 'listening', port } over IPC, and { t: 'cpu', ms, loopP99Ms } when sent 'cpu': its CPU
 * time so far, and its event loop's lateness p99 since the previous 'cpu' (a late fake delays its
 * answers past their fixed delays, and that shows in the server's overhead).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LOOP_RESOLUTION_MS, loopLatenessMs } from './loop-lateness.js';

export const DELAYS = { transcribeMs: 100, firstTokenMs: 200, firstAudioMs: 80 };
const REPLY = ['Sure thing. ', 'The weather ', 'today is ', 'sunny and ', 'warm, ', 'with a light ', 'breeze from ', 'the west.'];
const DEFAULT_SPEAK_RATE = 24000;
/** 40 ms of speech per character, like a person at a brisk pace. */
const MS_PER_CHAR = 40;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function body(req: import('node:http').IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
  });
}

const server = createServer((req, res) => {
  void (async () => {
    const text = await body(req);
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (path.endsWith('/audio/transcriptions')) {
      await sleep(DELAYS.transcribeMs);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: 'what is the weather like today' }));
      return;
    }
    if (path.endsWith('/chat/completions')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      await sleep(DELAYS.firstTokenMs);
      for (const token of REPLY) {
        if (res.destroyed) return;
        res.write(`data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 0, model: 'fake', choices: [{ index: 0, delta: { content: token }, finish_reason: null }] })}\n\n`);
        await sleep(10);
      }
      res.write(`data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 0, model: 'fake', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
      res.end('data: [DONE]\n\n');
      return;
    }
    if (path.endsWith('/speak')) {
      const words = (JSON.parse(text) as { text?: string }).text ?? '';
      const rate = Number(url.searchParams.get('sample_rate') ?? DEFAULT_SPEAK_RATE);
      const samples = Math.round((words.length * MS_PER_CHAR * rate) / 1000);
      res.writeHead(200, { 'content-type': 'audio/l16' });
      await sleep(DELAYS.firstAudioMs);
      const chunk = (rate * 100) / 1000;
      for (let sent = 0; sent < samples && !res.destroyed; sent += chunk) {
        const pcm = Buffer.alloc(Math.min(chunk, samples - sent) * 2);
        for (let i = 0; i < pcm.length / 2; i++) pcm.writeInt16LE(Math.round(3000 * Math.sin((2 * Math.PI * 220 * (sent + i)) / rate)), i * 2);
        res.write(pcm);
        await sleep(20);
      }
      res.end();
      return;
    }
    res.writeHead(404).end();
  })();
});

// Only as the benchmark's child: the benchmark imports DELAYS from here too.
if (process.send !== undefined) {
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  server.listen(0, '127.0.0.1', () => process.send?.({ t: 'listening', port: (server.address() as AddressInfo).port }));
  process.on('message', (message) => {
    if (message === 'stop') server.close(() => process.exit(0));
    if (message === 'cpu') {
      const cpu = process.cpuUsage();
      process.send?.({ t: 'cpu', ms: (cpu.user + cpu.system) / 1000, loopP99Ms: loopLatenessMs(loop.percentile(99)) });
      loop.reset();
    }
  });
}
