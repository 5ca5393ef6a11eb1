import { ProviderRegistry } from './registry.js';
import type { ListenSettings, SpeakSettings, ThinkSettings } from '../protocol/agent-config.js';
import type { ListenFactory } from '../listen/types.js';
import type { SpeakFactory } from '../speak/types.js';
import type { ThinkFactory } from '../think/types.js';

/** The three registries a server resolves session settings against. */
export interface Providers {
  listen: ProviderRegistry<ListenSettings, ListenFactory>;
  think: ProviderRegistry<ThinkSettings, ThinkFactory>;
  speak: ProviderRegistry<SpeakSettings, SpeakFactory>;
}

export function emptyProviders(): Providers {
  return {
    listen: new ProviderRegistry('listen'),
    think: new ProviderRegistry('think'),
    speak: new ProviderRegistry('speak'),
  };
}
