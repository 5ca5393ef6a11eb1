/**
 * Plays recorded utterances to an agent the way a person on a call would: each one at real-time
 * pace (or as fast as the socket takes it), then silence until the agent's reply has finished,
 * then the next. Every agent utterance comes back as WAV. Used by `parley talk` and tests.
 */
import type { AgentClient } from './agent-client.js';
import type { AgentSettings } from './messages.js';
import { UtteranceRecorder } from './wav.js';
import type { Utterance } from './wav.js';

export interface ScriptedInput {
  name: string;
  /** Mono little-endian 16-bit PCM at `ScriptOptions.sampleRate`. */
  pcm: Uint8Array;
}

export interface StreamProgress {
  input: number;
  name: string;
  sentMs: number;
  totalMs: number;
}

export interface ScriptOptions {
  /** Settings to send; `audio` is set to linear16 in and out at the rates below. */
  settings: AgentSettings;
  inputs: ScriptedInput[];
  sampleRate: number;
  outputSampleRate: number;
  /** Send each input as fast as the socket drains instead of in real time. */
  fast?: boolean;
  /** Silence sent right after each input so that the server's end of turn fires. Default 1500. */
  trailingSilenceMs?: number;
  /** Longest wait for the agent's reply after an input ends. Default 60000. */
  replyTimeoutMs?: number;
  /** Longest wait for SettingsApplied. Default 15000. */
  settingsTimeoutMs?: number;
  frameMs?: number;
  onUtterance?: (utterance: Utterance) => void;
  onProgress?: (progress: StreamProgress) => void;
}

export interface ScriptResult {
  utterances: Utterance[];
  /** User transcripts the server reported, in order. */
  heard: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Fast mode yields after this much unsent data so the socket and event loop keep up. */
const FAST_BUFFER_LIMIT = 256 * 1024;

export async function runScript(client: AgentClient, options: ScriptOptions): Promise<ScriptResult> {
  const frameMs = options.frameMs ?? 20;
  const frameBytes = Math.round((options.sampleRate * frameMs) / 1000) * 2;
  const silence = new Uint8Array(frameBytes);
  const utterances: Utterance[] = [];
  const heard: string[] = [];
  const settings: AgentSettings = {
    ...options.settings,
    audio: {
      input: { encoding: 'linear16', sample_rate: options.sampleRate },
      output: { encoding: 'linear16', sample_rate: options.outputSampleRate, container: 'none' },
    },
  };

  // Fatal problems end the script: a server Error, or the socket closing for good.
  let failure: Error | undefined;
  let userTurns = 0;
  let repliesDone = 0;
  let turnOfLastUserText = 0;
  const recorder = new UtteranceRecorder(client, { sampleRate: options.outputSampleRate }, (u) => {
    utterances.push(u);
    options.onUtterance?.(u);
  });
  const onError = (e: { code: string; description: string }): void => {
    failure ??= new Error(`${e.code}: ${e.description}`);
  };
  const onClose = (c: { code: number; willReconnect: boolean }): void => {
    if (!c.willReconnect) failure ??= new Error(`connection closed (${c.code})`);
  };
  const onText = (m: { role: string; content: string }): void => {
    if (m.role !== 'user') return;
    heard.push(m.content);
    turnOfLastUserText = userTurns;
  };
  let audioDone = 0;
  const onDone = (): void => {
    audioDone += 1;
    if (turnOfLastUserText === userTurns && userTurns > 0) repliesDone = userTurns;
  };
  client.on('Error', onError).on('Close', onClose).on('ConversationText', onText).on('AgentAudioDone', onDone);
  const check = (): void => {
    if (failure) throw failure;
  };

  /** Sends silence in real time until `done()` or the deadline. */
  const idleUntil = async (done: () => boolean, timeoutMs: number, what: string): Promise<void> => {
    const start = Date.now();
    let sent = 0;
    while (!done()) {
      check();
      if (Date.now() - start > timeoutMs) throw new Error(`no ${what} within ${timeoutMs} ms`);
      if (client.isConnected()) client.send(silence);
      sent += 1;
      await sleep(start + sent * frameMs - Date.now());
    }
  };

  const stream = async (pcm: Uint8Array, report: (sentMs: number) => void): Promise<void> => {
    const start = Date.now();
    let frame = 0;
    for (let offset = 0; offset < pcm.byteLength; offset += frameBytes, frame += 1) {
      check();
      client.send(pcm.subarray(offset, offset + frameBytes));
      if (frame % 25 === 0) report(frame * frameMs);
      if (!options.fast) await sleep(start + (frame + 1) * frameMs - Date.now());
      else if (client.bufferedAmount > FAST_BUFFER_LIMIT || frame % 50 === 49) await sleep(1);
    }
    report((pcm.byteLength / frameBytes) * frameMs);
  };

  try {
    const applied = client.waitFor('SettingsApplied', options.settingsTimeoutMs ?? 15_000);
    if (client.isConnected()) client.configure(settings);
    else client.once('Open', () => client.configure(settings));
    await applied;
    check();
    if (settings.agent.greeting) {
      await idleUntil(() => audioDone > 0, options.replyTimeoutMs ?? 60_000, 'greeting');
    }
    const trailing = new Uint8Array(Math.round(((options.trailingSilenceMs ?? 1500) * options.sampleRate) / 1000) * 2);
    for (const [index, input] of options.inputs.entries()) {
      userTurns += 1;
      const totalMs = (input.pcm.byteLength / 2 / options.sampleRate) * 1000;
      await stream(input.pcm, (sentMs) =>
        options.onProgress?.({ input: index + 1, name: input.name, sentMs: Math.min(sentMs, totalMs), totalMs }),
      );
      await stream(trailing, () => undefined);
      const turn = userTurns;
      await idleUntil(() => repliesDone >= turn, options.replyTimeoutMs ?? 60_000, `reply to ${input.name}`);
    }
    check();
    return { utterances, heard };
  } finally {
    recorder.detach();
    client.off('Error', onError).off('Close', onClose).off('ConversationText', onText).off('AgentAudioDone', onDone);
  }
}
