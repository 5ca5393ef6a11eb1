import type { AgentSettings, FunctionDefinition } from '../../src/client/index.js';

/** What the settings panel edits; kept in localStorage under STORAGE_KEY. */
export interface PageSettings {
  key: string;
  prompt: string;
  greeting: string;
  voice: string;
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
  key: '',
  prompt: 'You are a friendly voice assistant. Keep answers short.',
  greeting: 'Hello! How can I help?',
  voice: '',
  speakProvider: '',
  thinkProvider: '',
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

/** Throws with a readable message when the functions JSON is not an array of definitions. */
export function buildSettings(page: PageSettings): BuiltSettings {
  const parsed: unknown = JSON.parse(page.functions.trim() || '[]');
  if (!Array.isArray(parsed)) throw new Error('Functions must be a JSON array');
  const mocks = new Map<string, unknown>();
  const functions = parsed.map((entry: unknown, index) => {
    if (typeof entry !== 'object' || entry === null || typeof (entry as { name?: unknown }).name !== 'string') {
      throw new Error(`Function ${index + 1} needs a "name"`);
    }
    const { mock, ...definition } = entry as Partial<FunctionDefinition> & { name: string; mock?: unknown };
    if (mock !== undefined) mocks.set(definition.name, mock);
    return {
      ...definition,
      description: definition.description ?? '',
      parameters: definition.parameters ?? { type: 'object', properties: {} },
    };
  });
  const think: Record<string, unknown> = { prompt: page.prompt };
  if (page.thinkProvider) {
    think['provider'] = page.thinkModel ? { type: page.thinkProvider, model: page.thinkModel } : { type: page.thinkProvider };
  }
  if (functions.length > 0) think['functions'] = functions;
  const agent: AgentSettings['agent'] = { think: think as AgentSettings['agent']['think'] };
  if (page.speakProvider || page.voice) {
    const provider: Record<string, unknown> = { type: page.speakProvider || 'deepgram' };
    if (page.voice) provider['model'] = page.voice;
    agent.speak = { provider: provider as { type: string } };
  }
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
