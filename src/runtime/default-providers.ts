import type { ProviderContext } from '../core/provider-context.js';
import { emptyProviders } from '../session/provider-registry.js';
import type { Providers } from '../session/provider-registry.js';
import type { ProviderRegistry } from '../session/provider-registry.js';
import type { Endpoint, ProviderSettings, ThinkSettings } from '../protocol/agent-config.js';
import { ProtocolError } from '../protocol/errors.js';
import { CATALOGUE } from '../models/catalogue.js';
import type { ModelRole } from '../models/catalogue.js';
import { closeClassicPools } from './classic-pools.js';
import { createLocalListenFactory } from '../listen/pocketsphinx/pocketsphinx-listen.js';
import type { ListenFactory } from '../listen/types.js';
import { canAuthenticate } from '../providers/keys.js';
import { registerCloudProviders } from './cloud-providers.js';
import { createFliteSpeak } from '../speak/flite/flite-speak.js';
import type { SpeakFactory } from '../speak/types.js';
import { createRulesThink, rulesGrammarFor } from '../think/rules/rules-think.js';
import type { ThinkFactory } from '../think/types.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The local engine behind each stage, reported at start-up and in /healthz. */
export interface EngineTiers {
  listen: string;
  think: string;
  speak: string;
}

/** Local engines of the neural tier, present when their model files are. */
export interface NeuralFactories {
  listen?: ListenFactory;
  think?: ThinkFactory;
  speak?: SpeakFactory;
}

export interface DefaultProviders {
  providers: Providers;
  tiers: EngineTiers;
  close(): Promise<void>;
}

/** Aura voices that are male; the rest are female (Deepgram's voice list; docs/protocol-decisions.md#stand-in-warning-is-parleys-own). */
const MALE_AURA = new Set([
  'orion', 'arcas', 'perseus', 'angus', 'orpheus', 'helios', 'zeus', 'apollo', 'aries', 'atlas', 'draco', 'hermes',
  'hyperion', 'janus', 'jupiter', 'mars', 'neptune', 'odysseus', 'pluto', 'saturn', 'sirio', 'nestor', 'alvaro', 'aquila', 'javier',
]);

/** A flite voice of the same gender for an `aura-*` / `aura-2-*` model name. */
export function fliteVoiceForAura(model: string | undefined): 'rms' | 'slt' {
  const name = /^aura-(?:2-)?([a-z]+)-/.exec(model ?? '')?.[1];
  return name !== undefined && !MALE_AURA.has(name) ? 'slt' : 'rms';
}

type Factory<S, P> = (settings: S, context: ProviderContext) => P;

/** A neural engine asked for by name on a server without its model: INVALID_SETTINGS saying how to get it. */
function modelMissing(stage: 'listen' | 'think' | 'speak', type: string, role: ModelRole): () => never {
  const model = CATALOGUE.find((entry) => entry.role === role)?.name ?? '';
  return () => {
    throw new ProtocolError(
      'INVALID_SETTINGS',
      `agent.${stage}.provider.type "${type}" needs a model this server does not have; ` +
        `its operator can download it with \`parley models pull ${model}\` and restart the server`,
    );
  };
}

/**
 * Registers each cloud provider of `cloud` into `into` so that, when neither the client nor the
 * server holds credentials for it, the local engine answers instead and a PROVIDER_SUBSTITUTED
 * warning says so.
 */
function registerStandIns<S extends { provider: ProviderSettings; endpoint?: Endpoint }, P>(
  stage: 'listen' | 'think' | 'speak',
  cloud: ProviderRegistry<S, Factory<S, P>>,
  into: ProviderRegistry<S, Factory<S, P>>,
  local: Factory<S, P>,
  engine: string,
  env: Env,
): void {
  for (const [type, remote] of cloud.entries()) {
    into.register(type, (settings, context) => {
      if (canAuthenticate(settings, env)) return remote(settings, context);
      context.warn({
        code: 'PROVIDER_SUBSTITUTED',
        description: `agent.${stage}.provider.type "${type}" has no credentials on this server; the local ${engine} engine stands in`,
      });
      return local(settings, context);
    });
  }
}

/** The first think settings of the session, if its local stand-in is the rules engine. */
function rulesThinkOf(context: ProviderContext, rulesAnswer: (settings: ThinkSettings) => boolean): ThinkSettings | undefined {
  const think = context.agent?.think[0];
  return think !== undefined && rulesAnswer(think) ? think : undefined;
}

/**
 * Registers every provider a default Parley offers: the local engines under their own types
 * (`local`, `pocketsphinx`, `whisper`, `rules`, `llama`, `flite`, `sherpa`), and the cloud providers
 * under the protocol's names. A cloud provider the server holds no credentials for is stood in
 * for by the best local engine present, with a PROVIDER_SUBSTITUTED warning, so an unmodified
 * Deepgram client gets a working conversation offline.
 */
export function defaultProviders(env: Env, neural: NeuralFactories = {}): DefaultProviders {
  const cloud = emptyProviders();
  registerCloudProviders(cloud);

  const localThink: ThinkFactory = neural.think ?? createRulesThink;
  const localSpeak: SpeakFactory = neural.speak ?? createFliteSpeak;
  const tiers: EngineTiers = {
    listen: neural.listen !== undefined ? 'whisper' : 'pocketsphinx',
    think: neural.think !== undefined ? 'llama' : 'rules',
    speak: neural.speak !== undefined ? 'sherpa' : 'flite',
  };

  const answersWithRules = (think: ThinkSettings): boolean => {
    const type = think.provider.type;
    if (type === 'rules') return true;
    if (type === 'local') return neural.think === undefined;
    return cloud.think.has(type) && !canAuthenticate(think, env) && neural.think === undefined;
  };
  const pocketsphinx: ListenFactory = (settings, context) => {
    const rules = rulesThinkOf(context, answersWithRules);
    const grammar = rules === undefined ? undefined : rulesGrammarFor(rules, context);
    return createLocalListenFactory(grammar === undefined ? {} : { grammar })(settings, context);
  };
  const localListen: ListenFactory = neural.listen ?? pocketsphinx;

  const providers = emptyProviders();
  providers.listen.register('local', localListen);
  providers.listen.register('pocketsphinx', pocketsphinx);
  providers.think.register('rules', createRulesThink);
  providers.think.register('local', localThink);
  providers.speak.register('local', localSpeak);
  providers.speak.register('flite', createFliteSpeak);
  providers.listen.register('whisper', neural.listen ?? modelMissing('listen', 'whisper', 'stt'));
  providers.think.register('llama', neural.think ?? modelMissing('think', 'llama', 'llm'));
  providers.speak.register('sherpa', neural.speak ?? modelMissing('speak', 'sherpa', 'tts'));

  // The speak stand-in keeps the gender of the Aura voice asked for, where flite serves.
  const speakStandIn: SpeakFactory =
    neural.speak ?? ((settings, context) => createFliteSpeak({ provider: { type: 'flite', voice: fliteVoiceForAura(settings.provider.model) } }, context));
  registerStandIns('think', cloud.think, providers.think, localThink, tiers.think, env);
  registerStandIns('speak', cloud.speak, providers.speak, speakStandIn, tiers.speak, env);
  registerStandIns('listen', cloud.listen, providers.listen, localListen, tiers.listen, env);
  return { providers, tiers, close: closeClassicPools };
}
