import type { Providers } from '../session/provider-registry.js';
import { createDeepgramListen } from '../listen/cloud/deepgram.js';
import { createOpenAiListen } from '../listen/cloud/openai.js';
import type { TurnDetectorFactory } from '../listen/cloud/turn-detector.js';
import { createCartesiaSpeak } from '../speak/cloud/cartesia.js';
import { createDeepgramSpeak } from '../speak/cloud/deepgram.js';
import { createElevenLabsSpeak } from '../speak/cloud/eleven-labs.js';
import { createOpenAiSpeak } from '../speak/cloud/openai.js';
import { createPollySpeak } from '../speak/cloud/polly.js';
import { createAnthropicThink } from '../think/cloud/anthropic.js';
import { createBedrockThink } from '../think/cloud/bedrock.js';
import { createGoogleThink } from '../think/cloud/google.js';
import { createOpenAiThink } from '../think/cloud/openai.js';

export interface CloudOptions {
  /** Turn detection for `open_ai` listen; the energy detector when absent. */
  turnDetector?: TurnDetectorFactory;
}

/** Registers every cloud and self-hosted (OpenAI-compatible) provider by `provider.type`. */
export function registerCloudProviders(providers: Providers, options: CloudOptions = {}): void {
  providers.think.register('open_ai', createOpenAiThink('open_ai'));
  providers.think.register('groq', createOpenAiThink('groq'));
  providers.think.register('x_ai', createOpenAiThink('x_ai'));
  providers.think.register('anthropic', createAnthropicThink);
  providers.think.register('google', createGoogleThink);
  providers.think.register('aws_bedrock', createBedrockThink);

  providers.speak.register('deepgram', createDeepgramSpeak);
  providers.speak.register('open_ai', createOpenAiSpeak);
  providers.speak.register('eleven_labs', createElevenLabsSpeak);
  providers.speak.register('cartesia', createCartesiaSpeak);
  providers.speak.register('aws_polly', createPollySpeak);

  providers.listen.register('deepgram', createDeepgramListen);
  providers.listen.register('open_ai', createOpenAiListen(options.turnDetector));
}
