import type { AgentConfig } from '../protocol/agent-config.js';
import { LISTEN_SAMPLE_RATE } from '../listen/types.js';
import type { SessionAudio } from '../session/session.js';
import type { ThinkTier, UsageRecord } from '../store/index.js';
import type { Principal } from './access.js';

/**
 * What one session used, counted as it happens (bytes, turns, tokens: a few additions per frame)
 * and turned into one usage record when it ends (docs/protocol-decisions.md#usage).
 */
export class UsageMeter {
  /** `startedAt`: when the connection opened (a phone call's meter is made at its start message). */
  constructor(readonly startedAt = Date.now()) {}

  /** Decoded samples at the listen rate: seconds whatever the client's encoding. */
  private audioInSamples = 0;
  private audioOutBytes = 0;
  private turns = 0;
  private inputTokens = 0;
  private outputTokens = 0;
  private outputBytesPerMs: number | undefined;
  private thinkTier: ThinkTier = 'operator';

  audioOut(bytes: number): void {
    this.audioOutBytes += bytes;
  }

  turn(): void {
    this.turns++;
  }

  tokens(input: number, output: number): void {
    this.inputTokens += input;
    this.outputTokens += output;
  }

  /** The price tier: a think provider with an `endpoint` of the client's is the client's own LLM. */
  configured(config: AgentConfig): void {
    this.thinkTier = config.think[0]?.endpoint === undefined ? 'operator' : 'client';
  }

  /**
   * The session's audio with its input counted as decoded samples at the listen rate (so seconds
   * do not depend on the client's encoding; early audio counts once decoded), and its output
   * bytes turned into seconds at the encoder's rate.
   */
  measure(audio: SessionAudio): SessionAudio {
    this.outputBytesPerMs = audio.encoder.bytesPerMs;
    const counted = (samples: Int16Array): Int16Array => {
      this.audioInSamples += samples.length;
      return samples;
    };
    return {
      // A decoder may answer later (compressed input): either way the samples count once they exist.
      decode: (bytes) => {
        const decoded = audio.decode(bytes);
        return decoded instanceof Int16Array ? counted(decoded) : decoded.then(counted);
      },
      encoder: audio.encoder,
      clock: audio.clock,
      close: () => audio.close(),
    };
  }

  record(sessionId: string, principal: Principal, endedAt = Date.now()): UsageRecord {
    return {
      sessionId,
      ...(principal.projectId === undefined ? {} : { projectId: principal.projectId }),
      ...(principal.keyId === undefined ? {} : { keyId: principal.keyId }),
      thinkTier: this.thinkTier,
      startedAt: this.startedAt,
      endedAt,
      connectionMs: endedAt - this.startedAt,
      audioInMs: (this.audioInSamples * 1000) / LISTEN_SAMPLE_RATE,
      audioOutMs: this.outputBytesPerMs === undefined || this.outputBytesPerMs === 0 ? 0 : this.audioOutBytes / this.outputBytesPerMs,
      turns: this.turns,
      llmInputTokens: this.inputTokens,
      llmOutputTokens: this.outputTokens,
    };
  }
}
