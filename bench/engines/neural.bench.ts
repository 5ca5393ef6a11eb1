// Neural tier with RANDOM-WEIGHT models generated here (tiny shapes): these figures measure the
// plumbing and runtime overheads (worker hops, load, streaming), not real-model speed or quality.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { measure, printTable, summarize } from '../harness.js';
import { writeRandomLlamaGguf } from '../../test/support/random-models/gguf.js';
import { writeRandomWhisperGgml } from '../../test/support/random-models/whisper-ggml.js';
import { LlamaEngine } from '../../src/think/llama/llama-engine.js';
import { WhisperEngine } from '../../src/listen/whisper/whisper-engine.js';
import { librivoxClips, readPcm16 } from '../../test/support/fixtures.js';

const ms = (n: number): number => Math.round(n * 10) / 10;

const TOKEN_TEXT = ' hello';
const tokenCount = (text: string): number => Math.round(text.length / TOKEN_TEXT.length);

async function llamaFigures(dir: string): Promise<void> {
  const path = join(dir, 'llama.gguf');
  writeRandomLlamaGguf(path, { favourite: 'Ġhello', embedding: 256, layers: 4, heads: 8, kvHeads: 4, feedForward: 768 });
  // One load per process: the model is loaded once and shared, as in the server.
  const engine = new LlamaEngine({ modelPath: path, contextSize: 1024, maxSessions: 8 });
  const loadStarted = performance.now();
  await engine.load();
  const loads = [performance.now() - loadStarted];
  const ttft: number[] = [];
  const rates: number[] = [];
  for (let run = 0; run < 8; run++) {
    const session = engine.openSession();
    const started = performance.now();
    let first = 0;
    let firstTokens = 0;
    let text = '';
    for await (const e of session.generate({
      messages: [{ role: 'system', content: 'You are a helpful voice agent.' }, { role: 'user', content: `what is the weather in paris today ${run}` }],
      tools: [],
      signal: new AbortController().signal,
      sampling: { temperature: 0, maxTokens: 48 },
    })) {
      if (e.type !== 'text') continue;
      text += e.text;
      if (first === 0) {
        first = performance.now();
        firstTokens = tokenCount(text);
      }
    }
    const end = performance.now();
    ttft.push(first - started);
    // Deltas may carry several tokens (the chat wrapper holds text back while it looks for a
    // function call), so tokens are counted from the text: every token is " hello" here.
    rates.push(((tokenCount(text) - firstTokens) / (end - first)) * 1000);
    session.close();
  }
  await engine.close();
  const load = summarize(loads);
  const t = summarize(ttft);
  const r = summarize(rates);
  printTable('neural LLM, random weights (llama arch, 256 dim, 4 layers, F32), node-llama-cpp worker', [
    { figure: 'model load (incl. worker start) ms', median: ms(load.median), p95: ms(load.p95), runs: load.runs },
    { figure: 'time to first token ms (fresh session)', median: ms(t.median), p95: ms(t.p95), runs: t.runs },
    { figure: 'generation tokens/s', median: ms(r.median), p95: ms(r.p95), runs: r.runs },
  ]);
}

async function whisperFigures(dir: string): Promise<void> {
  const path = join(dir, 'whisper.bin');
  writeRandomWhisperGgml(path, { state: 64, heads: 2, layers: 2 });
  const engine = new WhisperEngine({ modelPath: path, threads: 2 });
  const clip = librivoxClips()[0];
  if (clip === undefined) throw new Error('no LibriVox clip (apt: pocketsphinx-testdata)');
  const pcm = readPcm16(clip.path).samples;
  const audioMs = (pcm.length / 16000) * 1000;
  const started = performance.now();
  await engine.transcribe(pcm.slice(0, 16000));
  const loadMs = performance.now() - started;
  const stats = await measure(() => engine.transcribe(pcm), { runs: 10, warmup: 1 });
  await engine.close();
  printTable('neural STT, random weights (whisper ggml, 64 dim, 2+2 layers, F16), smart-whisper worker', [
    { figure: 'first call incl. load ms', median: ms(loadMs), p95: ms(loadMs), runs: 1 },
    { figure: `finalization delay ms (${(audioMs / 1000).toFixed(1)} s utterance)`, median: ms(stats.median), p95: ms(stats.p95), runs: stats.runs },
    { figure: 'real-time factor', median: Number((stats.median / audioMs).toFixed(4)), p95: Number((stats.p95 / audioMs).toFixed(4)), runs: stats.runs },
  ]);
}

export default async function (): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-neural-bench-'));
  await llamaFigures(dir);
  await whisperFigures(dir);
}
