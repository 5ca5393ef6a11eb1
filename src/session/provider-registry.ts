import { ProtocolError } from '../protocol/errors.js';
import type { ProviderKind } from '../core/errors.js';
import type { ListenSettings, SpeakSettings, ThinkSettings } from '../protocol/agent-config.js';
import type { ListenFactory } from '../listen/types.js';
import type { SpeakFactory } from '../speak/types.js';
import type { ThinkFactory } from '../think/types.js';

/**
 * Maps a settings `provider.type` to the factory that builds that provider. One registry per
 * seam (listen, think, speak); engines and cloud providers register themselves at start-up.
 */
export class ProviderRegistry<Settings extends { provider: { type: string } }, Factory> {
  private readonly factories = new Map<string, Factory>();

  constructor(readonly kind: ProviderKind) {}

  register(type: string, factory: Factory): void {
    this.factories.set(type, factory);
  }

  has(type: string): boolean {
    return this.factories.has(type);
  }

  /** Each registered type with its factory, for wrapping one registry's providers into another. */
  entries(): [string, Factory][] {
    return [...this.factories.entries()];
  }

  types(): string[] {
    return [...this.factories.keys()].sort();
  }

  /** The factory for these settings, or INVALID_SETTINGS naming the unknown provider. */
  lookup(settings: Settings): Factory {
    const factory = this.factories.get(settings.provider.type);
    if (factory === undefined) {
      const known = this.types();
      throw new ProtocolError(
        'INVALID_SETTINGS',
        `agent.${this.kind}.provider.type "${settings.provider.type}" is not available on this server` +
          (known.length > 0 ? ` (available: ${known.join(', ')})` : ''),
      );
    }
    return factory;
  }
}

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
