/**
 * `parley talk <input.wav ...>`: plays WAV files to an agent as a caller would and saves what
 * the agent says as reply-N.wav. Without --url it runs against an in-process server.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { AgentClient } from '../client/agent-client.js';
import type { AgentEvent } from '../client/events.js';
import type { AgentSettings } from '../client/messages.js';
import { runScript } from '../client/scripted-user.js';
import type { ScriptedInput, StreamProgress } from '../client/scripted-user.js';
import { readWavFile } from '../audio/wav.js';
import { pcm16ToBytes } from '../audio/pcm16.js';
import { resampleBuffer } from '../audio/resampler.js';

const INPUT_RATE = 16000;

export interface TalkOptions {
  url?: string;
  key?: string;
  settings?: string;
  out: string;
  fast?: boolean;
  json?: boolean;
  outputRate: number;
  silence: number;
  timeout: number;
}

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
};

/** The in-process server's own engines, named so that no cloud stand-in warning is needed. */
const LOCAL_SETTINGS: AgentSettings = {
  agent: {
    listen: { provider: { type: 'local' } },
    think: { provider: { type: 'local' } },
    speak: { provider: { type: 'local' } },
  },
};

async function loadSettings(path: string | undefined, local: boolean): Promise<AgentSettings> {
  if (!path) return local ? LOCAL_SETTINGS : { agent: {} };
  const parsed = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  if (typeof parsed !== 'object' || parsed === null || typeof parsed['agent'] !== 'object') {
    throw new Error(`${path}: expected a V1 Settings object with an "agent" block`);
  }
  const { type: _type, ...settings } = parsed;
  return settings as AgentSettings;
}

async function loadInput(path: string): Promise<ScriptedInput> {
  const wav = await readWavFile(path);
  const samples = await resampleBuffer(wav.samples, wav.sampleRate, INPUT_RATE);
  return { name: basename(path), pcm: pcm16ToBytes(samples) };
}

/** A server started in this process (the embedded local engines) when no --url is given. */
export interface LocalServer {
  url: string;
  close(): Promise<void>;
}
export type StartLocalServer = () => Promise<LocalServer>;

function describe(event: AgentEvent): Record<string, unknown> {
  if (event.type === 'Audio') return { type: 'Audio', bytes: event.data.byteLength };
  if (event.type === 'Error') return { type: 'Error', code: event.code, description: event.description };
  if (event.type === 'Unhandled') return event.message;
  return { ...event };
}

function progressPrinter(stream: NodeJS.WriteStream, count: number): (p: StreamProgress) => void {
  let lastInput = 0;
  return (p) => {
    const line = `input ${p.input}/${count} ${p.name} ${(p.sentMs / 1000).toFixed(1)}/${(p.totalMs / 1000).toFixed(1)} s`;
    if (stream.isTTY) {
      stream.write(`\r${line}\x1b[K`);
      if (p.sentMs >= p.totalMs) stream.write('\n');
    } else if (p.input !== lastInput) {
      stream.write(`streaming input ${p.input}/${count} ${p.name} (${(p.totalMs / 1000).toFixed(1)} s)\n`);
    }
    lastInput = p.input;
  };
}

export async function talk(inputs: string[], options: TalkOptions, startLocal?: StartLocalServer): Promise<void> {
  if (!options.url && !startLocal) throw new Error('--url is required (no in-process server in this build)');
  const settings = await loadSettings(options.settings, !options.url);
  const scripted = await Promise.all(inputs.map(loadInput));
  await mkdir(options.out, { recursive: true });
  const local = options.url || !startLocal ? undefined : await startLocal();
  const url = options.url ?? local?.url ?? '';
  const key = options.key ?? process.env['PARLEY_API_KEY'];
  const client = new AgentClient({ url, ...(key ? { key } : {}) });
  const out = process.stdout;
  if (options.json) {
    void (async () => {
      for await (const event of client) out.write(`${JSON.stringify(describe(event))}\n`);
    })();
  } else {
    client.on('ConversationText', (m) => out.write(`${m.role === 'user' ? 'user' : 'agent'}: ${m.content}\n`));
    client.on('FunctionCallRequest', (m) => {
      for (const f of m.functions) out.write(`function: ${f.name}(${f.arguments})\n`);
    });
  }
  client.on('Warning', (m) => process.stderr.write(`warning ${m.code}: ${m.description}\n`));
  // A file has no one to run client-side functions; say so, so the agent can go on.
  client.on('FunctionCallRequest', (m) => {
    for (const f of m.functions.filter((fn) => fn.client_side)) {
      client.functionCallResponse({ id: f.id, name: f.name, content: JSON.stringify({ error: 'parley talk cannot run client-side functions' }) });
    }
  });
  const pending: Promise<void>[] = [];
  try {
    await runScript(client, {
      settings,
      inputs: scripted,
      sampleRate: INPUT_RATE,
      outputSampleRate: options.outputRate,
      fast: options.fast === true,
      trailingSilenceMs: options.silence,
      replyTimeoutMs: options.timeout,
      onProgress: progressPrinter(process.stderr, scripted.length),
      onUtterance: (u) => {
        const path = join(options.out, `reply-${u.index}.wav`);
        pending.push(
          writeFile(path, u.wav).then(() => {
            const note = u.interrupted ? ', interrupted' : '';
            process.stderr.write(`saved ${path} (${(u.durationMs / 1000).toFixed(1)} s${note})\n`);
          }),
        );
      },
    });
  } finally {
    const closed = client.getReadyState() === 3 ? Promise.resolve() : client.waitFor('Close', 5000).then(() => undefined, () => undefined);
    client.disconnect();
    await closed;
    await Promise.all(pending);
    await local?.close();
  }
}

/** `startLocal` runs the in-process server used when --url is absent (cli/main wires it). */
export function registerTalkCommand(program: Command, startLocal?: StartLocalServer): void {
  program
    .command('talk')
    .description('play WAV files to an agent as a caller and save its spoken replies as reply-N.wav')
    .argument('<inputs...>', 'WAV files (16-bit PCM, mu-law or A-law, any rate), one user turn each')
    .requiredOption('-o, --out <dir>', 'directory for reply-1.wav, reply-2.wav, ...')
    .option('--url <url>', 'agent server, e.g. ws://127.0.0.1:8080 (default: start one in this process)')
    .option('--key <key>', 'API key (default: $PARLEY_API_KEY)')
    .option('--settings <file>', 'V1 Settings JSON to send (its audio block is replaced)')
    .option('--fast', 'send audio as fast as possible instead of in real time')
    .option('--json', 'print every event as one JSON line instead of the conversation')
    .addOption(new Option('--output-rate <hz>', 'sample rate of the reply WAVs').argParser(positiveInt).default(16000))
    .addOption(
      new Option('--silence <ms>', 'silence after each input, so the turn ends').argParser(positiveInt).default(1500),
    )
    .addOption(new Option('--timeout <ms>', 'longest wait for each reply').argParser(positiveInt).default(60000))
    .action(async (inputs: string[], options: TalkOptions) => {
      try {
        await talk(inputs, options, startLocal);
      } catch (error) {
        process.stderr.write(`parley talk: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 1;
      }
    });
}
