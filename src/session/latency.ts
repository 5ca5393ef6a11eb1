import { performance } from 'node:perf_hooks';
import type { LatencyFigures } from '../protocol/server-events.js';

/**
 * Milestones of one agent response (docs/protocol-decisions.md#latency-events-on-every-turn).
 * The reply starts when the tracker is made (the user's turn reached the session); the LLM and
 * TTS figures count from there. `total_latency` counts from the end of the user's speech, as the
 * listener reported it, so it holds endpointing and transcription too (`stt_latency`); a reply to
 * no speech (a greeting, an injection) counts from its own start.
 */
export class LatencyTracker {
  private readonly repliedAt = performance.now();
  private readonly speechEndedAt: number;
  private firstToken?: number;
  private firstText?: number;
  private firstTool?: number;
  private firstThinking?: number;
  private firstSentence?: number;
  private firstAudio?: number;

  /** `speechEnd`: performance.now() at the end of the user's speech this replies to, when there was any. */
  constructor(private readonly speechEnd?: number) {
    // An estimate past now counts as now.
    this.speechEndedAt = Math.min(speechEnd ?? this.repliedAt, this.repliedAt);
  }

  /** Since the reply started. */
  private now(): number {
    return performance.now() - this.repliedAt;
  }

  /** From the end of the speech to the reply's start: endpointing and transcription. */
  private get sttMs(): number {
    return this.repliedAt - this.speechEndedAt;
  }

  token(kind: 'text' | 'tool' | 'thinking'): void {
    const t = this.now();
    this.firstToken ??= t;
    if (kind === 'text') this.firstText ??= t;
    if (kind === 'tool') this.firstTool ??= t;
    if (kind === 'thinking') this.firstThinking ??= t;
  }

  sentence(): void {
    this.firstSentence ??= this.now();
  }

  audio(): void {
    this.firstAudio ??= this.now();
  }

  get hasAudio(): boolean {
    return this.firstAudio !== undefined;
  }

  /** AgentStartedSpeaking's three figures: total from the end of speech, the LLM's and the TTS's shares. */
  startedSpeaking(): { totalMs: number; tttMs: number; ttsMs: number } {
    const audio = this.firstAudio ?? this.now();
    const ttt = Math.min(this.firstSentence ?? audio, audio);
    return { totalMs: this.sttMs + audio, tttMs: ttt, ttsMs: audio - ttt };
  }

  report(): LatencyFigures {
    const figures: LatencyFigures = {};
    if (this.speechEnd !== undefined) figures.sttMs = this.sttMs;
    if (this.firstToken !== undefined) figures.tttTokenMs = this.firstToken;
    if (this.firstText !== undefined) figures.tttTextMs = this.firstText;
    if (this.firstTool !== undefined) figures.tttToolMs = this.firstTool;
    if (this.firstThinking !== undefined) figures.tttThinkingMs = this.firstThinking;
    if (this.firstAudio !== undefined) {
      figures.totalMs = this.sttMs + this.firstAudio;
      const textAt = this.firstText ?? this.firstSentence;
      if (textAt !== undefined) figures.ttsMs = Math.max(0, this.firstAudio - textAt);
    }
    return figures;
  }
}
