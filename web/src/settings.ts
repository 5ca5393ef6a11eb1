import type { AgentSettings, FunctionDefinition } from '../../src/client/index.js';

/** What the settings panel edits; kept in localStorage under STORAGE_KEY. */
export interface PageSettings {
  /** The agent's WebSocket URL; empty: the server that served this page. */
  url: string;
  key: string;
  prompt: string;
  greeting: string;
  voice: string;
  listenProvider: string;
  listenModel: string;
  speakProvider: string;
  thinkProvider: string;
  thinkModel: string;
  /** JSON text of an array of function definitions. */
  functions: string;
}

export const STORAGE_KEY = 'parley.settings';
export const INPUT_RATE = 16000;
export const OUTPUT_RATE = 24000;

export const DEFAULTS: PageSettings = {
  url: '',
  key: '',
  prompt: 'You are a friendly voice assistant. Keep answers short.',
  greeting: 'Hello! How can I help?',
  voice: '',
  // `local` names the server's embedded engines; cloud types need keys on the server.
  listenProvider: 'local',
  listenModel: '',
  speakProvider: 'local',
  thinkProvider: 'local',
  thinkModel: '',
  functions: '[]',
};

export function loadSettings(storage: Storage): PageSettings {
  try {
    const saved = JSON.parse(storage.getItem(STORAGE_KEY) ?? '{}') as Partial<PageSettings>;
    return { ...DEFAULTS, ...saved };
  } catch {
    return { ...DEFAULTS };
  }
}

export function saveSettings(storage: Storage, settings: PageSettings): void {
  storage.setItem(STORAGE_KEY, JSON.stringify(settings));
}

export interface BuiltSettings {
  settings: AgentSettings;
  /** Answers for client-side functions, by name (the `mock` field, stripped before sending). */
  mocks: Map<string, unknown>;
}

/** A settings field the page cannot build Settings from; `field` names the form field. */
export class SettingsError extends Error {
  constructor(
    readonly field: keyof PageSettings,
    message: string,
  ) {
    super(message);
  }
}

function parseFunctions(text: string): unknown {
  try {
    return JSON.parse(text.trim() || '[]');
  } catch (error) {
    throw new SettingsError('functions', `Functions: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Throws a SettingsError naming the field when the settings cannot be sent. */
export function buildSettings(page: PageSettings): BuiltSettings {
  const parsed = parseFunctions(page.functions);
  if (!Array.isArray(parsed)) throw new SettingsError('functions', 'Functions must be a JSON array');
  const mocks = new Map<string, unknown>();
  const functions = parsed.map((entry: unknown, index) => {
    if (typeof entry !== 'object' || entry === null || typeof (entry as { name?: unknown }).name !== 'string') {
      throw new SettingsError('functions', `Function ${index + 1} needs a "name"`);
    }
    const { mock, ...definition } = entry as Partial<FunctionDefinition> & { name: string; mock?: unknown };
    if (mock !== undefined) mocks.set(definition.name, mock);
    return {
      ...definition,
      description: definition.description ?? '',
      parameters: definition.parameters ?? { type: 'object', properties: {} },
    };
  });
  if (!page.thinkProvider) throw new SettingsError('thinkProvider', 'Think provider is required (local: the server\'s own engine)');
  const provider = (type: string, model: string): { type: string; model?: string } => (model ? { type, model } : { type });
  const think: Record<string, unknown> = { provider: provider(page.thinkProvider, page.thinkModel), prompt: page.prompt };
  if (functions.length > 0) think['functions'] = functions;
  const agent: AgentSettings['agent'] = { think: think as AgentSettings['agent']['think'] };
  if (page.listenProvider) agent.listen = { provider: provider(page.listenProvider, page.listenModel) };
  if (page.speakProvider || page.voice) agent.speak = { provider: provider(page.speakProvider || 'local', page.voice) };
  if (page.greeting) agent.greeting = page.greeting;
  return {
    settings: {
      audio: {
        input: { encoding: 'linear16', sample_rate: INPUT_RATE },
        output: { encoding: 'linear16', sample_rate: OUTPUT_RATE, container: 'none' },
      },
      agent,
    },
    mocks,
  };
}
