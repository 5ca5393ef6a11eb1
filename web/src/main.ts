import { AgentClient, PlaybackQueue } from '../../src/client/index.js';
import type { FunctionCallRequestItem } from '../../src/client/index.js';
import { renderLatencyChart } from './chart.js';
import type { TurnLatency } from './chart.js';
import { startMicrophone } from './mic.js';
import type { MicFrame, Microphone } from './mic.js';
import { buildSettings, loadSettings, OUTPUT_RATE, saveSettings } from './settings.js';
import type { PageSettings } from './settings.js';
import { addLine } from './transcript.js';
import type { LineKind } from './transcript.js';

type AgentState = 'idle' | 'listening' | 'thinking' | 'speaking';

function byId<T extends HTMLElement | SVGElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} missing`);
  return node as unknown as T;
}

const ui = {
  status: byId<HTMLSpanElement>('status'),
  state: byId<HTMLSpanElement>('agent-state'),
  session: byId<HTMLButtonElement>('session'),
  ptt: byId<HTMLButtonElement>('ptt'),
  level: byId<HTMLDivElement>('level'),
  transcript: byId<HTMLOListElement>('transcript'),
  chart: byId<SVGSVGElement>('latency-chart'),
  form: byId<HTMLFormElement>('settings'),
  settingsError: byId<HTMLParagraphElement>('settings-error'),
};

interface Live {
  client: AgentClient;
  playback: PlaybackQueue;
  playCtx: AudioContext;
  mic: Microphone | undefined;
}

let live: Live | undefined;
let state: AgentState = 'idle';
let audioDone = true;
let pttHeld = false;
let level = 0;
let openTurn: TurnLatency | undefined;
const latencies: TurnLatency[] = [];
const transcript: { kind: LineKind; text: string }[] = [];
const counts = { events: 0, framesSent: 0, bytesReceived: 0 };
const eventsByType: Record<string, number> = {};

/** Read by the browser test: live counters of what the page did. */
const hooks = {
  get events() {
    return counts.events;
  },
  eventsByType,
  get framesSent() {
    return counts.framesSent;
  },
  get bytesReceived() {
    return counts.bytesReceived;
  },
  get samplesScheduled() {
    return live?.playback.samplesScheduled ?? finished.samplesScheduled;
  },
  get samplesPlayed() {
    return live?.playback.samplesPlayed ?? finished.samplesPlayed;
  },
  get flushes() {
    return live?.playback.flushes ?? finished.flushes;
  },
  get state() {
    return state;
  },
  transcript,
  latencies,
};
const finished = { samplesScheduled: 0, samplesPlayed: 0, flushes: 0 };
(window as unknown as { __parley: typeof hooks }).__parley = hooks;

function mode(): 'hands-free' | 'push-to-talk' {
  const checked = document.querySelector<HTMLInputElement>('input[name="mode"]:checked');
  return checked?.value === 'push-to-talk' ? 'push-to-talk' : 'hands-free';
}

function setState(next: AgentState): void {
  state = next;
  ui.state.textContent = next;
  ui.state.dataset['state'] = next;
}

function line(kind: LineKind, text: string): void {
  transcript.push({ kind, text });
  addLine(ui.transcript, kind, text);
}

function recordLatency(patch: Omit<TurnLatency, 'turn' | 'totalMs'> & { totalMs?: number }): void {
  const turn = openTurn ?? { turn: latencies.length + 1, totalMs: 0 };
  if (!openTurn) {
    latencies.push(turn);
    openTurn = turn;
  }
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined) (turn as unknown as Record<string, number>)[key] = value;
  }
  renderLatencyChart(ui.chart, latencies);
}

const seconds = (s: number | undefined): number | undefined => (s === undefined ? undefined : s * 1000);

function answerFunctions(client: AgentClient, mocks: Map<string, unknown>, calls: FunctionCallRequestItem[]): void {
  for (const call of calls) {
    line('function', `${call.name}(${call.arguments})${call.client_side ? '' : ' on the server'}`);
    if (!call.client_side) continue;
    const mock = mocks.get(call.name);
    const content =
      mock === undefined
        ? JSON.stringify({ error: `this page has no implementation of ${call.name}` })
        : typeof mock === 'string'
          ? mock
          : JSON.stringify(mock);
    client.functionCallResponse({ id: call.id, name: call.name, content });
    line('result', `${call.name} → ${content}`);
  }
}

function agentUrl(): string {
  const param = new URLSearchParams(location.search).get('url');
  if (param) return param;
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/v1/agent/converse`;
}

function onMicFrame(frame: MicFrame): void {
  level = Math.max(frame.rms, level * 0.85);
  const client = live?.client;
  if (!client?.isConnected()) return;
  // Released press-to-talk sends silence, so the server's end of turn still fires on time.
  const speaking = mode() === 'hands-free' || pttHeld;
  client.send(speaking ? frame.pcm : new ArrayBuffer(frame.pcm.byteLength));
  counts.framesSent += 1;
}

async function start(): Promise<void> {
  const page = readForm();
  let built;
  try {
    built = buildSettings(page);
  } catch (error) {
    showSettingsError(error);
    return;
  }
  ui.session.disabled = true;
  const playCtx = new AudioContext();
  await playCtx.resume();
  const playback = new PlaybackQueue(playCtx, { sampleRate: OUTPUT_RATE });
  const client = new AgentClient({ url: agentUrl(), key: page.key || undefined, auth: 'subprotocol' });
  live = { client, playback, playCtx, mic: undefined };
  const settings = built.settings;
  client.on('Open', () => {
    ui.status.textContent = 'connected';
    client.configure(settings);
  });
  attach(client, playback, built.mocks);
  try {
    live.mic = await startMicrophone(onMicFrame);
  } catch (error) {
    line('error', `Microphone: ${error instanceof Error ? error.message : String(error)}`);
  }
  ui.session.textContent = 'Stop';
  ui.session.disabled = false;
  ui.ptt.disabled = mode() !== 'push-to-talk';
}

function attach(client: AgentClient, playback: PlaybackQueue, mocks: Map<string, unknown>): void {
  for (const name of [
    'Welcome', 'SettingsApplied', 'ConversationText', 'History', 'UserStartedSpeaking', 'AgentThinking',
    'FunctionCallRequest', 'FunctionCallResponse', 'FunctionCallCancelled', 'AgentStartedSpeaking',
    'AgentAudioDone', 'LatencyReport', 'PromptUpdated', 'ThinkUpdated', 'SpeakUpdated', 'ListenUpdated',
    'InjectionRefused', 'Warning', 'Error', 'Unhandled', 'Audio',
  ] as const) {
    client.on(name, () => {
      counts.events += 1;
      eventsByType[name] = (eventsByType[name] ?? 0) + 1;
    });
  }
  client.on('SettingsApplied', () => setState('listening'));
  client.on('UserStartedSpeaking', () => {
    playback.flush();
    audioDone = true;
    openTurn = undefined;
    setState('listening');
  });
  client.on('ConversationText', (m) => {
    line(m.role, m.content);
    if (m.role === 'user') setState('thinking');
  });
  client.on('AgentThinking', (m) => {
    setState('thinking');
    if (m.content) line('notice', `thinking: ${m.content}`);
  });
  client.on('FunctionCallRequest', (m) => {
    setState('thinking');
    answerFunctions(client, mocks, m.functions);
  });
  client.on('FunctionCallResponse', (m) => line('result', `${m.name} → ${m.content}`));
  client.on('FunctionCallCancelled', (m) => line('notice', `cancelled: ${m.functions.map((f) => f.name).join(', ')}`));
  client.on('AgentStartedSpeaking', (m) => {
    openTurn = undefined;
    recordLatency({ totalMs: m.total_latency * 1000, thinkMs: m.ttt_latency * 1000, ttsMs: m.tts_latency * 1000 });
  });
  client.on('LatencyReport', (m) => {
    recordLatency({
      totalMs: seconds(m.total_latency),
      sttMs: seconds(m.stt_latency),
      thinkMs: seconds(m.ttt_text_latency ?? m.ttt_token_latency),
      ttsMs: seconds(m.tts_latency),
    });
    openTurn = undefined;
  });
  client.on('Audio', (data) => {
    counts.bytesReceived += data.byteLength;
    audioDone = false;
    playback.push(data);
    setState('speaking');
  });
  client.on('AgentAudioDone', () => {
    audioDone = true;
  });
  client.on('InjectionRefused', (m) => line('notice', `injection refused${m.message ? `: ${m.message}` : ''}`));
  client.on('Warning', (m) => line('notice', `${m.code}: ${m.description}`));
  client.on('Error', (m) => line('error', `${m.code}: ${m.description}`));
  client.on('Close', (m) => {
    ui.status.textContent = m.willReconnect ? 'reconnecting' : `closed (${m.code})`;
    if (!m.willReconnect) void stop();
  });
}

async function stop(): Promise<void> {
  const current = live;
  if (!current) return;
  live = undefined;
  finished.samplesScheduled = current.playback.samplesScheduled;
  finished.samplesPlayed = current.playback.samplesPlayed;
  finished.flushes = current.playback.flushes;
  current.client.disconnect();
  current.playback.flush();
  await current.mic?.stop();
  await current.playCtx.close();
  setState('idle');
  ui.session.textContent = 'Start';
  ui.ptt.disabled = true;
}

function readForm(): PageSettings {
  const data = new FormData(ui.form);
  // Every field is a text input or textarea, so an entry is a string (a File only for file inputs).
  const value = (name: keyof PageSettings): string => {
    const entry = data.get(name);
    return typeof entry === 'string' ? entry : '';
  };
  return {
    key: value('key'),
    prompt: value('prompt'),
    greeting: value('greeting'),
    voice: value('voice'),
    listenProvider: value('listenProvider'),
    speakProvider: value('speakProvider'),
    thinkProvider: value('thinkProvider'),
    thinkModel: value('thinkModel'),
    functions: value('functions'),
  };
}

function fillForm(settings: PageSettings): void {
  for (const name of Object.keys(settings) as (keyof PageSettings)[]) {
    const field = ui.form.elements.namedItem(name);
    if (field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement) field.value = settings[name];
  }
}

function showSettingsError(error: unknown): void {
  ui.settingsError.hidden = false;
  ui.settingsError.textContent = error instanceof Error ? error.message : String(error);
  byId<HTMLDetailsElement>('settings-panel').open = true;
}

function tick(): void {
  ui.level.style.width = `${Math.min(100, Math.round(Math.sqrt(level) * 140))}%`;
  level *= 0.92;
  if (state === 'speaking' && audioDone && live && !live.playback.playing) setState('listening');
  requestAnimationFrame(tick);
}

ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  const page = readForm();
  try {
    buildSettings(page);
  } catch (error) {
    showSettingsError(error);
    return;
  }
  ui.settingsError.hidden = true;
  saveSettings(localStorage, page);
});
ui.session.addEventListener('click', () => void (live ? stop() : start()));
for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="mode"]')) {
  radio.addEventListener('change', () => {
    ui.ptt.disabled = !live || mode() !== 'push-to-talk';
  });
}
const hold = (held: boolean) => () => {
  pttHeld = held;
  ui.ptt.classList.toggle('held', held);
};
ui.ptt.addEventListener('pointerdown', hold(true));
ui.ptt.addEventListener('pointerup', hold(false));
ui.ptt.addEventListener('pointerleave', hold(false));
const typing = (): boolean => document.activeElement instanceof HTMLInputElement || document.activeElement instanceof HTMLTextAreaElement;
window.addEventListener('keydown', (event) => {
  if (event.code === 'Space' && !event.repeat && !typing() && mode() === 'push-to-talk' && live) {
    event.preventDefault();
    hold(true)();
  }
});
window.addEventListener('keyup', (event) => {
  if (event.code === 'Space' && !typing()) hold(false)();
});

fillForm(loadSettings(localStorage));
renderLatencyChart(ui.chart, latencies);
requestAnimationFrame(tick);
