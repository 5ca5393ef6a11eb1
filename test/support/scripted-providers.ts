/**
 * Deterministic stand-ins for listen, think and speak, used only by orchestration tests of the
 * server and session (never by the product, never registered by default).
 */
import { performance } from 'node:perf_hooks';
import { ProviderError } from '../../src/core/errors.js';
import { emptyProviders } from '../../src/session/provider-registry.js';
import type { Providers } from '../../src/session/provider-registry.js';
import type { ListenEvents, ListenProvider, ListenStream } from '../../src/listen/types.js';
import { LISTEN_SAMPLE_RATE } from '../../src/listen/types.js';
import type { PcmChunk, SpeakProvider } from '../../src/speak/types.js';
import type { ChatMessage, ThinkEvent, ThinkProvider, ThinkRequest } from '../../src/think/types.js';

/** Every think request the scripted LLM received, newest last (tests inspect what it saw). */
export const thinkRequests: { label: string; messages: ChatMessage[]; tools: string[] }[] = [];

/** Labels of the scripted LLMs the session closed, in order. */
export const thinkClosed: string[] = [];

/** Words per second the scripted voice speaks at; 16 kHz tone, 2.5 chars per 100 ms. */
const MS_PER_CHAR = 40;
const SPEAK_RATE = 16000;

/** Energy thresholds of the scripted listener (RMS of PCM16 over 20 ms). */
const SPEECH_RMS = 500;
const START_MS = 60;
/** The scripted listener's endpointing: the silence after speech that ends a turn. */
export const END_SILENCE_MS = 600;

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Detects utterances by energy and reports, for the n-th utterance, the n-th entry of
 * `provider.transcripts` (or "utterance n"); with `interim_after_ms`, also as an interim once the
 * utterance has been loud that long (as a streaming recognizer would). Its speech ended the
 * endpointing silence before it heard that silence out (as the VAD listeners tell it of audio
 * streamed in real time); with `transcribe_ms`, the turn is reported that much later still (a
 * recognizer's known delay).
 */
class ScriptedListen implements ListenProvider {
  readonly label = 'scripted-listen';
  constructor(
    private readonly transcripts: string[],
    private readonly failOpen: boolean,
    private readonly interimAfterMs: number | undefined,
    private readonly transcribeMs = 0,
  ) {}

  open(events: ListenEvents): Promise<ListenStream> {
    if (this.failOpen) return Promise.reject(new ProviderError('listen', 'scripted', 'scripted listen refused to start'));
    const frame = (LISTEN_SAMPLE_RATE * 20) / 1000;
    let pending = new Int16Array(0);
    let speechMs = 0;
    let silenceMs = 0;
    let inSpeech = false;
    let count = 0;
    const transcripts = this.transcripts;
    const interimAfterMs = this.interimAfterMs;
    const transcribeMs = this.transcribeMs;
    const endTurn = (): void => {
      inSpeech = false;
      speechMs = 0;
      const text = transcripts[count] ?? `utterance ${count + 1}`;
      count++;
      const speechEndedAt = performance.now() - END_SILENCE_MS;
      if (transcribeMs === 0) return events.endOfTurn(text, speechEndedAt);
      // Never sooner than the delay by performance.now(), which a timer may undercut by a millisecond.
      const due = performance.now() + transcribeMs;
      const report = (): void => {
        if (performance.now() < due) setTimeout(report, 1);
        else events.endOfTurn(text, speechEndedAt);
      };
      setTimeout(report, transcribeMs);
    };
    return Promise.resolve({
      write(samples: Int16Array): void {
        const joined = new Int16Array(pending.length + samples.length);
        joined.set(pending);
        joined.set(samples, pending.length);
        let offset = 0;
        for (; offset + frame <= joined.length; offset += frame) {
          let energy = 0;
          for (let i = offset; i < offset + frame; i++) energy += (joined[i] ?? 0) ** 2;
          const loud = Math.sqrt(energy / frame) > SPEECH_RMS;
          if (loud) {
            silenceMs = 0;
            speechMs += 20;
            if (!inSpeech && speechMs >= START_MS) {
              inSpeech = true;
              events.speechStarted();
            }
            if (inSpeech && speechMs === interimAfterMs) events.interim(transcripts[count] ?? `utterance ${count + 1}`);
          } else {
            if (!inSpeech) speechMs = 0;
            silenceMs += 20;
            if (inSpeech && silenceMs >= END_SILENCE_MS) endTurn();
          }
        }
        pending = joined.slice(offset);
      },
      forceEndTurn(): boolean {
        return false;
      },
      close(): void {
        pending = new Int16Array(0);
      },
    });
  }
}

/**
 * A predictable LLM: answers tool results with "The result is <content>.", calls a tool whose
 * name the user mentions, tells a long story when asked, fails when asked to, else echoes.
 */
class ScriptedThink implements ThinkProvider {
  constructor(
    readonly label: string,
    private readonly mode: string | undefined,
    private readonly tokenDelayMs: number,
    private readonly firstTokenDelayMs: number,
  ) {}

  private closed = false;

  /** Like a local LLM releasing its sequence: a closed provider cannot stream again. */
  close(): void {
    this.closed = true;
    thinkClosed.push(this.label);
  }

  async *stream(request: ThinkRequest): AsyncIterable<ThinkEvent> {
    if (this.closed) throw new ProviderError('think', this.label, `${this.label} was used after it was closed`);
    thinkRequests.push({ label: this.label, messages: [...request.messages], tools: request.tools.map((t) => t.name) });
    if (this.mode === 'fail') throw new ProviderError('think', this.label, 'scripted think failure (HTTP 500)', { status: 500 });
    await delay(this.firstTokenDelayMs, request.signal);
    const reply = this.reply(request);
    if (typeof reply !== 'string') {
      yield* reply;
      return;
    }
    for (const word of reply.split(/(?<= )/)) {
      await delay(this.tokenDelayMs, request.signal);
      if (request.signal.aborted) return;
      yield { type: 'text', text: word };
    }
  }

  private call(name: string, args: unknown): ThinkEvent {
    return { type: 'tool_call', call: { id: `call_${thinkRequests.length}_${name}`, name, arguments: JSON.stringify(args) } };
  }

  private reply(request: ThinkRequest): string | ThinkEvent[] {
    const last = request.messages.at(-1);
    if (last?.role === 'tool') {
      // `always_tool` keeps calling while tools are offered, to test the bound on tool rounds.
      const first = request.tools[0];
      if (this.mode === 'always_tool' && first !== undefined) return [this.call(first.name, {})];
      const results: string[] = [];
      for (let i = request.messages.length - 1; i >= 0; i--) {
        const message = request.messages[i];
        if (message?.role !== 'tool') break;
        results.unshift(message.content);
      }
      return `The result is ${results.join(' and ')}.`;
    }
    const text = last?.role === 'user' ? last.content : '';
    const tools = request.tools.filter((t) => text.toLowerCase().includes(t.name.replace(/_/g, ' ')));
    if (tools.length > 0) return tools.map((tool) => this.call(tool.name, { query: text }));
    if (/story/i.test(text)) {
      return 'Once upon a time there was a voice agent. It spoke in long sentences so that people could interrupt it. Every sentence took a while to say out loud. The people listened for a moment and then they spoke. The agent stopped at once and remembered only what was heard. That was the end of the story.';
    }
    if (/unknown function/i.test(text)) return [{ type: 'tool_call', call: { id: 'call_x', name: 'not_defined', arguments: '{}' } }];
    return `You said: ${text}.`;
  }
}

/** The scripted voice's pitch for a text: distinct texts sound distinct, so tests can tell whose audio is whose. */
export function scriptedPitchHz(text: string): number {
  let hash = 0;
  for (const ch of text) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return 300 + (hash % 60) * 20;
}

/** A tone whose length follows the text and whose pitch identifies it, streamed in 100 ms chunks. */
class ScriptedSpeak implements SpeakProvider {
  constructor(readonly label: string, private readonly mode: string | undefined) {}

  async *synthesize(text: string, signal: AbortSignal): AsyncIterable<PcmChunk> {
    if (this.mode === 'fail') throw new ProviderError('speak', this.label, 'scripted speak failure (HTTP 503)', { status: 503 });
    const total = Math.round((text.length * MS_PER_CHAR * SPEAK_RATE) / 1000);
    const chunk = SPEAK_RATE / 10;
    const pitch = scriptedPitchHz(text);
    for (let start = 0; start < total && !signal.aborted; start += chunk) {
      const samples = new Int16Array(Math.min(chunk, total - start));
      for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * pitch * (start + i)) / SPEAK_RATE));
      await delay(5, signal);
      yield { samples, sampleRate: SPEAK_RATE };
    }
  }
}

function option<T>(provider: Record<string, unknown>, key: string, fallback: T): T {
  return (provider[key] as T | undefined) ?? fallback;
}

export interface ScriptedOptions {
  /** Transcripts for listen settings that carry none (e.g. an SDK asking for nova-3). */
  transcripts?: string[];
  /** Also answer to the provider types real SDK examples ask for (deepgram, open_ai). */
  standIn?: boolean;
}

/** Registries holding only the scripted providers, under provider type `scripted`. */
export function scriptedProviders(options: ScriptedOptions = {}): Providers {
  const providers = emptyProviders();
  const listenTypes = options.standIn === true ? ['scripted', 'deepgram'] : ['scripted'];
  const thinkTypes = options.standIn === true ? ['scripted', 'open_ai'] : ['scripted'];
  for (const type of listenTypes) {
    providers.listen.register(type, (settings) =>
      new ScriptedListen(
        option(settings.provider, 'transcripts', options.transcripts ?? []),
        option(settings.provider, 'fail', false),
        option<number | undefined>(settings.provider, 'interim_after_ms', undefined),
        option(settings.provider, 'transcribe_ms', 0),
      ),
    );
  }
  for (const type of thinkTypes) {
    providers.think.register(type, (settings) =>
      new ScriptedThink(`scripted/${settings.provider.model ?? 'default'}`, option<string | undefined>(settings.provider, 'mode', undefined), option(settings.provider, 'token_delay_ms', 2), option(settings.provider, 'first_token_delay_ms', 0)),
    );
  }
  for (const type of listenTypes) {
    providers.speak.register(type, (settings) =>
      new ScriptedSpeak(`scripted/${settings.provider.model ?? 'voice'}`, option<string | undefined>(settings.provider, 'mode', undefined)),
    );
  }
  return providers;
}
