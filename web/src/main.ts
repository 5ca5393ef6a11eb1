import { AgentClient, AgentEvents, PlaybackQueue, resolveAgentUrl } from '../../src/client/index.js';
import type { AgentEventMap, FunctionCallRequestItem } from '../../src/client/index.js';
import { renderLatencyChart, turnLatency } from './chart.js';
import type { TurnLatency } from './chart.js';
import { EventLog } from './event-log.js';
import { startMicrophone } from './mic.js';
import type { MicFrame, Microphone } from './mic.js';
import { fetchModels, whyRefused } from './server-check.js';
import type { OfferedModel, Stage } from './server-check.js';
import { buildSettings, loadSettings, OUTPUT_RATE, saveSettings, SettingsError } from './settings.js';
import type { PageSettings } from './settings.js';
import { Transcript } from './transcript.js';

type AgentState = 'idle' | 'connecting' | 'listening' | 'user-speaking' | 'thinking' | 'speaking';

const STATE_TEXT: Record<AgentState, string> = {
  idle: 'idle',
  connecting: 'connecting',
  listening: 'listening',
  'user-speaking': 'you are speaking',
  thinking: 'thinking',
  speaking: 'speaking',
};

function byId<T extends HTMLElement | SVGElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} missing`);
  return node as unknown as T;
}

const ui = {
  status: byId<HTMLParagraphElement>('status'),
  state: byId<HTMLSpanElement>('agent-state'),
  session: byId<HTMLButtonElement>('session'),
  ptt: byId<HTMLButtonElement>('ptt'),
  level: byId<HTMLDivElement>('level'),
  chart: byId<SVGSVGElement>('latency-chart'),
  say: byId<HTMLFormElement>('say'),
  message: byId<HTMLInputElement>('message'),
  send: byId<HTMLButtonElement>('send'),
  form: byId<HTMLFormElement>('settings'),
  panel: byId<HTMLDetailsElement>('settings-panel'),
  saved: byId<HTMLSpanElement>('save-status'),
  modelsStatus: byId<HTMLParagraphElement>('models-status'),
  filter: byId<HTMLInputElement>('event-filter'),
  copy: byId<HTMLButtonElement>('copy-events'),
  clear: byId<HTMLButtonElement>('clear-events'),
  copyStatus: byId<HTMLSpanElement>('copy-status'),
};

const transcript = new Transcript(byId<HTMLOListElement>('transcript'));
const log = new EventLog(byId<HTMLOListElement>('events'), byId<HTMLSpanElement>('event-count'));

/** A reply that has started speaking: it gets a latency bar only if it answered the user and played to its end. */
interface Reply {
  answersUser: boolean;
  audioDone: boolean;
  interrupted: boolean;
}

interface Live {
  client: AgentClient;
  playback: PlaybackQueue;
  playCtx: AudioContext;
  mic: Microphone | undefined;
  /** The agent URL as the user gave it, for messages; the page's own parameter is added to connect. */
  shownUrl: string;
  opened: boolean;
  ended: boolean;
  userTurn: boolean;
  /**
   * Replies from AgentStartedSpeaking to their LatencyReport, oldest first: the server sends both
   * for every reply with audio, in order (docs/protocol-decisions.md#latency-events-on-every-turn),
   * so a report that comes after the next reply has started still finds its own.
   */
  replies: Reply[];
}

let live: Live | undefined;
let state: AgentState = 'idle';
let pttHeld = false;
let level = 0;
const latencies: TurnLatency[] = [];
/** Every state the page showed, in order, and every interim transcript it was sent (for the tests). */
const states: AgentState[] = [];
const interims: string[] = [];
const counts = { events: 0, framesSent: 0, bytesReceived: 0 };
const eventsByType: Record<string, number> = {};
const finished = { samplesScheduled: 0, samplesPlayed: 0, flushes: 0 };

/** Read by the browser tests: live counters of what the page did. */
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
  transcript: transcript.rows,
  latencies,
  states,
  interims,
  log: log.entries,
};
(window as unknown as { __parley: typeof hooks }).__parley = hooks;

function mode(): 'hands-free' | 'push-to-talk' {
  const checked = document.querySelector<HTMLInputElement>('input[name="mode"]:checked');
  return checked?.value === 'push-to-talk' ? 'push-to-talk' : 'hands-free';
}

function setState(next: AgentState): void {
  if (next !== state) states.push(next);
  state = next;
  ui.state.textContent = STATE_TEXT[next];
  ui.state.dataset['state'] = next;
}

function setStatus(text: string): void {
  ui.status.textContent = text;
}

function send(client: AgentClient, message: { type: string } & Record<string, unknown>): void {
  log.json('out', message);
  client.sendJson(message);
}

function answerFunctions(client: AgentClient, mocks: Map<string, unknown>, calls: FunctionCallRequestItem[]): void {
  for (const call of calls) {
    transcript.call({ id: call.id, name: call.name, arguments: call.arguments, where: call.client_side ? 'client' : 'server' });
    if (!call.client_side) continue;
    const mock = mocks.get(call.name);
    const content =
      mock === undefined
        ? JSON.stringify({ error: `this page has no implementation of ${call.name}` })
        : typeof mock === 'string'
          ? mock
          : JSON.stringify(mock);
    send(client, { type: 'FunctionCallResponse', id: call.id, name: call.name, content });
    transcript.result(call.id, call.name, content);
  }
}

function agentUrl(page: PageSettings): string {
  if (page.url.trim()) return page.url.trim();
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/v1/agent/converse`;
}

/** The URL the page connects to: the user's, asking for interim transcripts (docs/protocol-decisions.md#interim-transcripts). */
function connectUrl(shown: string): string {
  const url = new URL(shown);
  url.searchParams.set('interim_transcripts', 'true');
  return url.toString();
}

/** The reply the agent is speaking now, if any. */
function speakingReply(current: Live): Reply | undefined {
  const last = current.replies.at(-1);
  return last && !last.audioDone && !last.interrupted ? last : undefined;
}

/** The agent was cut off (the user spoke or typed): what is queued is not played, and its reply gets no bar. */
function interrupt(current: Live): void {
  const reply = speakingReply(current);
  if (reply) {
    reply.interrupted = true;
    transcript.note('notice', 'interrupted');
  }
  current.playback.flush();
}

function onMicFrame(frame: MicFrame): void {
  level = Math.max(frame.rms, level * 0.85);
  const client = live?.client;
  if (!client?.isConnected()) return;
  // Released press-to-talk sends silence, so the server's end of turn still fires on time.
  const speaking = mode() === 'hands-free' || pttHeld;
  client.send(speaking ? frame.pcm : new ArrayBuffer(frame.pcm.byteLength));
  log.binary('out', frame.pcm.byteLength);
  counts.framesSent += 1;
}

function setLive(on: boolean): void {
  ui.session.textContent = on ? 'Stop' : 'Start';
  ui.session.classList.toggle('stop', on);
  ui.ptt.disabled = !on || mode() !== 'push-to-talk';
  if (!on) {
    ui.message.disabled = true;
    ui.send.disabled = true;
  }
}

/**
 * Every way a session ends comes here once: the socket, the microphone and the audio are
 * released and the page is ready to start again; `note` says why, in the conversation.
 */
function finish(current: Live, note?: { kind: 'notice' | 'error'; text: string }): void {
  if (current.ended) return;
  current.ended = true;
  if (live === current) live = undefined;
  finished.samplesScheduled = current.playback.samplesScheduled;
  finished.samplesPlayed = current.playback.samplesPlayed;
  finished.flushes = current.playback.flushes;
  current.client.disconnect();
  current.playback.flush();
  void current.mic?.stop().catch(() => undefined);
  void current.playCtx.close().catch(() => undefined);
  transcript.dropLive();
  setState('idle');
  setLive(false);
  setStatus(note?.text ?? 'Stopped. Press Start to talk again.');
  if (note) transcript.note(note.kind, note.text);
}

function start(): void {
  const page = readForm();
  let built;
  let client: AgentClient;
  let shownUrl: string;
  try {
    built = buildSettings(page);
    shownUrl = resolveAgentUrl(agentUrl(page));
    client = new AgentClient({ url: connectUrl(shownUrl), key: page.key || undefined, auth: 'subprotocol' });
  } catch (error) {
    showFieldError(error instanceof SettingsError ? error.field : 'url', error);
    return;
  }
  clearFieldErrors();
  // Created in the click, so the browser lets it play.
  const playCtx = new AudioContext();
  void playCtx.resume();
  const playback = new PlaybackQueue(playCtx, { sampleRate: OUTPUT_RATE });
  const current: Live = { client, playback, playCtx, mic: undefined, shownUrl, opened: false, ended: false, userTurn: false, replies: [] };
  live = current;
  setState('connecting');
  setStatus(`Connecting to ${shownUrl}…`);
  setLive(true);
  const settings = built.settings;
  client.on('Open', () => {
    current.opened = true;
    log.json('in', { type: 'Open' });
    setStatus(`Connected to ${shownUrl}`);
    send(client, { type: 'Settings', ...settings });
  });
  attach(current, built.mocks);
  startMicrophone(onMicFrame).then(
    (mic) => {
      if (current.ended) void mic.stop().catch(() => undefined);
      else current.mic = mic;
    },
    (error: unknown) => {
      const why = error instanceof Error ? error.message : String(error);
      finish(current, { kind: 'error', text: `The microphone could not be opened (${why}). Allow it for this page and press Start again.` });
    },
  );
}

/** JSON events from the server, logged as they came; Open, Close, Error and Audio are logged by their own handlers. */
const JSON_EVENTS = Object.values(AgentEvents).filter(
  (name): name is Exclude<keyof AgentEventMap, 'Open' | 'Close' | 'Error' | 'Audio'> => !['Open', 'Close', 'Error', 'Audio'].includes(name),
);

function attach(current: Live, mocks: Map<string, unknown>): void {
  const { client, playback, shownUrl } = current;
  const count = (name: string): void => {
    counts.events += 1;
    eventsByType[name] = (eventsByType[name] ?? 0) + 1;
  };
  for (const name of JSON_EVENTS) {
    client.on(name, (message: object) => {
      count(name);
      log.json('in', message);
    });
  }
  client.on('Audio', (data) => {
    count('Audio');
    log.binary('in', data.byteLength);
    counts.bytesReceived += data.byteLength;
    playback.push(data);
    setState('speaking');
  });
  client.on('SettingsApplied', () => {
    setState('listening');
    ui.message.disabled = false;
    ui.send.disabled = false;
  });
  client.on('UserStartedSpeaking', () => {
    interrupt(current);
    setState('user-speaking');
    transcript.userSpeaking();
  });
  client.on('Unhandled', (m) => {
    // Parley's own, asked for in the URL (docs/protocol-decisions.md#interim-transcripts).
    if (m['type'] !== 'InterimTranscript' || typeof m['content'] !== 'string') return;
    interims.push(m['content']);
    transcript.interim(m['content']);
    setState('user-speaking');
  });
  client.on('ConversationText', (m) => {
    if (m.role === 'user') {
      transcript.user(m.content);
      current.userTurn = true;
      setState('thinking');
    } else {
      transcript.agent(m.content);
    }
  });
  client.on('AgentThinking', (m) => {
    setState('thinking');
    if (m.content) transcript.note('notice', `thinking: ${m.content}`);
  });
  client.on('FunctionCallRequest', (m) => {
    // A reply may speak, call a tool, and speak on: while its audio plays it is still speaking.
    if (!playback.playing) setState('thinking');
    answerFunctions(client, mocks, m.functions);
  });
  client.on('FunctionCallResponse', (m) => transcript.result(m.id ?? '', m.name, m.content));
  client.on('FunctionCallCancelled', (m) => transcript.note('notice', `cancelled: ${m.functions.map((f) => f.name).join(', ')}`));
  client.on('AgentStartedSpeaking', () => {
    current.replies.push({ answersUser: current.userTurn, audioDone: false, interrupted: false });
    current.userTurn = false;
  });
  client.on('AgentAudioDone', () => {
    const reply = speakingReply(current);
    if (reply) reply.audioDone = true;
  });
  client.on('LatencyReport', (m) => {
    // An interrupted reply is reported too; a greeting answers no one: neither is a turn's bar.
    const reply = current.replies.shift();
    if (!reply?.answersUser || !reply.audioDone || reply.interrupted) return;
    latencies.push(turnLatency(latencies.length + 1, m));
    renderLatencyChart(ui.chart, latencies);
  });
  client.on('InjectionRefused', (m) => transcript.note('notice', `message refused${m.message ? `: ${m.message}` : ''}`));
  client.on('Warning', (m) => {
    if (m.code === 'NO_SPEECH_RECOGNIZED') {
      transcript.dropLive();
      setState('listening');
    }
    transcript.note('notice', m.description);
  });
  client.on('Error', (m) => {
    count('Error');
    log.json('in', { type: 'Error', code: m.code, description: m.description });
    // A failed socket is explained by its close; a server's Error is shown as it came.
    if (m.code !== 'SOCKET_ERROR') transcript.note('error', m.description);
  });
  client.on('Close', (m) => {
    log.json('in', { type: 'Close', code: m.code, reason: m.reason });
    if (current.ended) return;
    if (!current.opened) {
      finish(current);
      setStatus(`Checking why ${shownUrl} refused the connection…`);
      void whyRefused(shownUrl, readForm().key).then((text) => {
        transcript.note('error', text);
        if (!live) setStatus(text);
      });
      return;
    }
    finish(
      current,
      m.code === 1000
        ? { kind: 'notice', text: 'The server ended the session. Press Start to talk again.' }
        : { kind: 'error', text: `The connection to ${shownUrl} was lost (close ${m.code}${m.reason ? `: ${m.reason}` : ''}). Press Start to try again.` },
    );
  });
}

function readForm(): PageSettings {
  const data = new FormData(ui.form);
  // Every field is a text input or textarea, so an entry is a string (a File only for file inputs).
  const value = (name: keyof PageSettings): string => {
    const entry = data.get(name);
    return typeof entry === 'string' ? entry : '';
  };
  return {
    url: value('url'),
    key: value('key'),
    prompt: value('prompt'),
    greeting: value('greeting'),
    voice: value('voice'),
    listenProvider: value('listenProvider'),
    listenModel: value('listenModel'),
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

function fieldOf(name: string): HTMLInputElement | HTMLTextAreaElement | undefined {
  const field = ui.form.elements.namedItem(name);
  return field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement ? field : undefined;
}

function clearFieldErrors(): void {
  for (const note of ui.form.querySelectorAll<HTMLElement>('.field-error')) {
    note.hidden = true;
    note.textContent = '';
  }
  for (const field of ui.form.querySelectorAll('[aria-invalid]')) field.removeAttribute('aria-invalid');
}

function showFieldError(name: keyof PageSettings, error: unknown): void {
  clearFieldErrors();
  ui.saved.textContent = '';
  const note = document.getElementById(`${name}-error`);
  const field = fieldOf(name);
  if (note) {
    note.hidden = false;
    note.textContent = error instanceof Error ? error.message : String(error);
  }
  ui.panel.open = true;
  field?.setAttribute('aria-invalid', 'true');
  field?.focus();
}

// ---- provider and model lists from the server ----------------------------------------------

const MODEL_FIELD: Record<Stage, { provider: keyof PageSettings; model: keyof PageSettings }> = {
  listen: { provider: 'listenProvider', model: 'listenModel' },
  think: { provider: 'thinkProvider', model: 'thinkModel' },
  speak: { provider: 'speakProvider', model: 'voice' },
};
const offered: Record<Stage, OfferedModel[]> = { listen: [], think: [], speak: [] };

function options(list: HTMLDataListElement, items: { value: string; label: string }[]): void {
  list.replaceChildren(
    ...items.map(({ value, label }) => {
      const option = document.createElement('option');
      option.value = value;
      option.label = label;
      return option;
    }),
  );
}

function fillLists(stage: Stage): void {
  const providers = [...new Set(offered[stage].map((m) => m.provider))];
  options(byId<HTMLDataListElement>(`${stage}-providers`), [
    { value: 'local', label: "this server's best local engine" },
    ...providers.map((p) => ({ value: p, label: offered[stage].filter((m) => m.provider === p).length > 1 ? `${p} models` : p })),
  ]);
  const chosen = fieldOf(MODEL_FIELD[stage].provider)?.value ?? '';
  options(
    byId<HTMLDataListElement>(`${stage}-models`),
    offered[stage].filter((m) => m.provider === chosen).map((m) => ({ value: m.id, label: m.name })),
  );
}

let listsAsked = 0;
async function loadLists(): Promise<void> {
  const asked = ++listsAsked;
  const page = readForm();
  let url: string;
  try {
    url = resolveAgentUrl(agentUrl(page));
  } catch {
    ui.modelsStatus.textContent = 'The server URL is not a valid address.';
    return;
  }
  const stages: Stage[] = ['listen', 'think', 'speak'];
  const results = await Promise.allSettled(stages.map((stage) => fetchModels(url, page.key, stage)));
  if (asked !== listsAsked) return;
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  results.forEach((result, i) => {
    const stage = stages[i];
    if (stage === undefined) return;
    offered[stage] = result.status === 'fulfilled' ? result.value : [];
    fillLists(stage);
  });
  ui.modelsStatus.textContent = failed
    ? `Could not load the server's provider lists (${failed.reason instanceof Error ? failed.reason.message : String(failed.reason)}); any name can still be typed.`
    : 'Pick a provider and model from the lists (what this server offers), or type any name.';
}

// ---- wiring ---------------------------------------------------------------------------------

function tick(): void {
  ui.level.style.width = `${Math.min(100, Math.round(Math.sqrt(level) * 140))}%`;
  level *= 0.92;
  if (state === 'speaking' && live && !live.playback.playing && speakingReply(live) === undefined) setState('listening');
  requestAnimationFrame(tick);
}

ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  const page = readForm();
  try {
    buildSettings(page);
  } catch (error) {
    showFieldError(error instanceof SettingsError ? error.field : 'functions', error);
    return;
  }
  clearFieldErrors();
  saveSettings(localStorage, page);
  ui.saved.textContent = `Saved at ${new Date().toLocaleTimeString()}; used when the next session starts.`;
  void loadLists();
});
for (const name of ['url', 'key'] as const) fieldOf(name)?.addEventListener('change', () => void loadLists());
for (const stage of ['listen', 'think', 'speak'] as const) {
  fieldOf(MODEL_FIELD[stage].provider)?.addEventListener('input', () => fillLists(stage));
}
ui.session.addEventListener('click', () => {
  if (live) finish(live);
  else start();
});
ui.say.addEventListener('submit', (event) => {
  event.preventDefault();
  const content = ui.message.value.trim();
  if (!live || content === '') return;
  // The server cuts the agent off for a typed message as for a spoken one, without UserStartedSpeaking.
  interrupt(live);
  send(live.client, { type: 'InjectUserMessage', content });
  ui.message.value = '';
});
ui.filter.addEventListener('input', () => {
  log.setFilter(ui.filter.value);
  ui.copyStatus.textContent = '';
});
ui.copy.addEventListener('click', () => {
  const text = log.text();
  navigator.clipboard.writeText(text).then(
    () => {
      ui.copyStatus.textContent = `Copied ${text === '' ? 0 : text.split('\n').length} events.`;
    },
    (error: unknown) => {
      ui.copyStatus.textContent = `Copy failed: ${error instanceof Error ? error.message : String(error)}`;
    },
  );
});
ui.clear.addEventListener('click', () => {
  log.clear();
  ui.copyStatus.textContent = '';
});
for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="mode"]')) {
  radio.addEventListener('change', () => {
    ui.ptt.disabled = !live || mode() !== 'push-to-talk';
  });
}
const hold = (held: boolean) => () => {
  pttHeld = held;
  ui.ptt.classList.toggle('held', held);
  ui.ptt.setAttribute('aria-pressed', String(held));
};
ui.ptt.addEventListener('pointerdown', hold(true));
ui.ptt.addEventListener('pointerup', hold(false));
ui.ptt.addEventListener('pointerleave', hold(false));
const typing = (): boolean => document.activeElement instanceof HTMLInputElement || document.activeElement instanceof HTMLTextAreaElement;
const holdKey = (event: KeyboardEvent): boolean => event.code === 'Space' && !typing() && mode() === 'push-to-talk' && live !== undefined;
window.addEventListener('keydown', (event) => {
  if (!holdKey(event)) return;
  // Space would also press the focused button; here it only holds the microphone open.
  event.preventDefault();
  if (!event.repeat) hold(true)();
});
window.addEventListener('keyup', (event) => {
  if (!holdKey(event)) return;
  event.preventDefault();
  hold(false)();
});

const saved = loadSettings(localStorage);
const urlParam = new URLSearchParams(location.search).get('url');
if (urlParam && !saved.url) saved.url = urlParam;
fillForm(saved);
renderLatencyChart(ui.chart, latencies);
setStatus('Press Start to talk to the agent, or type once connected.');
void loadLists();
requestAnimationFrame(tick);
