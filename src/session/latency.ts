import { performance } from 'node:perf_hooks';
import type { LatencyFigures } from '../protocol/server-events.js';

/** Milestones of one agent response, measured from the end of the user's turn (ms). */
export class LatencyTracker {
  private firstToken?: number;
  private firstText?: number;
  private firstTool?: number;
  private firstThinking?: number;
  private firstSentence?: number;
  private firstAudio?: number;

  constructor(
    private readonly turnEndedAt = performance.now(),
    /** Time from the end of the user's speech to the final transcript, when the listener knows it. */
    private readonly sttMs?: number,
  ) {}

  private now(): number {
    return performance.now() - this.turnEndedAt;
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

  /** AgentStartedSpeaking's three figures. */
  startedSpeaking(): { totalMs: number; tttMs: number; ttsMs: number } {
    const total = this.firstAudio ?? this.now();
    const ttt = this.firstSentence ?? total;
    return { totalMs: total, tttMs: ttt, ttsMs: total - ttt };
  }

  report(): LatencyFigures {
    const figures: LatencyFigures = {};
    if (this.sttMs !== undefined) figures.sttMs = this.sttMs;
    if (this.firstToken !== undefined) figures.tttTokenMs = this.firstToken;
    if (this.firstText !== undefined) figures.tttTextMs = this.firstText;
    if (this.firstTool !== undefined) figures.tttToolMs = this.firstTool;
    if (this.firstThinking !== undefined) figures.tttThinkingMs = this.firstThinking;
    if (this.firstAudio !== undefined) {
      figures.totalMs = this.firstAudio;
      const textAt = this.firstText ?? this.firstSentence;
      if (textAt !== undefined) figures.ttsMs = this.firstAudio - textAt;
    }
    return figures;
  }
}
