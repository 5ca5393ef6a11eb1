import { basename, dirname } from 'node:path';
import { detectNeuralModels } from '../models/detect.js';
import { hasManagedKey } from '../providers/keys.js';
import { FLITE_VOICES } from '../speak/flite/flite-job.js';

type Env = Readonly<Record<string, string | undefined>>;

/** One entry of a settings discovery list, shaped as Deepgram's (`provider` is the `provider.type` to send). */
export interface OfferedModel {
  id: string;
  name: string;
  provider: string;
}

export interface OfferedModels {
  listen: OfferedModel[];
  think: OfferedModel[];
  speak: OfferedModel[];
}

type Stage = keyof OfferedModels;

/**
 * Models suggested for each cloud provider type, the adapter's default first. The lists drift
 * as vendors add models, and any other model name still goes through as given.
 */
const CLOUD: Record<Stage, Record<string, readonly [id: string, name: string][]>> = {
  listen: {
    deepgram: [['nova-3', 'Deepgram Nova-3'], ['flux-general-en', 'Deepgram Flux (English)'], ['nova-2', 'Deepgram Nova-2']],
    open_ai: [['gpt-4o-mini-transcribe', 'OpenAI GPT-4o mini Transcribe'], ['gpt-4o-transcribe', 'OpenAI GPT-4o Transcribe']],
  },
  think: {
    open_ai: [['gpt-4o-mini', 'GPT-4o mini'], ['gpt-4.1-mini', 'GPT-4.1 mini'], ['gpt-5-mini', 'GPT-5 mini']],
    anthropic: [['claude-haiku-4-5', 'Claude Haiku 4.5'], ['claude-sonnet-4-5', 'Claude Sonnet 4.5']],
    google: [['gemini-2.5-flash', 'Gemini 2.5 Flash'], ['gemini-2.0-flash', 'Gemini 2.0 Flash']],
    groq: [['openai/gpt-oss-20b', 'GPT-OSS 20B on Groq']],
    x_ai: [['grok-3-mini', 'Grok 3 mini']],
    aws_bedrock: [['anthropic.claude-3-5-haiku-20241022-v1:0', 'Claude 3.5 Haiku on Bedrock']],
  },
  speak: {
    deepgram: [['aura-2-thalia-en', 'Aura-2 Thalia'], ['aura-2-andromeda-en', 'Aura-2 Andromeda'], ['aura-2-apollo-en', 'Aura-2 Apollo']],
    open_ai: [['tts-1', 'OpenAI TTS-1'], ['tts-1-hd', 'OpenAI TTS-1 HD']],
    eleven_labs: [['eleven_turbo_v2_5', 'ElevenLabs Turbo v2.5'], ['eleven_multilingual_v2', 'ElevenLabs Multilingual v2']],
    cartesia: [['sonic-2', 'Cartesia Sonic 2']],
    aws_polly: [['Joanna', 'Amazon Polly Joanna']],
  },
};

/**
 * What this server can serve, for the settings discovery endpoints: the local engines present
 * (under their own provider types) and the cloud providers it holds keys for. A cloud type without
 * a key is left out, since a local engine would stand in for it.
 */
export function offeredModels(env: Env): OfferedModels {
  const neural = detectNeuralModels(env);
  const offered: OfferedModels = {
    listen: [{ id: 'pocketsphinx', name: 'PocketSphinx (local)', provider: 'pocketsphinx' }],
    think: [{ id: 'rules', name: 'Rules engine (local)', provider: 'rules' }],
    speak: FLITE_VOICES.map((voice) => ({ id: voice, name: `flite ${voice} (local)`, provider: 'flite' })),
  };
  if (neural.stt !== undefined) offered.listen.unshift({ id: basename(neural.stt), name: `whisper.cpp ${basename(neural.stt)} (local)`, provider: 'whisper' });
  if (neural.llm !== undefined) offered.think.unshift({ id: basename(neural.llm), name: `llama.cpp ${basename(neural.llm)} (local)`, provider: 'llama' });
  if (neural.tts !== undefined) {
    const voice = basename(dirname(neural.tts.model));
    offered.speak.unshift({ id: voice, name: `sherpa-onnx ${voice} (local)`, provider: 'sherpa' });
  }
  for (const stage of ['listen', 'think', 'speak'] as const) {
    for (const [provider, models] of Object.entries(CLOUD[stage])) {
      if (!hasManagedKey(provider, env)) continue;
      for (const [id, name] of models) offered[stage].push({ id, name, provider });
    }
  }
  return offered;
}
