/**
 * `parley talk <input.wav ...>`: plays WAV files to an agent as a caller would and, with --out,
 * saves what the agent says: greeting.wav, and reply-N.wav for the reply to input N. A turn
 * without a reply is reported and the next input goes on; the exit status then says so. Without
 * --url it runs against an in-process server.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { AgentClient } from '../client/agent-client.js';
import type { AgentEvent } from '../client/events.js';
import type { AgentSettings } from '../client/messages.js';
import { runScript } from '../client/scripted-user.js';
import type { ScriptedInput, StreamProgress, TurnOutcome } from '../client/scripted-user.js';
import type { Utterance } from '../client/wav.js';
import { readWavFile } from '../audio/wav.js';
import { pcm16ToBytes } from '../audio/pcm16.js';
import { resampleBuffer } from '../audio/resampler.js';

const INPUT_RATE = 16000;

export interface TalkOptions {
  url?: string;
  key?: string;
  settings?: string;
  out?: string;
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

/** One JSON line per event; audio is reported per utterance instead (`utteranceLine`). */
function describe(event: AgentEvent): Record<string, unknown> | undefined {
  if (event.type === 'Audio') return undefined;
  if (event.type === 'Error') return { type: 'Error', code: event.code, description: event.description };
  if (event.type === 'Unhandled') return event.message;
  return { ...event };
}

/** greeting.wav, reply-N.wav for input N; a further utterance of the same turn gets -2, -3 ... */
function utteranceNamer(): (turn: number) => string {
  const counts = new Map<number, number>();
  return (turn) => {
    const n = (counts.get(turn) ?? 0) + 1;
    counts.set(turn, n);
    return `${turn === 0 ? 'greeting' : `reply-${turn}`}${n === 1 ? '' : `-${n}`}.wav`;
  };
}

function utteranceLine(u: Utterance, file: string, path: string | undefined): Record<string, unknown> {
  return {
    type: 'Audio',
    utterance: file.replace(/\.wav$/, ''),
    bytes: u.pcm.byteLength,
    duration_ms: Math.round(u.durationMs),
    interrupted: u.interrupted,
    ...(path === undefined ? {} : { file: path }),
  };
}

const NO_REPLY_WHY: Record<NonNullable<TurnOutcome['reason']>, string> = {
  no_speech_recognized: 'the server recognized no words in it',
  timeout: 'nothing came back in time (--timeout)',
};

/** A connection failure in words: what happened and what to do. */
function explainConnectionFailure(cause: unknown, url: string): string | undefined {
  const message = cause instanceof Error ? cause.message : String(cause);
  const code = (cause as { code?: unknown } | undefined)?.code;
  const status = /Unexpected server response: (\d{3})/.exec(message)?.[1];
  if (status === '401') return `the server at ${url} refused the key (HTTP 401): give the right one with --key or PARLEY_API_KEY`;
  if (status === '503') return `the server at ${url} is full or shutting down (HTTP 503): try again later`;
  if (status !== undefined) return `the server at ${url} refused the connection (HTTP ${status})`;
  if (code === 'ECONNREFUSED' || message.includes('ECONNREFUSED')) {
    return `nothing is listening at ${url} (connection refused): start the server (parley serve), or leave out --url to run one in this process`;
  }
  if (code === 'ENOTFOUND' || message.includes('ENOTFOUND')) return `the host of ${url} was not found`;
  return undefined;
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
  const outDir = options.out;
  if (outDir !== undefined) await mkdir(outDir, { recursive: true });
  const local = options.url || !startLocal ? undefined : await startLocal();
  const url = options.url ?? local?.url ?? '';
  const key = options.key ?? process.env['PARLEY_API_KEY'];
  const client = new AgentClient({ url, ...(key ? { key } : {}) });
  const out = process.stdout;
  const line = (value: Record<string, unknown>): boolean => out.write(`${JSON.stringify(value)}\n`);
  let socketError: unknown;
  client.on('Error', (e) => {
    if (e.code === 'SOCKET_ERROR') socketError ??= e.cause;
  });
  if (options.json) {
    void (async () => {
      for await (const event of client) {
        const described = describe(event);
        if (described !== undefined) line(described);
      }
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
  const nameOf = utteranceNamer();
  let unanswered = 0;
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
      onUtterance: (u, turn) => {
        const file = nameOf(turn);
        const path = outDir === undefined ? undefined : join(outDir, file);
        if (options.json) line(utteranceLine(u, file, path));
        if (path === undefined) return;
        pending.push(
          writeFile(path, u.wav).then(() => {
            const note = u.interrupted ? ', interrupted' : '';
            process.stderr.write(`saved ${path} (${(u.durationMs / 1000).toFixed(1)} s${note})\n`);
          }),
        );
      },
      onTurnEnd: (turn) => {
        if (turn.replied || turn.reason === undefined) return;
        unanswered += 1;
        if (options.json) line({ type: 'NoReply', input: turn.input, name: turn.name, reason: turn.reason });
        else out.write('(no reply)\n');
        process.stderr.write(`no reply to ${turn.name}: ${NO_REPLY_WHY[turn.reason]}\n`);
      },
    });
  } catch (error) {
    const explained = socketError === undefined ? undefined : explainConnectionFailure(socketError, url);
    throw explained === undefined ? error : new Error(explained);
  } finally {
    const closed = client.getReadyState() === 3 ? Promise.resolve() : client.waitFor('Close', 5000).then(() => undefined, () => undefined);
    client.disconnect();
    await closed;
    await Promise.all(pending);
    await local?.close();
  }
  if (unanswered > 0) throw new Error(`${unanswered} of ${scripted.length} inputs got no reply`);
}

/** `startLocal` runs the in-process server used when --url is absent (cli/main wires it). */
export function registerTalkCommand(program: Command, startLocal?: StartLocalServer): void {
  program
    .command('talk')
    .description('play WAV files to an agent as a caller; print the conversation, and save the spoken replies with --out')
    .argument('<inputs...>', 'WAV files (16-bit PCM, mu-law or A-law, any rate), one user turn each')
    .option('-o, --out <dir>', 'save greeting.wav and reply-N.wav (the reply to input N) here; nothing is written without it')
    .option('--url <url>', 'agent server, e.g. ws://127.0.0.1:8080 (default: start one in this process)')
    .option('--key <key>', 'API key (default: $PARLEY_API_KEY)')
    .option('--settings <file>', 'V1 Settings JSON to send (its audio block is replaced)')
    .option('--fast', 'send audio as fast as possible instead of in real time')
    .option('--json', 'print every event as one JSON line instead of the conversation (audio: one line per utterance)')
    .addOption(new Option('--output-rate <hz>', 'sample rate of the reply WAVs').argParser(positiveInt).default(16000))
    .addOption(
      new Option('--silence <ms>', 'silence after each input, so the turn ends').argParser(positiveInt).default(1500),
    )
    .addOption(new Option('--timeout <ms>', 'longest wait for each reply; then the turn has no reply and the next input goes on').argParser(positiveInt).default(60000))
    .action(async (inputs: string[], options: TalkOptions) => {
      try {
        await talk(inputs, options, startLocal);
      } catch (error) {
        process.stderr.write(`parley talk: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 1;
      }
    });
}
