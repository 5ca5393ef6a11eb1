/**
 * Plays recorded utterances to an agent the way a person on a call would: each one at real-time
 * pace (or as fast as the socket takes it), then silence until the agent's reply has finished,
 * then the next. A turn that gets no reply (the server heard no words, or nothing came in time)
 * is reported and the script goes on. Every agent utterance comes back as WAV. Used by
 * `parley talk` and tests.
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

/** How one input's turn ended. */
export interface TurnOutcome {
  /** 1-based number of the input. */
  input: number;
  name: string;
  replied: boolean;
  /** Why there was no reply: the server's Warning NO_SPEECH_RECOGNIZED, or the reply timeout. */
  reason?: 'no_speech_recognized' | 'timeout';
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
  /** Longest wait for the agent's reply after an input ends; then the turn has no reply. Default 60000. */
  replyTimeoutMs?: number;
  /** Longest wait for SettingsApplied. Default 15000. */
  settingsTimeoutMs?: number;
  frameMs?: number;
  /** `turn`: the input the utterance answers, 0 before the first input (the greeting). */
  onUtterance?: (utterance: Utterance, turn: number) => void;
  onProgress?: (progress: StreamProgress) => void;
  onTurnEnd?: (turn: TurnOutcome) => void;
}

export interface ScriptResult {
  utterances: Utterance[];
  /** User transcripts the server reported, in order. */
  heard: string[];
  turns: TurnOutcome[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Fast mode yields after this much unsent data so the socket and event loop keep up. */
const FAST_BUFFER_LIMIT = 256 * 1024;

/**
 * How long a turn without words must stay the latest news before the input counts as unanswered:
 * a server still catching up on fast-sent audio may yet find speech after the noise.
 */
const NO_WORDS_SETTLE_MS = 1000;

export async function runScript(client: AgentClient, options: ScriptOptions): Promise<ScriptResult> {
  const frameMs = options.frameMs ?? 20;
  const frameBytes = Math.round((options.sampleRate * frameMs) / 1000) * 2;
  const silence = new Uint8Array(frameBytes);
  const utterances: Utterance[] = [];
  const heard: string[] = [];
  const turns: TurnOutcome[] = [];
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
    options.onUtterance?.(u, userTurns);
  });
  // What the listener last reported in this turn, and when it reported a turn without words.
  let lastSpeech: 'none' | 'speaking' | 'text' | 'empty' = 'none';
  let noWordsAt = 0;
  const onSpeech = (): void => {
    lastSpeech = 'speaking';
  };
  const onWarning = (w: { code: string }): void => {
    if (w.code !== 'NO_SPEECH_RECOGNIZED') return;
    lastSpeech = 'empty';
    noWordsAt = Date.now();
  };
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
    lastSpeech = 'text';
  };
  let audioDone = 0;
  const onDone = (): void => {
    audioDone += 1;
    if (turnOfLastUserText === userTurns && userTurns > 0) repliesDone = userTurns;
  };
  client.on('Error', onError).on('Close', onClose).on('ConversationText', onText).on('AgentAudioDone', onDone);
  client.on('UserStartedSpeaking', onSpeech).on('Warning', onWarning);
  const check = (): void => {
    if (failure) throw failure;
  };

  /** Sends silence in real time until `done()` (true) or the deadline (false). */
  const idleUntil = async (done: () => boolean, timeoutMs: number): Promise<boolean> => {
    const start = Date.now();
    let sent = 0;
    while (!done()) {
      check();
      if (Date.now() - start > timeoutMs) return false;
      if (client.isConnected()) client.send(silence);
      sent += 1;
      await sleep(start + sent * frameMs - Date.now());
    }
    return true;
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
    const replyTimeoutMs = options.replyTimeoutMs ?? 60_000;
    if (settings.agent.greeting && !(await idleUntil(() => audioDone > 0, replyTimeoutMs))) {
      throw new Error(`no greeting within ${replyTimeoutMs} ms`);
    }
    const trailing = new Uint8Array(Math.round(((options.trailingSilenceMs ?? 1500) * options.sampleRate) / 1000) * 2);
    for (const [index, input] of options.inputs.entries()) {
      userTurns += 1;
      lastSpeech = 'none';
      const totalMs = (input.pcm.byteLength / 2 / options.sampleRate) * 1000;
      await stream(input.pcm, (sentMs) =>
        options.onProgress?.({ input: index + 1, name: input.name, sentMs: Math.min(sentMs, totalMs), totalMs }),
      );
      await stream(trailing, () => undefined);
      const turn = userTurns;
      const noWords = (): boolean => lastSpeech === 'empty' && Date.now() - noWordsAt >= NO_WORDS_SETTLE_MS;
      const ended = await idleUntil(() => repliesDone >= turn || noWords(), replyTimeoutMs);
      const replied = repliesDone >= turn;
      const outcome: TurnOutcome = replied
        ? { input: turn, name: input.name, replied }
        : { input: turn, name: input.name, replied, reason: ended ? 'no_speech_recognized' : 'timeout' };
      turns.push(outcome);
      options.onTurnEnd?.(outcome);
    }
    check();
    return { utterances, heard, turns };
  } finally {
    recorder.detach();
    client.off('Error', onError).off('Close', onClose).off('ConversationText', onText).off('AgentAudioDone', onDone);
    client.off('UserStartedSpeaking', onSpeech).off('Warning', onWarning);
  }
}
