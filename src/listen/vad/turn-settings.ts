// Turn-taking settings of the local listen provider: per session (extra fields of
// agent.listen.provider), else server env, else defaults.
import { ProtocolError } from '../../protocol/errors.js';
import { num } from '../../providers/settings.js';
import type { ProviderSettings } from '../../protocol/agent-config.js';
import type { TurnSettings } from '../pocketsphinx/listen-job.js';

export const DEFAULT_TURN_SETTINGS: TurnSettings = {
  endpointingMs: 700,
  vadThreshold: 0.5,
  // 200 missed 10 of 70 placements of the cards clips after silence on 8 kHz mu-law (Silero's
  // onset on a short utterance falls short of it); 160 heard all 70 (test/listen/vad/short-utterance.test.ts).
  // Coughs that get this far are kept from stopping the agent by the session (docs/turn-taking.md).
  minSpeechMs: 160,
  maxSpeechMs: 25000,
};

type Env = Readonly<Record<string, string | undefined>>;

interface Field {
  key: keyof TurnSettings;
  setting: string;
  env: string;
  min: number;
  max: number;
}

const FIELDS: readonly Field[] = [
  { key: 'endpointingMs', setting: 'endpointing', env: 'PARLEY_ENDPOINTING_MS', min: 100, max: 10000 },
  { key: 'vadThreshold', setting: 'vad_threshold', env: 'PARLEY_VAD_THRESHOLD', min: 0.05, max: 0.95 },
  { key: 'minSpeechMs', setting: 'min_speech_ms', env: 'PARLEY_MIN_SPEECH_MS', min: 0, max: 5000 },
  { key: 'maxSpeechMs', setting: 'max_speech_ms', env: 'PARLEY_MAX_SPEECH_MS', min: 1000, max: 120000 },
];

/** Throws INVALID_SETTINGS for a session value out of range; ignores unusable env values. */
export function resolveTurnSettings(provider: ProviderSettings, env: Env): TurnSettings {
  const settings = { ...DEFAULT_TURN_SETTINGS };
  for (const field of FIELDS) {
    const fromEnv = Number(env[field.env]);
    if (env[field.env] !== undefined && env[field.env] !== '' && Number.isFinite(fromEnv) && inRange(fromEnv, field)) {
      settings[field.key] = fromEnv;
    }
    const fromSession = num(provider, field.setting);
    if (fromSession === undefined) continue;
    if (!inRange(fromSession, field)) {
      throw new ProtocolError(
        'INVALID_SETTINGS',
        `agent.listen.provider.${field.setting} must be between ${field.min} and ${field.max}`,
      );
    }
    settings[field.key] = fromSession;
  }
  return settings;
}

function inRange(value: number, field: Field): boolean {
  return value >= field.min && value <= field.max;
}
